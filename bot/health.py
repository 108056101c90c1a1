"""What ``GET /healthz`` answers: is the database usable, is Capillary answering.

The database is **unusable** (HTTP 503) when either

- the bot's own connection does not answer ``SELECT 1`` within ``timeout_seconds`` (closed,
  broken, or stuck behind a lock), or
- a fresh connection to the file cannot open it *without creating it* and take the write lock
  (``BEGIN IMMEDIATE``, then rolled back: nothing is written) within ``timeout_seconds``: the
  file or its folder was removed or replaced, it became read-only, or another process has
  held the write lock for that long.

Either way the audit log can't be written, and nothing the bot does would be recorded.

Capillary is never called from here: its status is the circuit breaker's
(:mod:`bot.capillary.breaker`) and the last call the client made. A Capillary outage makes
the bot ``degraded`` (still HTTP 200: lookups fail fast, everything else works), not
unhealthy: restarting the bot would not bring Capillary back.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import aiosqlite

from bot.capillary.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from bot.capillary.client import CallRecord
from bot.logs import describe_error
from bot.storage import MEMORY

__all__ = ["DatabaseProbe", "Health", "LastCall", "capillary_status", "package_version"]

Json = dict[str, Any]


def package_version() -> str:
    try:
        return version("coupon-bot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@dataclass(frozen=True, slots=True)
class LastCall:
    """The most recent HTTP attempt against Capillary, as ``/healthz`` shows it."""

    at: datetime
    endpoint: str
    outcome: str
    code: str | None
    http_status: int | None
    latency_ms: float


class DatabaseProbe:
    """Checks the bot's connection and the file behind it (see the module's docstring)."""

    def __init__(
        self, connection: aiosqlite.Connection, path: Path | str, *, timeout_seconds: float = 2.0
    ):
        self._connection = connection
        self._path = path
        self._timeout = timeout_seconds

    async def problem(self) -> str | None:
        """Why the database is unusable, or None when it is fine."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._connection.execute_fetchall("SELECT 1")
        except TimeoutError:
            return f"the bot's connection did not answer within {self._timeout:g} s"
        except Exception as error:  # closed, broken: whatever it is, it can't be used
            return f"the bot's connection failed: {describe_error(error)}"
        if str(self._path) == MEMORY:
            return None
        try:
            await asyncio.to_thread(_probe_file, Path(self._path), self._timeout)
        except sqlite3.Error as error:
            return f"the database file can't be written: {describe_error(error)}"
        return None


def _probe_file(path: Path, timeout: float) -> None:
    """Open ``path`` read-write (never creating it) and take, then release, the write lock."""
    uri = f"{path.resolve().as_uri()}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    finally:
        connection.close()


class Health:
    """Builds the ``/healthz`` answer; also the Capillary client's observer (last call)."""

    def __init__(
        self,
        database: DatabaseProbe | None,
        breaker: CircuitBreaker | None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._database = database
        self.breaker = breaker
        self._monotonic = monotonic
        self._now = now
        self._started = monotonic()
        self._last_call: LastCall | None = None
        self.version = package_version()

    def capillary_call(self, call: CallRecord) -> None:
        """Observer hook: remember the latest attempt (no I/O)."""
        self._last_call = LastCall(
            at=self._now(),
            endpoint=call.endpoint,
            outcome=call.outcome,
            code=call.code,
            http_status=call.http_status,
            latency_ms=round(call.latency_ms, 1),
        )

    async def report(self) -> tuple[int, Json]:
        """The HTTP status (200, or 503 when the database is unusable) and the JSON body."""
        problem = await self._database.problem() if self._database is not None else None
        database: Json = {"status": "ok"} if problem is None else {"status": "unusable"}
        if problem is not None:
            database["error"] = problem
        snapshot = self.breaker.snapshot() if self.breaker is not None else None
        capillary = capillary_status(snapshot, self._last_call, self._now())
        if problem is not None:
            status = "unavailable"
        else:
            status = "ok" if capillary["status"] == "ok" else "degraded"
        body: Json = {
            "status": status,
            "version": self.version,
            "uptime_s": round(self._monotonic() - self._started, 1),
            "database": database,
            "capillary": capillary,
        }
        return (200 if problem is None else 503), body


def capillary_status(
    snapshot: BreakerSnapshot | None, last: LastCall | None, now: datetime
) -> Json:
    """Capillary as the breaker and the last call saw it: ``ok``, or ``degraded`` since when."""
    status: Json = {"status": "ok"}
    if snapshot is not None:
        status["circuit"] = snapshot.state.value
        status["consecutive_failures"] = snapshot.failures
        if snapshot.state is not BreakerState.CLOSED and snapshot.open_for is not None:
            since = now - timedelta(seconds=snapshot.open_for)
            status["status"] = "degraded"
            status["since"] = since.isoformat(timespec="seconds")
            status["next_probe_in_s"] = round(snapshot.retry_in, 1)
    status["last_call"] = None if last is None else _last_call(last)
    return status


def _last_call(last: LastCall) -> Json:
    return {
        "at": last.at.isoformat(timespec="seconds"),
        "endpoint": last.endpoint,
        "outcome": last.outcome,
        "code": last.code,
        "http_status": last.http_status,
        "latency_ms": last.latency_ms,
    }
