"""The audit log: non-blocking record, one writer, the hash chain, queries, prune."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.audit import (
    GENESIS,
    MAX_LIMIT,
    WHAT_HAPPENED,
    AuditEvent,
    AuditEventKind,
    AuditFilter,
    AuditOutcome,
    AuditRow,
    VerifyResult,
    chain_hash,
)
from bot.capillary.identifiers import CustomerId, parse_customer
from bot.commands import Verb
from bot.storage import AuditLog, open_database
from bot.storage.audit_log import _where

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
Kind = AuditEventKind


def ev(i: int, **fields: object) -> AuditEvent:
    """A distinct event; ``detail`` names it so tests can say which rows came back."""
    values: dict[str, object] = {"detail": f"e{i}", "actor": "U1", "verb": "get"}
    values.update(fields)
    return AuditEvent(Kind.COMMAND, T0 + timedelta(minutes=i), **values)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.sqlite3"


@pytest.fixture
async def log(db_path: Path) -> AsyncIterator[AuditLog]:
    conn = await open_database(db_path)
    try:
        async with AuditLog(conn) as audit:
            yield audit
    finally:
        await conn.close()


async def write(log: AuditLog, events: list[AuditEvent]) -> None:
    for event in events:
        log.record(event)
    await log.flush()


def tamper(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Change the file behind the log's back, as someone with the sqlite3 shell would."""
    raw = sqlite3.connect(path)
    try:
        raw.execute(sql, params)
        raw.commit()
    finally:
        raw.close()


def count_rows(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0])
    finally:
        raw.close()


# --- domain ------------------------------------------------------------------------------


def test_chain_hash_is_pure_and_covers_every_field() -> None:
    event = ev(1)
    assert chain_hash(GENESIS, event) == chain_hash(GENESIS, ev(1))
    assert len(chain_hash(GENESIS, event)) == 64
    assert chain_hash(GENESIS, event) != chain_hash("1" * 64, event)
    assert chain_hash(GENESIS, event) != chain_hash(GENESIS, ev(1, thread_ts="1.2"))


def test_event_time_is_aware_and_kept_in_utc() -> None:
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent(Kind.COMMAND, datetime(2026, 1, 1))
    plus_two = datetime(2026, 1, 1, 12, tzinfo=UTC).astimezone(
        datetime(2026, 1, 1).astimezone().tzinfo
    )
    assert AuditEvent(Kind.COMMAND, plus_two).at.tzinfo is UTC
    assert AuditEvent(Kind.COMMAND, T0, latency_ms=12).latency_ms == 12.0


def test_as_json_masks_the_customer() -> None:
    event = AuditEvent(
        Kind.OUTCOME, T0, customer="919876543210", outcome=AuditOutcome.OK, code="GOOD100"
    )
    row = AuditRow(id=7, hash="h", prev_hash="p", event=event)
    data = row.as_json()
    assert data["customer"] == "••••3210"
    assert data["at"] == "2026-11-01T09:00:00.000000+00:00"
    assert data["event"] == "outcome" and data["outcome"] == "ok" and data["id"] == 7
    required = {
        "id", "at", "event", "actor", "verb", "code", "series_id", "customer", "outcome",
        "capillary_code", "capillary_message", "capillary_request_id", "approval_id",
        "channel", "thread_ts",
    }  # fmt: skip
    assert required <= set(data)
    assert "919876543210" not in str(data)
    email = AuditRow(1, "h", "p", AuditEvent(Kind.COMMAND, T0, customer="riya@example.com"))
    assert email.masked_customer() == "r•••@example.com"


# --- recording ---------------------------------------------------------------------------


async def test_record_does_not_await(log: AuditLog, db_path: Path) -> None:
    assert not inspect.iscoroutinefunction(AuditLog.record)
    assert log.record(ev(1)) is None  # type: ignore[func-returns-value]
    assert count_rows(db_path) == 0  # nothing ran between record and here
    await log.flush()
    assert count_rows(db_path) == 1


async def test_500_concurrent_records_are_all_chained(log: AuditLog, db_path: Path) -> None:
    order: list[str] = []

    async def one(i: int) -> None:
        await asyncio.sleep(0)
        event = ev(i, detail=f"task{i}")
        log.record(event)
        order.append(f"task{i}")

    await asyncio.gather(*(one(i) for i in range(500)))
    await log.flush()
    assert count_rows(db_path) == 500
    rows = await log.query(AuditFilter(limit=MAX_LIMIT))
    assert [r.event.detail for r in reversed(rows)] == order
    result = await log.verify()
    assert (result.ok, result.rows_checked) == (True, 500)


async def test_a_second_log_on_the_same_file_continues_the_chain(db_path: Path) -> None:
    for batch in (range(3), range(3, 5)):
        conn = await open_database(db_path)
        try:
            async with AuditLog(conn) as log:
                await write(log, [ev(i) for i in batch])
        finally:
            await conn.close()
    conn = await open_database(db_path)
    try:
        log = AuditLog(conn)
        rows = list(reversed(await log.query(AuditFilter())))
        assert [r.id for r in rows] == [1, 2, 3, 4, 5]
        assert rows[3].prev_hash == rows[2].hash
        assert (await log.verify()).ok
    finally:
        await conn.close()


async def test_a_locked_database_is_retried_not_dropped(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await open_database(db_path)
    await conn.execute("PRAGMA busy_timeout=20")
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        async with AuditLog(conn) as log:
            blocker.execute("BEGIN IMMEDIATE")
            for i in range(3):
                log.record(ev(i))
            await asyncio.sleep(0.3)
            assert count_rows(db_path) == 0
            assert "retrying" in caplog.text
            blocker.execute("COMMIT")
            await asyncio.wait_for(log.flush(), 5)
            assert count_rows(db_path) == 3
            assert (await log.verify()).ok
    finally:
        blocker.close()
        await conn.close()


async def test_an_unstorable_event_is_dropped_loudly_and_the_rest_kept(
    log: AuditLog, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        await write(log, [ev(1), ev(2, detail="\ud800"), ev(3)])
    assert "DROPPED a command event" in caplog.text
    assert [r.event.detail for r in await log.query(AuditFilter())] == ["e3", "e1"]
    assert (await log.verify()).ok


async def test_lifecycle_errors_are_loud(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    conn = await open_database(db_path)
    try:
        log = AuditLog(conn)
        log.record(ev(1))
        with pytest.raises(RuntimeError, match="start"):
            await log.flush()
        await log.start()
        await log.stop()
        assert count_rows(db_path) == 1  # recorded before start, written by stop
        with caplog.at_level(logging.ERROR, logger="bot.storage.audit_log"):
            log.record(ev(2))  # after stop: dropped loudly, never raised at the caller
        assert "not recorded" in caplog.text
        assert count_rows(db_path) == 1
    finally:
        await conn.close()


# --- verify ------------------------------------------------------------------------------

ALTERATIONS = [
    (1, "actor", "U999"),
    (4, "customer", "919000000000"),
    (4, "at", "2026-11-01T09:03:00.000001+00:00"),
    (5, "event", "approved"),
    (5, "outcome", "ok"),
    (7, "http_status", 500),
    (7, "latency_ms", 1.5),
    (10, "detail", "nothing to see"),
    (6, "prev_hash", GENESIS),
    (6, "hash", GENESIS),
    (3, "code", None),
]


@pytest.mark.parametrize(("row_id", "column", "value"), ALTERATIONS)
async def test_an_altered_row_is_named(
    log: AuditLog, db_path: Path, row_id: int, column: str, value: object
) -> None:
    await write(
        log, [ev(i, code="C", http_status=200, latency_ms=3.0, customer="919") for i in range(10)]
    )
    assert (await log.verify()).ok
    tamper(db_path, f"UPDATE audit_events SET {column} = ? WHERE id = ?", (value, row_id))
    result = await log.verify()
    assert (result.ok, result.first_bad_id) == (False, row_id)
    assert result.reason == f"row {row_id} was altered (its hash doesn't match its contents)"
    assert result.rows_checked == row_id - 1


async def test_a_deleted_middle_row_is_named_by_the_row_after_it(
    log: AuditLog, db_path: Path
) -> None:
    await write(log, [ev(i) for i in range(10)])
    tamper(db_path, "DELETE FROM audit_events WHERE id IN (5, 6)")
    result = await log.verify()
    assert (result.ok, result.first_bad_id) == (False, 7)
    assert result.reason == "rows 5–6 are missing (row 7 names a different previous hash)"


async def test_a_deleted_first_row_is_detected(log: AuditLog, db_path: Path) -> None:
    await write(log, [ev(i) for i in range(3)])
    tamper(db_path, "DELETE FROM audit_events WHERE id = 1")
    result = await log.verify()
    assert (result.ok, result.first_bad_id) == (False, 2)
    assert result.reason == "row 1 is missing (row 2 names a different previous hash)"


async def test_deleting_the_newest_rows_is_detected_by_the_head(
    log: AuditLog, db_path: Path
) -> None:
    await write(log, [ev(i) for i in range(5)])
    tamper(db_path, "DELETE FROM audit_events WHERE id >= 4")
    result = await log.verify()
    assert (result.ok, result.first_bad_id, result.rows_checked) == (False, 4, 3)
    assert result.reason == "rows 4–5 are missing (the log's head names row 5 as newest)"
    # The writer chains from the head, not from the surviving rows: new rows don't hide it.
    await write(log, [ev(9)])
    assert (await log.verify()).first_bad_id == 6


async def test_what_verify_cannot_detect(log: AuditLog, db_path: Path) -> None:
    """Someone who deletes the newest row AND moves the head back leaves a valid, shorter
    chain. Only a copy of the head kept elsewhere (a log line, a Slack post) catches that."""
    await write(log, [ev(i) for i in range(5)])
    raw = sqlite3.connect(db_path)
    previous = raw.execute("SELECT id, hash FROM audit_events WHERE id = 4").fetchone()
    raw.close()
    tamper(db_path, "DELETE FROM audit_events WHERE id = 5")
    tamper(db_path, "UPDATE audit_head SET last_id = ?, last_hash = ?", previous)
    assert (await log.verify()).ok


async def test_a_row_added_behind_the_logs_back_is_named(log: AuditLog, db_path: Path) -> None:
    await write(log, [ev(i) for i in range(3)])
    tamper(
        db_path,
        "INSERT INTO audit_events (at, event, prev_hash, hash) "
        "SELECT at, event, hash, 'x' FROM audit_events WHERE id = 3",
    )
    result = await log.verify()
    assert (result.ok, result.first_bad_id) == (False, 4)


async def test_an_empty_log_verifies(log: AuditLog) -> None:
    assert await log.verify() == VerifyResult(True, 0, None, None)


# --- prune -------------------------------------------------------------------------------


async def test_prune_keeps_the_chain_verifiable(log: AuditLog, db_path: Path) -> None:
    await write(log, [ev(i) for i in range(10)])  # minutes 0..9
    assert await log.prune(T0 + timedelta(minutes=4)) == 4
    assert count_rows(db_path) == 6
    result = await log.verify()
    assert (result.ok, result.rows_checked) == (True, 6)
    tamper(db_path, "DELETE FROM audit_events WHERE id = 5")  # the first row after the anchor
    assert (await log.verify()).first_bad_id == 6


async def test_prune_everything_then_keep_writing(log: AuditLog, db_path: Path) -> None:
    await write(log, [ev(i) for i in range(3)])
    assert await log.prune(T0 + timedelta(days=1)) == 3
    assert await log.prune(T0 + timedelta(days=1)) == 0
    assert (await log.verify()).ok
    await write(log, [ev(5), ev(6)])
    rows = await log.query(AuditFilter())
    assert [r.id for r in rows] == [5, 4]  # ids are never reused
    assert (await log.verify()) == VerifyResult(True, 2, None, None)


async def test_prune_removes_only_a_prefix(log: AuditLog) -> None:
    # Row 2 is older than the cutoff but follows a newer row: it stays, so the chain holds.
    await write(log, [ev(0), ev(10), ev(1), ev(20)])
    assert await log.prune(T0 + timedelta(minutes=5)) == 1
    assert [r.event.detail for r in await log.query(AuditFilter())] == ["e20", "e1", "e10"]
    assert (await log.verify()).ok


# --- query -------------------------------------------------------------------------------

RIYA_MOBILE = parse_customer("+919876543210")
Row = tuple[
    str, str | None, str | None, CustomerId | None, str, str, Kind, AuditOutcome | None, int
]
RIYA_EMAIL = parse_customer("riya@example.com")
DATASET: list[Row] = [
    # detail, code, series, customer, actor, verb, event, outcome, minute
    ("a", "GOOD100", None, RIYA_MOBILE, "U1", "check", Kind.COMMAND, None, 0),
    ("b", "GOOD100", None, RIYA_MOBILE, "U1", "redeem", Kind.APPROVAL_REQUESTED, None, 1),
    ("c", "GOOD100", None, RIYA_MOBILE, "U2", "redeem", Kind.APPROVED, None, 2),
    ("d", "GOOD100", None, RIYA_MOBILE, "U2", "redeem", Kind.OUTCOME, AuditOutcome.OK, 3),
    ("e", "BAD200", None, RIYA_EMAIL, "U1", "check", Kind.OUTCOME, AuditOutcome.FAILED, 4),
    ("f", None, "1001", RIYA_EMAIL, "U3", "issue", Kind.REFUSED, AuditOutcome.REFUSED, 5),
    ("g", None, "1001", RIYA_MOBILE, "U1", "issue", Kind.OUTCOME, AuditOutcome.UNKNOWN, 6),
    ("h", None, "1002", None, "U3", "series", Kind.COMMAND, None, 7),
    ("i", "BAD200", None, RIYA_MOBILE, "U3", "get", Kind.CAPILLARY_CALL, AuditOutcome.OK, 8),
    # The same mobile typed without its country code; an ext id and a card number alike.
    ("j", "GOOD100", None, parse_customer("9876543210"), "U4", "get", Kind.COMMAND, None, 9),
    ("k", None, None, parse_customer("ext:5001"), "U4", "get", Kind.COMMAND, None, 10),
    ("l", None, None, parse_customer("card:5001"), "U4", "get", Kind.COMMAND, None, 11),
]
NEWEST_FIRST = "lkjihgfedcba"


@pytest.fixture
async def known(log: AuditLog) -> AuditLog:
    await write(
        log,
        [
            AuditEvent(
                event,
                T0 + timedelta(days=minute),
                actor=actor,
                verb=verb,
                code=code,
                series_id=series,
                customer_kind=None if customer is None else customer.kind.value,
                customer=None if customer is None else customer.value,
                outcome=outcome,
                detail=detail,
            )
            for detail, code, series, customer, actor, verb, event, outcome, minute in DATASET
        ],
    )
    return log


FILTERS = [
    (AuditFilter(), NEWEST_FIRST),
    (AuditFilter(code="GOOD100"), "jdcba"),
    (AuditFilter(series_id="1001"), "gf"),
    (AuditFilter(customer=RIYA_EMAIL), "fe"),
    # However the number was typed, and however it is asked for: one customer.
    (AuditFilter(customer=RIYA_MOBILE), "jigdcba"),
    (AuditFilter(customer=parse_customer("9876543210")), "jigdcba"),
    (AuditFilter(customer=parse_customer("+1 987 654 3210")), "jigdcba"),
    (AuditFilter(customer=parse_customer("919876543211")), ""),
    # The same value of another kind is another customer.
    (AuditFilter(customer=parse_customer("ext:5001")), "k"),
    (AuditFilter(customer=parse_customer("card:5001")), "l"),
    (AuditFilter(customer=parse_customer("id:5001")), ""),
    (AuditFilter(actor="U3"), "ihf"),
    (AuditFilter(verb="redeem"), "dcb"),
    (AuditFilter(event=Kind.OUTCOME), "ged"),
    # /coupon log: what happened, not each command as received nor each Capillary call.
    (AuditFilter(events=WHAT_HAPPENED), "gfedcb"),
    (AuditFilter(code="GOOD100", events=WHAT_HAPPENED), "dcb"),
    (AuditFilter(events=WHAT_HAPPENED, outcome=AuditOutcome.OK), "d"),
    (AuditFilter(outcome=AuditOutcome.REFUSED), "f"),
    # status= is how commands ended: a call that went well on the way is no "ok".
    (AuditFilter(outcome=AuditOutcome.OK), "d"),
    (AuditFilter(code="BAD200", outcome=AuditOutcome.OK), ""),
    (AuditFilter(since=T0 + timedelta(days=6)), "lkjihg"),
    (AuditFilter(code="GOOD100", actor="U2"), "dc"),
    (AuditFilter(customer=RIYA_MOBILE, verb="issue"), "g"),
    (AuditFilter(code="BAD200", customer=RIYA_MOBILE, actor="U3"), "i"),
    (AuditFilter(code="GOOD100", customer=parse_customer("9876543210"), actor="U4"), "j"),
    (AuditFilter(actor="U1", since=T0 + timedelta(days=1)), "geb"),
    (AuditFilter(code="GOOD100", event=Kind.OUTCOME, outcome=AuditOutcome.OK), "d"),
    (AuditFilter(series_id="1001", actor="U1", outcome=AuditOutcome.UNKNOWN), "g"),
    (AuditFilter(code="GOOD100", customer=RIYA_EMAIL), ""),
    (AuditFilter(code="nothing"), ""),
    (AuditFilter(code="x' OR '1'='1"), ""),
]


@pytest.mark.parametrize(("f", "expected"), FILTERS)
async def test_filters(known: AuditLog, f: AuditFilter, expected: str) -> None:
    rows = await known.query(f)
    assert "".join(r.event.detail or "" for r in rows) == expected


async def test_limit_and_order(known: AuditLog) -> None:
    rows = await known.query(AuditFilter(limit=3))
    assert [r.event.detail for r in rows] == list(NEWEST_FIRST[:3])
    assert [r.id for r in rows] == [12, 11, 10]
    assert await known.query(AuditFilter(limit=0)) == []


async def test_limit_is_capped(log: AuditLog) -> None:
    await write(log, [ev(i) for i in range(MAX_LIMIT + 5)])
    rows = await log.query(AuditFilter(limit=10**6))
    assert len(rows) == MAX_LIMIT
    assert rows[0].id == MAX_LIMIT + 5
    assert await log.query(AuditFilter()) == rows  # no limit asked for: every match, capped


async def test_an_export_has_every_row_page_after_page(log: AuditLog) -> None:
    await write(log, [ev(i) for i in range(2 * MAX_LIMIT + 5)])
    every = await log.query_all(AuditFilter(limit=3))  # an export's limit is every row
    assert [r.id for r in every] == list(range(2 * MAX_LIMIT + 5, 0, -1))
    assert await log.query_all(AuditFilter(code="nothing")) == []


async def test_values_of_the_wrong_type_are_stored_as_their_column_type(log: AuditLog) -> None:
    loose = AuditEvent(
        Kind.COMMAND,
        T0,
        verb=Verb.REDEEM,
        series_id=1001,  # type: ignore[arg-type]
        http_status=True,
        latency_ms=7,
    )
    await write(log, [loose])
    (row,) = await log.query(AuditFilter(verb="redeem", series_id="1001"))
    assert (row.event.verb, row.event.series_id, row.event.http_status) == ("redeem", "1001", 1)
    assert row.as_json()["verb"] == "redeem" and type(row.as_json()["verb"]) is str
    assert (await log.verify()).ok


async def test_rows_read_back_equal_what_was_recorded(log: AuditLog) -> None:
    event = AuditEvent(
        Kind.CAPILLARY_CALL,
        T0,
        actor="U1",
        verb="redeem",
        code="GOOD100",
        customer_kind="mobile",
        customer="919876543210",
        outcome=AuditOutcome.UNKNOWN,
        capillary_endpoint="coupon/redeem",
        capillary_request_id="req-1",
        http_status=504,
        capillary_code="TIMEOUT",
        capillary_message="read timeout",
        latency_ms=10000.25,
        approval_id="A1",
        team="T1",
        channel="C1",
        thread_ts="1700000000.000100",
        detail="x",
    )
    await write(log, [event])
    (row,) = await log.query(AuditFilter())
    assert row.event == event
    assert row.prev_hash == GENESIS
    assert row.hash == chain_hash(GENESIS, event)


@pytest.mark.parametrize(
    ("f", "index"),
    [
        (AuditFilter(customer=RIYA_MOBILE), "audit_events_national"),
        (AuditFilter(customer=RIYA_EMAIL), "audit_events_customer"),
        (AuditFilter(code="GOOD100", customer=RIYA_MOBILE), "audit_events_code"),
    ],
)
async def test_a_customer_search_uses_an_index(log: AuditLog, f: AuditFilter, index: str) -> None:
    # The mobile search's expression must match migration 6's index, or it scans every row.
    clauses, params = _where(f)
    plan = await log._conn.execute_fetchall(  # what SQLite will do
        f"EXPLAIN QUERY PLAN SELECT id FROM audit_events WHERE {' AND '.join(clauses)}", params
    )
    assert f"USING INDEX {index} " in " ".join(str(step[3]) for step in plan)
