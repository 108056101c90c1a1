"""Paths where a customer identifier or a secret could reach a log, each driven for real:
the app over HTTP, its own logging setup (``serve``'s level, text and JSON), the Capillary
sandbox and the Slack emulator."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

import pytest
from conftest import AGENT, RIYA, running_stack

from bot.logs import LIBRARY_FLOORS, configure_logging

LogFormat = Literal["text", "json"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the next tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in LIBRARY_FLOORS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def serve_logging(fmt: LogFormat) -> io.StringIO:
    """The logging ``coupon-bot serve`` sets up (INFO, in ``fmt``), into a buffer."""
    stream = io.StringIO()
    configure_logging(fmt, stream=stream)  # serve's own call: INFO
    return stream


def slash_command_body(text: str) -> bytes:
    """A /coupon command as Slack posts it (with its response_url, a credential of sorts)."""
    return urlencode(
        {
            "token": "verification-token-xyz",
            "command": "/coupon",
            "text": text,
            "user_id": AGENT,
            "channel_id": "C01SUPPORT",
            "response_url": "https://hooks.slack.com/commands/T1/1/secret-response-path",
            "trigger_id": "1.2.trigger",
        }
    ).encode()


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_request_refused_for_its_signature_is_not_logged_with_its_body(
    tmp_path: Path, fmt: LogFormat
) -> None:
    """A stale or mis-signed request (a late retry, a signing secret being rotated) is
    refused with 401; Bolt logged its whole body at INFO, customer and all."""
    stream = serve_logging(fmt)
    async with running_stack(tmp_path) as stack:
        body = slash_command_body(f"redeem GOOD100 {RIYA}")
        stale = stack.slack.sign(body, timestamp=int(time.time()) - 301)
        assert (await stack.slack.post_raw(body, stale)).status_code == 401
        forged = {**stack.slack.sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
        assert (await stack.slack.post_raw(body, forged)).status_code == 401
    logged = stream.getvalue()
    for secret in ("9876543210", "secret-response-path", "verification-token-xyz"):
        assert secret not in logged, logged
    # Still said, once per request, so a wrong SLACK_SIGNING_SECRET can be seen in the log.
    assert logged.count("signature") == 2, logged
