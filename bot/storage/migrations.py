"""Numbered schema migrations, as data. Applied in order, each in its own transaction.

``schema_migrations`` records what a database has. A database that records a migration
newer than this code knows is refused: running old code on it could misread or damage it.
Never edit a released migration; add the next number.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

__all__ = ["MIGRATIONS", "Migration", "MigrationError", "migrate", "schema_version"]


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    sql: str  # one or more statements


class MigrationError(RuntimeError):
    """The database's schema can't be brought to what this code expects."""


_AUDIT_TABLES = """
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after a prune
    at TEXT NOT NULL,                      -- ISO 8601 UTC, fixed width: sorts as text
    event TEXT NOT NULL,
    actor TEXT,
    verb TEXT,
    code TEXT,
    series_id TEXT,
    customer_kind TEXT,
    customer TEXT,
    outcome TEXT,
    capillary_endpoint TEXT,
    capillary_request_id TEXT,
    http_status INTEGER,
    capillary_code TEXT,
    capillary_message TEXT,
    latency_ms REAL,
    approval_id TEXT,
    team TEXT,
    channel TEXT,
    thread_ts TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_pruned_id INTEGER NOT NULL,
    last_pruned_hash TEXT NOT NULL,
    pruned_at TEXT NOT NULL
);
"""

# An index on (x) is an index on (x, rowid): "WHERE x = ? ORDER BY id DESC LIMIT n" walks it
# backwards and stops after n rows, with no sort. No index on ``at``: "since" alone is best
# served by walking ids backwards (newest first), and an ``at`` index tempts the planner to
# fetch the whole window and sort it.
_AUDIT_INDEXES = """
CREATE INDEX audit_events_code ON audit_events (code);
CREATE INDEX audit_events_series_id ON audit_events (series_id);
CREATE INDEX audit_events_customer ON audit_events (customer);
CREATE INDEX audit_events_actor ON audit_events (actor);
"""

# The id and hash of the newest row, written in the same transaction as the rows. Without it,
# deleting the newest rows would leave a shorter chain that still verifies.
_AUDIT_HEAD = """
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash)
    SELECT 1, id, hash FROM audit_events ORDER BY id DESC LIMIT 1;
INSERT INTO audit_head (id, last_id, last_hash)
    SELECT 1, last_pruned_id, last_pruned_hash FROM audit_anchor
    WHERE NOT EXISTS (SELECT 1 FROM audit_head);
"""

# Every issue and redeem, from request to result (bot.approvals). ``customer`` is stored as
# given: the request must be executable after a restart. Times are fixed-width ISO 8601 UTC.
_APPROVALS = """
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    verb TEXT NOT NULL,
    code TEXT,
    series_id TEXT,
    customer_kind TEXT NOT NULL,
    customer TEXT NOT NULL,
    bill_number TEXT,
    bill_amount TEXT,
    validation_code TEXT,
    dedup_key TEXT NOT NULL,
    requester TEXT NOT NULL,
    team TEXT,
    channel TEXT NOT NULL,
    why TEXT,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    thread_ts TEXT,
    card_ts TEXT,
    link TEXT,
    precheck_ok INTEGER,
    precheck TEXT,
    decided_by TEXT,
    decided_by_name TEXT,
    decided_at TEXT,
    note TEXT,
    finished_at TEXT,
    result TEXT
);
CREATE INDEX approvals_dedup ON approvals (dedup_key, state);
CREATE INDEX approvals_state ON approvals (state, expires_at);
CREATE INDEX approvals_channel ON approvals (channel, state);
CREATE INDEX approvals_requester ON approvals (requester, verb, created_at);
CREATE INDEX approvals_decider ON approvals (decided_by, decided_at);
"""

# A mobile number is the same customer with or without its country code: its duplicate key
# holds only the last 10 digits (bot.approvals.dedup_key); rows stored before that follow.
_MOBILE_DEDUP_KEYS = """
UPDATE approvals
SET dedup_key = verb || ':' || (CASE WHEN verb = 'redeem' THEN code ELSE series_id END)
    || ':mobile:' || substr(customer, -10)
WHERE customer_kind = 'mobile';
"""

# The log finds a mobile number however it was typed (``bot.audit.AuditFilter``): by its last
# 10 digits (``NATIONAL_DIGITS``), through this index; the query's expression must read the
# same, ``substr(customer, -10)``, or SQLite won't use it (a test reads the query plan).
# Rows are hash-chained: never rewritten.
_MOBILE_SEARCH = """
CREATE INDEX audit_events_national ON audit_events (substr(customer, -10));
"""

# The same customer typed another way (their email after their mobile) is found through the
# identifiers Capillary echoed once a request was done (bot.approvals.echoed_keys).
_APPROVAL_KEYS = """
CREATE TABLE approval_keys (
    dedup_key TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES approvals (id),
    PRIMARY KEY (dedup_key, request_id)
) WITHOUT ROWID;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "audit tables", _AUDIT_TABLES),
    Migration(2, "audit indexes", _AUDIT_INDEXES),
    Migration(3, "audit head", _AUDIT_HEAD),
    Migration(4, "approvals", _APPROVALS),
    Migration(5, "mobile duplicate keys", _MOBILE_DEDUP_KEYS),
    Migration(6, "mobile search", _MOBILE_SEARCH),
    Migration(7, "echoed customer keys", _APPROVAL_KEYS),
)

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    number INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The highest migration number the database records (0 for a new database)."""
    await conn.execute(_BOOKKEEPING)
    await conn.commit()
    async with conn.execute("SELECT MAX(number) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


async def migrate(
    conn: aiosqlite.Connection, migrations: Sequence[Migration] = MIGRATIONS
) -> list[int]:
    """Apply the migrations the database lacks, in order; return their numbers.

    Raises :class:`MigrationError` when the database is newer than ``migrations``.
    """
    known = max((m.number for m in migrations), default=0)
    version = await schema_version(conn)
    if version > known:
        raise MigrationError(
            f"The database schema is at version {version}, but this coupon-bot only knows "
            f"versions up to {known}: upgrade coupon-bot (or point it at another database)."
        )
    applied = []
    for migration in sorted(migrations, key=lambda m: m.number):
        if await _apply(conn, migration):
            applied.append(migration.number)
    return applied


async def _apply(conn: aiosqlite.Connection, migration: Migration) -> bool:
    # IMMEDIATE takes the write lock first, so two processes starting at once can't both
    # apply the same migration: the second sees it recorded and skips it.
    await conn.execute("BEGIN IMMEDIATE")
    try:
        async with conn.execute(
            "SELECT 1 FROM schema_migrations WHERE number = ?", (migration.number,)
        ) as cursor:
            if await cursor.fetchone() is not None:
                await conn.rollback()
                return False
        for statement in _statements(migration.sql):
            await conn.execute(statement)
        await conn.execute(
            "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
            (migration.number, migration.name, datetime.now(UTC).isoformat()),
        )
        await conn.commit()
    except BaseException:
        await conn.rollback()
        raise
    return True


def _statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (a trigger's body keeps its semicolons)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise MigrationError(f"incomplete SQL statement in a migration: {buffer.strip()[:60]}")
