"""``[audit] retention_days``: older rows are pruned at start and then periodically."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.audit import AuditEvent, AuditEventKind
from bot.retention import prune_periodically
from bot.server import bot_deps
from bot.settings import SANDBOX, BotSettings, CapillarySettings, Settings, SlackSettings
from bot.storage import AuditLog, open_database

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=730)
AGES = [800, 731, 730.5, 729, 1]  # days before NOW; the first three are past retention


def event(at: datetime, name: str) -> AuditEvent:
    return AuditEvent(AuditEventKind.COMMAND, at, actor="U1", verb="get", detail=name)


def details(path: Path) -> list[str]:
    raw = sqlite3.connect(path)
    try:
        return [row[0] for row in raw.execute("SELECT detail FROM audit_events ORDER BY id")]
    finally:
        raw.close()


async def until(condition: Callable[[], bool]) -> None:
    """Wait (5 s at most) for what another task does to a file or the log records."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110  # nothing to wait on: poll
            await asyncio.sleep(0.005)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait([task])
    assert task.cancelled()


def passes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.retention"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.sqlite3"


@pytest.fixture
async def log(db_path: Path) -> AsyncIterator[AuditLog]:
    conn = await open_database(db_path)
    try:
        async with AuditLog(conn) as audit:
            for age in AGES:
                audit.record(event(NOW - timedelta(days=age), f"{age}d"))
            await audit.flush()
            yield audit
    finally:
        await conn.close()


async def test_old_rows_go_new_rows_stay_and_the_chain_verifies(
    log: AuditLog, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.retention")
    task = asyncio.create_task(prune_periodically(log, KEEP, every_seconds=3600, clock=lambda: NOW))
    await until(lambda: len(passes(caplog)) == 1)
    assert details(db_path) == ["729d", "1d"]
    assert (await log.verify()).ok
    assert passes(caplog) == ["audit retention: pruned 3 rows older than 2023-06-02T12:00:00+00:00"]
    assert not task.done()
    await stop(task)


async def test_a_second_pass_prunes_nothing_and_new_rows_chain_on(
    log: AuditLog, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.retention")
    task = asyncio.create_task(prune_periodically(log, KEEP, every_seconds=0.01, clock=lambda: NOW))
    await until(lambda: len(passes(caplog)) >= 2)
    await stop(task)
    assert passes(caplog)[1].startswith("audit retention: pruned 0 rows older than")
    assert details(db_path) == ["729d", "1d"]
    log.record(event(NOW, "now"))
    await log.flush()
    assert details(db_path) == ["729d", "1d", "now"]
    assert (await log.verify()).ok


class FlakyLog:
    """Fails its first prune, then counts; records each cutoff it was given."""

    def __init__(self) -> None:
        self.cutoffs: list[datetime] = []

    async def prune(self, before: datetime) -> int:
        self.cutoffs.append(before)
        if len(self.cutoffs) == 1:
            raise sqlite3.OperationalError("database is locked")
        return 2


async def test_a_failed_prune_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.retention")
    flaky = FlakyLog()
    task = asyncio.create_task(
        prune_periodically(flaky, timedelta(days=30), every_seconds=0.01, clock=lambda: NOW)
    )
    await until(lambda: len(flaky.cutoffs) >= 3)
    assert not task.done()
    await stop(task)
    assert flaky.cutoffs[0] == NOW - timedelta(days=30)
    (failure, *_) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "pruning failed" in failure.getMessage()
    assert failure.exc_info is not None
    assert "pruned 2 rows" in passes(caplog)[1]


async def test_cancel_stops_it_while_it_waits(log: AuditLog) -> None:
    calls = 0

    def clock() -> datetime:
        nonlocal calls
        calls += 1
        return NOW

    task = asyncio.create_task(prune_periodically(log, KEEP, every_seconds=3600, clock=clock))
    await until(lambda: calls == 1)
    await stop(task)
    assert calls == 1


@pytest.mark.parametrize(
    ("keep", "every"), [(timedelta(0), 1.0), (timedelta(days=-1), 1.0), (KEEP, 0.0)]
)
async def test_bad_arguments_are_refused(log: AuditLog, keep: timedelta, every: float) -> None:
    with pytest.raises(ValueError, match="zero"):
        await prune_periodically(log, keep, every_seconds=every)


# --- wired into the bot -------------------------------------------------------------------


def settings(tmp: Path, policy: Path) -> Settings:
    return Settings(
        capillary=CapillarySettings(
            _env_file=None, base_url=SANDBOX, username="sandbox", password=SecretStr("sandbox")
        ),
        slack=SlackSettings(
            _env_file=None,
            bot_token=SecretStr("xoxb-test"),
            signing_secret=SecretStr("secret"),
            api_url="http://127.0.0.1:9/api/",
        ),
        bot=BotSettings(_env_file=None, port=0, policy=policy, database=tmp / "bot.sqlite3"),
    )


class NoGroups:
    async def groups_of(self, user_id: str) -> frozenset[str]:
        return frozenset()


def retention_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "audit-retention"]


@pytest.mark.parametrize("retention", [True, False])
async def test_bot_deps_prunes_with_retention_days_only(tmp_path: Path, retention: bool) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[audit]\nretention_days = 1\n" if retention else "", encoding="utf-8")
    database = tmp_path / "bot.sqlite3"
    now = datetime.now(UTC)
    conn = await open_database(database)
    try:
        async with AuditLog(conn) as audit:
            audit.record(event(now - timedelta(days=3), "old"))
            audit.record(event(now - timedelta(hours=1), "new"))
    finally:
        await conn.close()

    async with bot_deps(settings(tmp_path, policy), groups=NoGroups()) as deps:
        if retention:
            await until(lambda: details(database) == ["new"])
            assert len(retention_tasks()) == 1
        else:
            await asyncio.sleep(0.05)
            assert details(database) == ["old", "new"]
            assert retention_tasks() == []
        assert (await deps.audit.verify()).ok
    assert retention_tasks() == []
