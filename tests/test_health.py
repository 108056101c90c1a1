"""``/healthz``'s checks against a real SQLite file: what makes the database unusable (a closed
connection, the file or its folder gone, the write lock held elsewhere), and Capillary's
status from the circuit breaker and the last call, never from calling Capillary."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from bot.capillary.breaker import BreakerPolicy, CircuitBreaker
from bot.capillary.client import CallRecord
from bot.health import DatabaseProbe, Health, package_version
from bot.storage import MEMORY, open_database

NOW = datetime(2026, 3, 1, 14, 2, 30, tzinfo=UTC)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[aiosqlite.Connection, Path]]:
    path = tmp_path / "data" / "bot.sqlite3"
    connection = await open_database(path)
    yield connection, path
    await connection.close()


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def health_for(
    connection: aiosqlite.Connection | None,
    path: Path | str = MEMORY,
    breaker: CircuitBreaker | None = None,
    clock: Clock | None = None,
) -> Health:
    probe = DatabaseProbe(connection, path, timeout_seconds=0.5) if connection else None
    return Health(probe, breaker, monotonic=clock or Clock(), now=lambda: NOW)


@contextmanager
def write_lock_held_elsewhere(path: Path) -> Iterator[None]:
    """Another process's view: a separate connection holding the write lock."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_working_database_is_ok(database: tuple[aiosqlite.Connection, Path]) -> None:
    connection, path = database
    status, body = await health_for(connection, path).report()
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok"}
    assert body["version"] == package_version() != ""
    assert body["uptime_s"] == 0


async def test_the_probe_writes_nothing(database: tuple[aiosqlite.Connection, Path]) -> None:
    connection, path = database
    before = path.read_bytes()
    for _ in range(3):
        assert (await health_for(connection, path).report())[0] == 200
    assert path.read_bytes() == before


async def test_a_closed_connection_is_unusable(
    database: tuple[aiosqlite.Connection, Path],
) -> None:
    connection, path = database
    await connection.close()
    status, body = await health_for(connection, path).report()
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"]["status"] == "unusable"
    assert body["database"]["error"].startswith("the bot's connection failed")


async def test_a_removed_folder_is_unusable_even_though_the_connection_still_answers(
    database: tuple[aiosqlite.Connection, Path],
) -> None:
    connection, path = database
    shutil.rmtree(path.parent)
    assert await connection.execute_fetchall("SELECT 1") == [(1,)]  # writes to a ghost
    status, body = await health_for(connection, path).report()
    assert status == 503
    assert "can't be written" in body["database"]["error"]
    assert "unable to open database file" in body["database"]["error"]


async def test_a_replaced_file_is_not_created_again_by_the_probe(
    database: tuple[aiosqlite.Connection, Path],
) -> None:
    connection, path = database
    path.unlink()
    assert (await health_for(connection, path).report())[0] == 503
    assert not path.exists()


async def test_a_write_lock_held_elsewhere_is_unusable_until_released(
    database: tuple[aiosqlite.Connection, Path],
) -> None:
    connection, path = database
    health = health_for(connection, path)
    with write_lock_held_elsewhere(path):
        status, body = await health.report()
        assert status == 503
        assert "database is locked" in body["database"]["error"]
    assert (await health.report())[0] == 200


async def test_a_connection_stuck_behind_a_lock_is_unusable(
    database: tuple[aiosqlite.Connection, Path],
) -> None:
    connection, path = database
    with write_lock_held_elsewhere(path):
        # The bot's connection waits (busy_timeout, 5 s) for the lock: it can't answer the
        # probe in time, and the probe says so rather than hanging /healthz.
        waiting = asyncio.ensure_future(connection.execute("BEGIN IMMEDIATE"))
        await asyncio.sleep(0)  # it is queued on the connection before the probe's SELECT 1
        status, body = await health_for(connection, path).report()
    await waiting
    await connection.rollback()
    assert status == 503
    assert body["database"]["error"] == "the bot's connection did not answer within 0.5 s"


async def test_an_in_memory_database_checks_only_the_connection() -> None:
    connection = await open_database(MEMORY)
    try:
        assert (await health_for(connection, MEMORY).report())[0] == 200
    finally:
        await connection.close()
    assert (await health_for(connection, MEMORY).report())[0] == 503


async def test_capillary_ok_with_its_last_call() -> None:
    health = health_for(None, breaker=CircuitBreaker())
    assert (await health.report())[1]["capillary"] == {
        "status": "ok",
        "circuit": "closed",
        "consecutive_failures": 0,
        "last_call": None,
    }
    health.capillary_call(
        CallRecord("/v1.1/coupon/get", "GET", 1, 123.456, 200, "rid-1", "700", "ok")
    )
    status, body = await health.report()
    assert status == 200
    assert body["capillary"]["last_call"] == {
        "at": "2026-03-01T14:02:30+00:00",
        "endpoint": "/v1.1/coupon/get",
        "outcome": "ok",
        "code": "700",
        "http_status": 200,
        "latency_ms": 123.5,
    }


async def test_capillary_degraded_since_the_circuit_opened_and_ok_once_it_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerPolicy(threshold=2, cooldown_seconds=30), clock=clock)
    health = health_for(None, breaker=breaker, clock=clock)
    breaker.failed()
    assert (await health.report())[1]["capillary"]["status"] == "ok"
    breaker.failed()
    clock.now += 12
    status, body = await health.report()
    assert status == 200  # Capillary down is degraded, not unhealthy: a restart won't help
    assert body["status"] == "degraded"
    assert body["uptime_s"] == 12
    assert body["capillary"] == {
        "status": "degraded",
        "circuit": "open",
        "consecutive_failures": 2,
        "since": "2026-03-01T14:02:18+00:00",
        "next_probe_in_s": 18,
        "last_call": None,
    }
    clock.now += 18
    assert (await health.report())[1]["capillary"]["circuit"] == "half_open"
    breaker.succeeded()
    status, body = await health.report()
    assert (status, body["status"], body["capillary"]["status"]) == (200, "ok", "ok")


async def test_an_unusable_database_wins_over_a_degraded_capillary(
    database: tuple[aiosqlite.Connection, Path],
) -> None:
    connection, path = database
    breaker = CircuitBreaker(BreakerPolicy(threshold=1))
    breaker.failed()
    await connection.close()
    status, body = await health_for(connection, path, breaker).report()
    assert (status, body["status"], body["capillary"]["status"]) == (503, "unavailable", "degraded")
