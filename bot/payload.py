"""Reading fields from Slack's payloads without trusting their shape.

Slack always sends the fields the handlers use, but anyone who can reach the URL with a
valid signature (or a bug upstream) can send anything. A missing or odd field makes the
request a no-op after its ack, never an "unexpected error".
"""

from __future__ import annotations

from typing import Any

__all__ = ["field", "mapping", "odd_shape", "text"]


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
