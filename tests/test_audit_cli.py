"""coupon-bot audit: an export without limit= has every row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit import MAX_LIMIT, AuditEvent, AuditEventKind
from bot.audit_cli import run_audit
from bot.storage import AuditLog, open_database


async def test_an_export_without_limit_has_every_row(tmp_path: Path) -> None:
    database = tmp_path / "audit.sqlite3"
    conn = await open_database(database)
    async with AuditLog(conn) as log:
        for i in range(MAX_LIMIT + 500):
            at = datetime(2026, 11, 25, tzinfo=UTC) + timedelta(seconds=i)
            log.record(AuditEvent(AuditEventKind.COMMAND, at, actor="U03AGENT", verb="get"))
        await log.flush()
    await conn.close()

    status, every = await run_audit(database, [], "csv", verify=False)
    assert status == 0 and len(every.splitlines()) == 1 + MAX_LIMIT + 500  # header + rows
    status, some = await run_audit(database, ["limit=5"], "json", verify=False)
    assert status == 0 and len(json.loads(some)) == 5
