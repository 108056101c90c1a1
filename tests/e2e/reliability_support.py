"""Shared by the reliability suite (``test_reliability_*.py``): a running stack that sync
hypothesis tests can drive, a watch on errors, and readers for acks, threads and the audit log.

:class:`LiveStack` serves the real app, the Slack emulator and the Capillary sandbox from an
event loop in a thread of its own, so one stack outlives every hypothesis example of a test
(hypothesis drives sync functions; the stack's loop keeps running between examples).
:class:`ErrorWatch` collects every ERROR log record (the error exit logs each unexpected
failure there, with its correlation id) and every exception the loop saw but nobody handled.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from conftest import SIGNING_SECRET, Stack, running_stack

from bot.blocks.messages import internal_error
from bot.sandbox.slack import Message, SlackDriver

T = TypeVar("T")

#: What the error exit says when something unexpected happened (the correlation id cut off).
INTERNAL_ERROR = internal_error("").split(" If this keeps")[0]
PENDING = "⏳"
AWAITING = "waiting for approval"


# --- errors nobody handled -----------------------------------------------------------------


class ErrorWatch(logging.Handler):
    """Every ERROR record from any logger, and every exception the loop's handler saw."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.records.append(f"{record.name}: {record.getMessage()}\n{trace}")

    def loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        detail = repr(error) if error is not None else ""
        self.records.append(f"event loop: {context.get('message')} {detail}")

    @contextmanager
    def watching(self) -> Iterator[ErrorWatch]:
        root = logging.getLogger()
        root.addHandler(self)
        try:
            yield self
        finally:
            root.removeHandler(self)

    def assert_none(self) -> None:
        assert not self.records, "errors were logged:\n" + "\n".join(self.records[:5])


# --- a stack in a thread of its own ----------------------------------------------------------


class LiveStack:
    """``running_stack`` served from a background thread's event loop until :meth:`close`.

    :meth:`run` hands a coroutine function ``(Stack) -> Coroutine`` to that loop and waits
    for its result in the calling (test) thread.
    """

    def __init__(self, tmp: Path, errors: ErrorWatch, **settings: Any) -> None:
        self.database = tmp / "bot.sqlite3"
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(errors.loop_error)
        self._ready: Future[Stack] = Future()
        self._stop = asyncio.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._serve, args=(tmp, settings), name="live-stack", daemon=True
        )
        self._thread.start()
        self.stack = self._ready.result(timeout=60)

    def _serve(self, tmp: Path, settings: dict[str, Any]) -> None:
        async def main() -> None:
            async with running_stack(tmp, **settings) as stack:
                self._ready.set_result(stack)
                await self._stop.wait()

        try:
            self._loop.run_until_complete(main())
        except BaseException as error:  # handed to the test thread in close()
            self._failure = error
            if not self._ready.done():
                self._ready.set_exception(error)
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def run(self, work: Callable[[Stack], Coroutine[Any, Any, T]], timeout: float = 120) -> T:
        """Run ``work(stack)`` on the stack's loop; its result (or exception) here."""
        future = asyncio.run_coroutine_threadsafe(work(self.stack), self._loop)
        return future.result(timeout=timeout)

    def close(self) -> None:
        """Stop the bot (it drains in-flight work and flushes the audit log), then the rest."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=60)
        if self._failure is not None:
            raise self._failure


@contextmanager
def live_stack(tmp: Path, **settings: Any) -> Iterator[tuple[LiveStack, ErrorWatch]]:
    """A :class:`LiveStack` and the :class:`ErrorWatch` that covers its whole life."""
    with ErrorWatch().watching() as errors:
        live = LiveStack(tmp, errors, **settings)
        try:
            yield live, errors
        finally:
            live.close()


# --- one signed command, with its own driver (acks are read per request) ---------------------


@dataclass(frozen=True, slots=True)
class Ack:
    """What the bot answered to one slash command, straight from the HTTP response."""

    status: int
    body: dict[str, Any] | None  # None: an empty ack (the work continues after it)

    @property
    def text(self) -> str:
        if self.body is None:
            return ""
        return f"{self.body.get('text', '')} {json.dumps(self.body.get('blocks', []))}"


def read_ack(response: httpx.Response) -> Ack:
    if not response.content:
        return Ack(response.status_code, None)
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        return Ack(response.status_code, body if isinstance(body, dict) and body else None)
    return Ack(response.status_code, {"text": response.text})


def driver(stack: Stack) -> SlackDriver:
    """A driver of its own, so concurrent requests don't share ``last_ack_outcome``."""
    return SlackDriver(stack.bot.url, SIGNING_SECRET, stack.emulator, stack.slack._http)


def sign_bytes(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for any bytes (the driver's ``sign`` wants UTF-8)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


_USAGE = ("Usage: `", "/coupon help")
_REFUSALS = (
    "You need the ",
    "Nobody can ",
    "I only work in the support channels",
    "The same issue ",
    "The same redeem ",
    "You've reached your limit",
)


def ack_kind(ack: Ack) -> str:
    """``empty``, ``usage``, ``refusal``, ``help`` or ``pending``; anything else is a finding."""
    if ack.body is None:
        return "empty"
    text = str(ack.body.get("text", ""))
    if INTERNAL_ERROR in text:
        return "internal error"
    if text == "How to use /coupon":
        return "help"
    if text.endswith("waiting for approval") or text.startswith("No requests are waiting"):
        return "pending"
    if text.startswith(_REFUSALS):
        return "refusal"
    if any(marker in text for marker in _USAGE):
        return "usage"
    return "unrecognised"


# --- threads -----------------------------------------------------------------------------------


def settled(stack: Stack, parent: Message) -> bool:
    """The parent has its answer: a final status and a reply (for a request, its card)."""
    current = stack.emulator.state.message(parent.channel, parent.ts) or parent
    replies = stack.replies(current)
    if not replies:
        return False
    return PENDING not in current.text or AWAITING in current.text


def thread_text(stack: Stack, parent: Message) -> str:
    return "\n".join(
        f"{r.text} {json.dumps(r.blocks, ensure_ascii=False)}" for r in stack.replies(parent)
    )


# --- the audit log, read back with the CLI -------------------------------------------------


def audit_rows(database: Path, *filters: str) -> list[dict[str, Any]]:
    """Every row, oldest first (``coupon-bot audit --format json``)."""
    result = _audit(database, "--format", "json", "limit=1000", *filters)
    assert result.returncode == 0, result.stderr
    return list(reversed(json.loads(result.stdout)))


def audit_verifies(database: Path) -> bool:
    result = _audit(database, "--verify")
    return result.returncode == 0 and "Traceback" not in result.stderr


def _audit(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "--database", str(database), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- waiting for the bot's work after its acks ------------------------------------------------


def _after_ack_work() -> list[asyncio.Task[Any]]:
    """The bot's tracked work after acks (``bot.background.Background`` runs each in a task
    whose coroutine is its ``_guarded`` wrapper)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == "Background._guarded"
    ]


async def wait_idle(timeout: float = 30) -> None:  # noqa: ASYNC109
    """Until no work the bot started after an ack is still running (on the stack's loop)."""
    async with asyncio.timeout(timeout):
        await asyncio.sleep(0)
        while busy := _after_ack_work():
            await asyncio.wait(busy)


# --- nothing unaudited ---------------------------------------------------------------------------

#: A parent's final status emoji → the ``outcome`` its audit row must carry.
OUTCOME_OF_STATUS = {"✅": "ok", "❌": "failed", "⚠️": "failed", "❓": "unknown"}
REJECTED = "🚫 rejected"


def assert_every_command_audited(
    database: Path, threads: list[Message], capillary_calls: int
) -> dict[str, list[dict[str, Any]]]:
    """Read back with ``coupon-bot audit``: one ``command`` row per thread (same verb, code,
    series and customer as the thread's other rows); in each thread, ``capillary_call`` rows
    and exactly one ``outcome`` row agreeing with the parent's status (a rejected request:
    its ``rejected`` row instead); no row outside the threads; one ``capillary_call`` row per
    call the sandbox received; a hash chain that verifies. Returns each thread's rows (by
    parent ts, oldest first, without the ``command`` row, which carries no thread)."""
    rows = audit_rows(database)
    commands = [row for row in rows if row["event"] == "command"]
    in_threads: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["event"] != "command":
            in_threads.setdefault(row["thread_ts"], []).append(row)
    assert set(in_threads) == {p.ts for p in threads}, (set(in_threads), threads)
    what = ("actor", "verb", "code", "series_id", "customer")
    asked = Counter(tuple(row[key] for key in what) for row in commands)
    answered = Counter(tuple(found[0][key] for key in what) for found in in_threads.values())
    assert asked == answered, (asked, answered)
    for parent in threads:
        found = in_threads[parent.ts]
        events = [row["event"] for row in found]
        assert "capillary_call" in events, (parent.text, events)
        if parent.text.endswith(REJECTED):  # decided, never run: no outcome
            assert events[-1] == "rejected" and "outcome" not in events, (parent.text, events)
            continue
        assert events.count("outcome") == 1, (parent.text, events)
        (outcome,) = (row for row in found if row["event"] == "outcome")
        status = next(emoji for emoji in OUTCOME_OF_STATUS if parent.text.endswith(emoji))
        assert outcome["outcome"] == OUTCOME_OF_STATUS[status], (parent.text, outcome)
    assert sum(row["event"] == "capillary_call" for row in rows) == capillary_calls
    assert audit_verifies(database)
    return in_threads
