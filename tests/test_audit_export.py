"""Audit rows as table, CSV and JSON (coupon-bot audit's formats, /coupon log's CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from bot.audit import AuditEvent, AuditEventKind, AuditOutcome, AuditRow
from bot.audit_export import COLUMNS, render

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
