"""What the handlers are handed: the one service, the access checks and presentation settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.access import Access
from bot.conversation import Conversation

__all__ = ["Runtime"]


@dataclass(frozen=True, slots=True)
class Runtime:
    access: Access
    conversation: Conversation
    currency: str = "₹"
