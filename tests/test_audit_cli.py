"""coupon-bot audit's output formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit import MAX_LIMIT, AuditEvent, AuditEventKind, AuditOutcome, AuditRow
from bot.audit_cli import COLUMNS, render, run_audit
from bot.storage import AuditLog, open_database

ROW = AuditRow(
    id=7,
    hash="h" * 64,
    prev_hash="p" * 64,
    event=AuditEvent(
        event=AuditEventKind.OUTCOME,
        at=datetime(2026, 11, 25, 14, 2, tzinfo=UTC),
        actor="U03AGENT",
        verb="redeem",
        code="GOOD100",
        customer_kind="mobile",
        customer="919876543210",
        outcome=AuditOutcome.OK,
        capillary_code="700",
        capillary_request_id="req-1",
        channel="C01SUPPORT",
        thread_ts="1732543320.000100",
    ),
)


def test_table_has_a_header_and_masked_customer() -> None:
    header, line = render([ROW], "table").splitlines()
    assert header.split() == list(COLUMNS)
    assert "GOOD100" in line and "••••3210" in line and "919876543210" not in line


def test_empty_table_says_so() -> None:
    assert render([], "table") == "(no audit rows match)"


def test_csv_round_trips() -> None:
    (record,) = csv.DictReader(io.StringIO(render([ROW], "csv")))
    assert record["code"] == "GOOD100" and record["customer"] == "••••3210"
    assert list(record) == list(COLUMNS)


def test_json_has_the_contract_keys() -> None:
    (record,) = json.loads(render([ROW], "json"))
    for key in [
        "id",
        "at",
        "event",
        "actor",
        "verb",
        "code",
        "series_id",
        "customer",
        "outcome",
        "capillary_code",
        "capillary_message",
        "capillary_request_id",
        "approval_id",
        "channel",
        "thread_ts",
    ]:
        assert key in record
    assert record["at"].startswith("2026-11-25T14:02:00")
    assert record["customer"] == "••••3210"


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
