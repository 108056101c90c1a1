"""Reading fields from Slack's payloads without trusting their shape.

Slack always sends the fields the handlers use, but anyone who can reach the URL with a
valid signature (or a bug upstream) can send anything. A missing or odd field makes the
request a no-op after its ack, never an "unexpected error".
"""

from __future__ import annotations

from typing import Any

__all__ = ["field", "mapping", "text"]


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
