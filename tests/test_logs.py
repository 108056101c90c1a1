"""Log lines carry the correlation id of the request they belong to, in text and JSON, also
from work that continues after the ack; the error exit quotes that same id."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import Background
from bot.errors import error_exit
from bot.logs import (
    LIBRARY_FLOORS,
    configure_logging,
    correlation_id,
    current_request,
    describe_error,
    redact,
    request_context,
)
from bot.sandbox.slack import RunningEmulator, running_slack_emulator

log = logging.getLogger("coupon_bot.test")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the next tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = [*LIBRARY_FLOORS, "slack_bolt.AsyncApp"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_an_id_per_request_and_none_outside() -> None:
    assert correlation_id() is None
    with request_context() as first:
        assert correlation_id() == first.correlation_id
        assert re.fullmatch(r"[0-9a-f]{8}", first.correlation_id)
        with request_context("cafe0001"):
            assert correlation_id() == "cafe0001"
        assert correlation_id() == first.correlation_id
    with request_context() as second:
        assert second.correlation_id != first.correlation_id
    assert current_request() is None


@pytest.mark.usefixtures("restore_logging")
def test_text_lines_carry_the_id_or_a_dash() -> None:
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    log.info("outside")
    with request_context("0123abcd"):
        log.info("inside %s", "a request")
    outside, inside = lines(stream)
    assert outside.endswith("INFO coupon_bot.test [-]: outside")
    assert inside.endswith("INFO coupon_bot.test [0123abcd]: inside a request")


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_id_when_there_is_one() -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    log.warning("outside")
    with request_context("0123abcd"):
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("inside")
    outside, inside = (json.loads(line) for line in lines(stream))
    assert "correlation_id" not in outside
    assert inside["correlation_id"] == "0123abcd"
    assert inside["message"] == "inside"
    assert inside["level"] == "error"
    assert "ValueError: boom" in inside["exc"]


@pytest.mark.usefixtures("restore_logging")
async def test_work_after_the_ack_keeps_its_requests_id() -> None:
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    background = Background(yield_to_acks_seconds=0)
    release = asyncio.Event()

    async def after_ack(n: int) -> None:
        await release.wait()  # runs on after its request has been answered
        log.info("work %d done", n)

    async def on_error(error: Exception) -> None:
        raise AssertionError(error)

    for n, correlation in enumerate(("aaaa0001", "bbbb0002")):
        with request_context(correlation):
            background.spawn(after_ack(n), on_error)
    log.info("between requests")
    release.set()
    assert await background.drain(5)
    assert sorted(line.split(" ", 3)[-1] for line in lines(stream)) == [
        "coupon_bot.test [-]: between requests",
        "coupon_bot.test [aaaa0001]: work 0 done",
        "coupon_bot.test [bbbb0002]: work 1 done",
    ]


@pytest.mark.usefixtures("restore_logging")
def test_chatty_libraries_are_held_at_their_floor_even_at_debug() -> None:
    stream = io.StringIO()
    configure_logging("text", logging.DEBUG, stream=stream)
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("slack_sdk.web.async_base_client").getEffectiveLevel() == logging.INFO
    # Bolt gives its loggers the root's level (DEBUG here) when an app is built.
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    bolt.setLevel(logging.DEBUG)
    bolt.debug("ack body: +919876543210")
    bolt.info("bolt info")
    logging.getLogger("httpx").warning("httpx warning")
    logging.getLogger("httpxtra").debug("another library, not held")
    log.debug("ours at debug")
    shown = [line.split(" ", 3)[-1] for line in lines(stream)]
    assert shown == [
        "slack_bolt.AsyncApp [-]: bolt info",
        "httpx [-]: httpx warning",
        "httpxtra [-]: another library, not held",
        "coupon_bot.test [-]: ours at debug",
    ]


@pytest.mark.usefixtures("restore_logging")
def test_bolt_s_token_unused_warning_is_not_logged_at_each_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # serve builds its own Web API client; Bolt also reads SLACK_BOT_TOKEN and warns that it
    # won't use it, on every start. Other warnings from Bolt still show.
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    AsyncApp(client=AsyncWebClient(token="xoxb-from-env"), signing_secret="s")
    logging.getLogger("slack_bolt.AsyncApp").warning("another warning")
    assert [line.split(" ", 3)[-1] for line in lines(stream)] == [
        "slack_bolt.AsyncApp [-]: another warning"
    ]


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with running_slack_emulator() as running:
        yield running


@pytest.mark.usefixtures("restore_logging")
async def test_the_error_exit_quotes_the_requests_id(emulator: RunningEmulator) -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    said: list[dict[str, Any]] = []

    async def respond(**kwargs: Any) -> None:
        said.append(kwargs)

    context = AsyncBoltContext(client=client, user_id="U03AGENT", channel_id="C01SUPPORT")
    context["respond"] = respond
    await context.ack()
    body = {"command": "/coupon", "response_url": "https://hooks.slack.com/x"}
    with request_context("feed0042"):
        await error_exit(RuntimeError("surprise"), body, context, client)
    assert "`feed0042`" in said[0]["text"]
    (entry,) = [json.loads(line) for line in lines(stream)]
    assert entry["correlation_id"] == "feed0042"
    assert "[feed0042]" in entry["message"]


@pytest.mark.parametrize(
    ("said", "logged"),
    [
        (
            "url='wss://wss-primary.slack.com/link/?ticket=0f1e-2d3c&app_id=A0COUPON'",
            "url='wss://wss-primary.slack.com/link/?ticket=[redacted]&app_id=A0COUPON'",
        ),
        (
            "URL('ws://127.0.0.1:9/link/?ticket=abc_DEF-1')",
            "URL('ws://127.0.0.1:9/link/?ticket=[redacted]')",
        ),
        ("token xoxb-123-456-AbC and xapp-1-A0C-2-ff", "token [redacted] and [redacted]"),
        ("a refresh token xoxe.xoxp-1-Mi0y", "a refresh token xoxe.[redacted]"),
        ("token=xoxb-1-2-abc_def.ghi, then", "token=[redacted], then"),  # no tail left
        ('ticket=q1", the 3rd ticket', 'ticket=[redacted]", the 3rd ticket'),
        ("nothing secret: 401 from /api/auth.test", "nothing secret: 401 from /api/auth.test"),
    ],
)
def test_redact_cuts_slack_credentials_out(said: str, logged: str) -> None:
    assert redact(said) == logged


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_credentials_are_cut_from_messages_and_tracebacks(fmt: Literal["text", "json"]) -> None:
    stream = io.StringIO()
    configure_logging(fmt, stream=stream)
    url = "wss://wss-primary.slack.com/link/?ticket=s3cr3t-t1cket&app_id=A0COUPON"
    try:
        raise ConnectionError(f"refused: {url}")
    except ConnectionError as error:
        logging.getLogger("slack_bolt.AsyncApp").exception("Failed to connect (error: %s)", error)
    logged = stream.getvalue()
    assert "s3cr3t-t1cket" not in logged
    assert logged.count("ticket=[redacted]") == 2  # the message, and the traceback's last line
    assert "Traceback" in logged and "Failed to connect" in logged


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (TimeoutError(), "TimeoutError"),
        (ConnectionRefusedError(111, "refused"), "ConnectionRefusedError: [Errno 111] refused"),
    ],
)
def test_describe_error_names_the_type_and_the_message_when_there_is_one(
    error: Exception, line: str
) -> None:
    assert describe_error(error) == line
