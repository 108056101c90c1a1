"""Errors of the Slack emulator and driver.

Exception
├── SlackError        a Web API refusal: becomes {"ok": false, "error": code, ...}
├── InvalidAck        the bot answered a view_submission with something Slack rejects
└── DriverError       a test asked the driver for something no Slack user could do
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DriverError", "InvalidAck", "SlackError"]


class SlackError(Exception):
    """A Slack error code plus the ``response_metadata.messages`` that explain it."""

    def __init__(self, code: str, messages: Sequence[str] = ()) -> None:
        super().__init__(code if not messages else f"{code}: {'; '.join(messages)}")
        self.code = code
        self.messages = list(messages)


class InvalidAck(Exception):
    """The bot's ``view_submission`` ack breaks Slack's rules (the user would see an error)."""


class DriverError(Exception):
    """The requested interaction is impossible (no such button, input or visible message)."""
