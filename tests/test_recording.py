"""The recorder's rows, written through the real audit log (SQLite) and read back by filter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.audit import AuditEventKind, AuditFilter, AuditOutcome
from bot.capillary.catalogue import explain_item
from bot.capillary.identifiers import parse_coupon_code, parse_customer
from bot.capillary.models import IssuedCoupon
from bot.commands import Issue
from bot.recording import Recorder, scene_of
from bot.service import Failed, Issued
from bot.storage import AuditLog, open_database

MOMENT = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
ISSUE = Issue(series_id="1001", customer=parse_customer("+919876543210"))


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[AuditLog]:
    conn = await open_database(tmp_path / "audit.sqlite3")
    try:
        async with AuditLog(conn) as audit:
            yield audit
    finally:
        await conn.close()


def issued(code: str) -> Issued:
    coupon = IssuedCoupon(code=code, series_id="1001", request_id="rid-issue")
    return Issued(ISSUE, coupon)


async def test_an_issue_outcome_is_found_by_the_code_it_issued(log: AuditLog) -> None:
    # Support asks "who issued H6BFKX37?": the code exists only once Capillary answers, so
    # the issue's outcome row is the one that must carry it.
    recorder = Recorder(log, clock=lambda: MOMENT)
    scene = replace(scene_of(ISSUE, "U03AGENT", "C01SUPPORT"), approval_id="A1", thread_ts="1.2")
    recorder.received(scene)
    recorder.outcome(scene, issued("H6BFKX37"))
    await log.flush()

    (row,) = await log.query(AuditFilter(code=parse_coupon_code("h6bfkx37")))
    ended = row.event
    assert ended.event is AuditEventKind.OUTCOME and ended.outcome is AuditOutcome.OK
    assert ended.verb == "issue" and ended.series_id == "1001"  # still an issue from 1001
    assert ended.actor == "U03AGENT" and ended.approval_id == "A1" and ended.thread_ts == "1.2"
    assert ended.capillary_code == "700" and ended.capillary_request_id == "rid-issue"
    (asked,) = await log.query(AuditFilter(event=AuditEventKind.COMMAND))
    assert asked.event.code is None  # as received: no coupon yet
    assert (await log.verify()).ok


async def test_a_code_is_stored_as_codes_are_looked_up_and_a_failed_issue_names_none(
    log: AuditLog,
) -> None:
    recorder = Recorder(log, clock=lambda: MOMENT)
    scene = scene_of(ISSUE, "U03AGENT", "C01SUPPORT")
    recorder.outcome(scene, issued("q7za2k"))  # Capillary ignores case; lookups upper-case
    recorder.outcome(scene, Failed(ISSUE, explain_item(720), request_id="rid-failed"))
    await log.flush()

    (found,) = await log.query(AuditFilter(code=parse_coupon_code("q7za2k")))
    assert found.event.code == "Q7ZA2K"
    (failed,) = await log.query(AuditFilter(outcome=AuditOutcome.FAILED))
    assert failed.event.code is None and failed.event.series_id == "1001"
