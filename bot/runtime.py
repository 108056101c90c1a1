"""What the handlers are handed: the one service, the access checks, background work."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access
from bot.approval_flow import ApprovalFlow
from bot.background import Background
from bot.conversation import Conversation
from bot.errors import error_exit
from bot.recording import Recorder

__all__ = ["Runtime"]


@dataclass(frozen=True, slots=True)
class Runtime:
    access: Access
    conversation: Conversation
    approvals: ApprovalFlow
    client: AsyncWebClient
    recorder: Recorder | None = None
    background: Background = field(default_factory=Background)

    def after_ack(
        self,
        work: Coroutine[Any, Any, object],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Continue ``work`` once the ack is on its way; failures go to the error exit."""

        async def report(error: Exception) -> None:
            await error_exit(error, body, context, client)

        self.background.spawn(work, report)
