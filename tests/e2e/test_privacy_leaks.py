"""Paths where a customer identifier or a secret could reach a log, each driven for real:
the app over HTTP, its own logging setup (``serve``'s level, text and JSON), the Capillary
sandbox and the Slack emulator."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

import pytest
from conftest import AGENT, APP_TOKEN, RIYA, running_stack, socket_mode_settings

from bot.logs import LIBRARY_FLOORS, configure_logging
from bot.sandbox.capillary import running_sandbox
from bot.sandbox.slack import running_slack_emulator
from bot.server import running_socket_mode_bot
from bot.settings import Settings

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


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_refused_socket_mode_handshake_is_logged_without_its_ticket(
    tmp_path: Path, fmt: LogFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the WebSocket handshake fails (a proxy that refuses WebSockets, a URL that
    expired), slack_sdk logs the URL it tried, ``…/link/?ticket=…``, with the traceback:
    the ticket is a credential that opens the app's socket, and stays out of the log."""
    stream = serve_logging(fmt)
    async with running_sandbox() as sandbox, running_slack_emulator() as emulator:
        state, tickets = emulator.state, []
        issue = state.issue_socket_ticket

        def issued() -> str:
            tickets.append(issue())
            return tickets[-1]

        monkeypatch.setattr(state, "issue_socket_ticket", issued)
        monkeypatch.setattr(state, "take_socket_ticket", lambda ticket: False)  # refused
        settings = socket_mode_settings(sandbox.base_url, emulator.api_url, tmp_path)
        connecting = asyncio.create_task(connect_once(settings))
        try:
            await state.wait_for(lambda: "Failed to connect" in stream.getvalue(), timeout=10)
        finally:
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
    logged = stream.getvalue()
    assert tickets and "link/?ticket=" in logged, logged  # the line is there, and its URL
    for secret in (*tickets, APP_TOKEN):
        assert secret not in logged, logged


async def connect_once(settings: Settings) -> None:
    async with running_socket_mode_bot(settings):
        pass
