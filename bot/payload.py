"""Reading fields from Slack's payloads without trusting their shape.

Slack always sends the fields the handlers use, but anyone who can reach the URL with a
valid signature (or a bug upstream) can send anything. A missing or odd field makes the
request a no-op after its ack, never an "unexpected error".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "SlashCommand",
    "error_block_id",
    "field",
    "mapping",
    "odd_shape",
    "slash_command",
    "text",
]


@dataclass(frozen=True, slots=True)
class SlashCommand:
    """What a slash command's payload says: who, where, what was typed."""

    user: str
    channel: str
    text: str = ""
    team: str | None = None
    trigger: str | None = None  # opens a modal, for 3 seconds


def field(data: object, *path: str) -> object:
    """``data[path[0]][path[1]]…``, or None as soon as a step is not an object or missing."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text(data: object, *path: str) -> str | None:
    """The field when it is a non-empty string, else None."""
    value = field(data, *path)
    return value if isinstance(value, str) and value else None


def mapping(data: object, *path: str) -> dict[str, Any] | None:
    """The field when it is an object, else None."""
    value = field(data, *path)
    return value if isinstance(value, dict) else None


def error_block_id(view: object) -> str | None:
    """Where a modal shows an error from ``response_action: errors``: its first input block's
    ``block_id`` (Slack accepts only input blocks there), or None when it has none."""
    blocks = field(view, "blocks")
    for block in blocks if isinstance(blocks, list) else []:
        if text(block, "type") == "input" and (block_id := text(block, "block_id")):
            return block_id
    return None


def odd_shape(body: object) -> str | None:
    """Why an interaction payload is not shaped as Slack sends it (Bolt itself would fail on
    it while matching listeners), or None: ``view`` an object with a ``type`` when present; for
    ``block_actions``, ``actions`` a list of objects with a string ``action_id``."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if "view" in body and text(body, "view", "type") is None:
        return "view is not an object with a type"
    if body.get("type") != "block_actions":
        return None
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "actions is not a list"
    if not all(isinstance(text(action, "action_id"), str) for action in actions):
        return "an action has no action_id"
    return None


def slash_command(body: object) -> SlashCommand | None:
    """The slash command in ``body``; None without its user or channel (Slack sends both)."""
    user, channel = text(body, "user_id"), text(body, "channel_id")
    if user is None or channel is None:
        return None
    typed = str(field(body, "text") or "")
    return SlashCommand(user, channel, typed, text(body, "team_id"), text(body, "trigger_id"))
