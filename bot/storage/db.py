"""Opening the bot's SQLite database: connection settings, then migrations."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.storage.migrations import migrate

__all__ = ["MEMORY", "open_database"]

MEMORY = ":memory:"
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers don't block the writer, nor it them
    "PRAGMA busy_timeout=5000",  # wait for another connection's write lock, don't fail
    "PRAGMA synchronous=NORMAL",  # safe with WAL; a power cut may lose the last commits
    "PRAGMA foreign_keys=ON",
)


async def open_database(path: Path | str) -> aiosqlite.Connection:
    """Connect to ``path`` (creating its folder), configure it and bring its schema up to date.

    Give each long-lived user (the audit log's writer, the approvals store) its own
    connection: a transaction spans several awaits, and statements another task sends on the
    same connection in between would join it.
    """
    if str(path) != MEMORY:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path)
    try:
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        await migrate(conn)
    except BaseException:
        await conn.close()
        raise
    return conn
