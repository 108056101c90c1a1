"""Opening the database and migrating it: pragmas, idempotence, refusal, upgrades."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.audit import (
    EVENT_FIELDS,
    GENESIS,
    AuditEvent,
    AuditEventKind,
    AuditFilter,
    chain_hash,
    event_fields,
)
from bot.storage import (
    MEMORY,
    MIGRATIONS,
    AuditLog,
    Migration,
    MigrationError,
    migrate,
    open_database,
    schema_version,
)

T0 = datetime(2026, 11, 25, 14, 2, tzinfo=UTC)


async def test_open_database_creates_folder_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "bot.sqlite3"
    conn = await open_database(path)
    try:
        assert path.exists()
        expected = {"journal_mode": "wal", "busy_timeout": 5000, "synchronous": 1}
        for pragma, value in expected.items():
            rows = list(await conn.execute_fetchall(f"PRAGMA {pragma}"))
            assert rows[0][0] == value
        rows = list(await conn.execute_fetchall("PRAGMA foreign_keys"))
        assert rows[0][0] == 1
    finally:
        await conn.close()


async def test_memory_database_is_migrated() -> None:
    conn = await open_database(MEMORY)
    try:
        assert await schema_version(conn) == len(MIGRATIONS)
    finally:
        await conn.close()


async def test_migrations_apply_once(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "db.sqlite3") as conn:
        assert await migrate(conn) == [m.number for m in MIGRATIONS]
        assert await migrate(conn) == []
    conn = await open_database(tmp_path / "db.sqlite3")
    try:
        assert await migrate(conn) == []
        rows = list(await conn.execute_fetchall("SELECT number, name FROM schema_migrations"))
        assert [tuple(r) for r in rows] == [(m.number, m.name) for m in MIGRATIONS]
    finally:
        await conn.close()


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    conn = await open_database(path)
    await conn.close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 'x')")
    raw.close()
    with pytest.raises(MigrationError, match=rf"version 99.*up to {len(MIGRATIONS)}"):
        await open_database(path)


async def test_code_that_knows_fewer_migrations_refuses(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "db.sqlite3") as conn:
        await migrate(conn)
        with pytest.raises(MigrationError, match="upgrade coupon-bot"):
            await migrate(conn, MIGRATIONS[:1])


async def test_failed_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    broken = Migration(
        len(MIGRATIONS) + 1,
        "broken",
        "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);",
    )
    async with aiosqlite.connect(tmp_path / "db.sqlite3") as conn:
        with pytest.raises(sqlite3.OperationalError, match="nowhere"):
            await migrate(conn, (*MIGRATIONS, broken))
        assert await schema_version(conn) == len(MIGRATIONS)
        tables = await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE name = 'half'")
        assert list(tables) == []


def _old_code_rows(count: int) -> list[tuple[object, ...]]:
    """Rows as the code at migration 1 would have written them."""
    rows: list[tuple[object, ...]] = []
    prev = GENESIS
    for i in range(count):
        event = AuditEvent(AuditEventKind.COMMAND, T0 + timedelta(minutes=i), code=f"C{i}")
        digest = chain_hash(prev, event)
        rows.append((*event_fields(event).values(), prev, digest))
        prev = digest
    return rows


async def test_upgrade_a_populated_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as conn:
        assert await migrate(conn, MIGRATIONS[:1]) == [1]
        rows = _old_code_rows(5)
        marks = ", ".join("?" * len(rows[0]))
        columns = ", ".join([*EVENT_FIELDS, "prev_hash", "hash"])
        await conn.executemany(f"INSERT INTO audit_events ({columns}) VALUES ({marks})", rows)
        await conn.commit()

    conn = await open_database(path)  # applies the rest
    try:
        assert await schema_version(conn) == len(MIGRATIONS)
        indexes = await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events'"
            " AND name NOT LIKE 'sqlite_%'"
        )
        assert {r[0] for r in indexes} == {
            "audit_events_code",
            "audit_events_series_id",
            "audit_events_customer",
            "audit_events_actor",
            "audit_events_national",
        }
        head = list(await conn.execute_fetchall("SELECT last_id, last_hash FROM audit_head"))
        assert tuple(head[0]) == (5, rows[-1][-1])
        async with AuditLog(conn) as log:
            survivors = await log.query(AuditFilter())
            assert [r.event.code for r in survivors] == [f"C{i}" for i in reversed(range(5))]
            log.record(AuditEvent(AuditEventKind.OUTCOME, T0 + timedelta(hours=1), code="NEW"))
            await log.flush()
            result = await log.verify()
        assert result.ok, result.reason
        assert result.rows_checked == 6
    finally:
        await conn.close()


async def test_upgrade_rekeys_mobile_requests_as_their_last_ten_digits(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as conn:
        assert await migrate(conn, MIGRATIONS[:4]) == [1, 2, 3, 4]
        rows = [
            (
                "R1",
                "redeem",
                "GOOD100",
                None,
                "mobile",
                "919876543210",
                "redeem:GOOD100:mobile:919876543210",
            ),
            ("R2", "issue", None, "1001", "mobile", "9876543210", "issue:1001:mobile:9876543210"),
            ("R3", "issue", None, "1001", "email", "r@x.com", "issue:1001:email:r@x.com"),
        ]
        await conn.executemany(
            "INSERT INTO approvals (id, verb, code, series_id, customer_kind, customer, "
            "dedup_key, requester, channel, state, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'U1', 'C1', 'pending', 't', 't')",
            rows,
        )
        await conn.commit()
    conn = await open_database(path)
    try:
        found = await conn.execute_fetchall("SELECT id, dedup_key FROM approvals ORDER BY id")
        assert [tuple(r) for r in found] == [
            ("R1", "redeem:GOOD100:mobile:9876543210"),
            ("R2", "issue:1001:mobile:9876543210"),
            ("R3", "issue:1001:email:r@x.com"),
        ]
    finally:
        await conn.close()
