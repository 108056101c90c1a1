"""The audit log in SQLite: a non-blocking ``record``, one writer task, queries, verify, prune.

``record`` only queues the event (it runs on the Slack ack path). One writer task takes
everything queued, chains it (each row's ``prev_hash`` is the previous row's ``hash``) and
inserts it in one transaction per batch. One writer means the chain is never forked or
reordered, and concurrent callers never contend for SQLite's write lock.

The chain's head (newest id and hash) is kept in ``audit_head`` and read at the start of each
write transaction, so a second log on the same file (another process, or after a restart)
continues the chain, and deleting the newest rows is detected by :meth:`AuditLog.verify`.

What verify can't detect: someone with write access to the file who rewrites every hash from
the altered row onwards *and* the head. Catching that needs the head published somewhere
they can't write (a log line, a Slack message) and compared later.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import aiosqlite

from bot.audit import (
    EVENT_FIELDS,
    GENESIS,
    MAX_LIMIT,
    AuditEvent,
    AuditEventKind,
    AuditFilter,
    AuditOutcome,
    AuditRow,
    Scalar,
    VerifyResult,
    event_fields,
    format_time,
    hash_fields,
)
from bot.capillary.identifiers import NATIONAL_DIGITS, CustomerId, CustomerKind

__all__ = ["AuditLog"]

_LOG = logging.getLogger(__name__)
_COLUMNS = ", ".join(EVENT_FIELDS)
_SELECT = f"SELECT id, prev_hash, hash, {_COLUMNS} FROM audit_events"
_INSERT = (
    f"INSERT INTO audit_events ({_COLUMNS}, prev_hash, hash) "
    f"VALUES ({', '.join('?' * (len(EVENT_FIELDS) + 2))})"
)
_SET_HEAD = (
    "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash"
)
_SET_ANCHOR = (
    "INSERT INTO audit_anchor (id, last_pruned_id, last_pruned_hash, pruned_at) "
    "VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_pruned_id = excluded.last_pruned_id, "
    "last_pruned_hash = excluded.last_pruned_hash, pruned_at = excluded.pruned_at"
)
# Filters compared for equality; column names in SQL come only from here. The indexed ones,
# most selective first: only the first one given uses its index (``+col`` opts a column out),
# since without statistics SQLite may otherwise walk an actor's thousands of rows for a code.
_INDEXED = ("code", "customer", "series_id", "actor")
_EQUALS = (*_INDEXED, "verb", "event", "outcome")
_MAX_ROWID = 2**63 - 1
_VERIFY_CHUNK = 2000
_FIRST_RETRY_S = 0.05
_MAX_RETRY_S = 5.0
_GIVE_UP_WHEN_STOPPING_S = 30.0


class AuditLog:
    """The audit log over one connection, which it should own (see :func:`open_database`).

    Use as ``async with AuditLog(conn) as log:`` or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, conn: aiosqlite.Connection, *, batch_size: int = 500):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._conn = conn
        self._batch_size = batch_size
        self._queue: asyncio.Queue[AuditEvent | None] = asyncio.Queue()
        self._lock = asyncio.Lock()  # one transaction at a time on the connection
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._finished = False
        self._recorded = 0
        self._done = 0  # recorded events the writer has finished with, in order
        self._progress = asyncio.Event()

    async def __aenter__(self) -> AuditLog:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the writer. Events recorded before this are written once it runs."""
        if self._task is not None:
            raise RuntimeError("the audit log is already started")
        self._task = asyncio.create_task(self._run(), name="audit-log-writer")

    async def stop(self) -> None:
        """Write everything recorded so far, then end the writer."""
        if self._task is None or self._stopping:
            return
        self._stopping = True
        self._queue.put_nowait(None)  # the writer ends when it reaches this
        await self._task

    def record(self, event: AuditEvent) -> None:
        """Queue ``event`` for the writer. Never waits: safe on the Slack ack path."""
        if self._stopping:
            # Work that outlived the shutdown drain: say so loudly, but never turn it
            # (a redeem Capillary already did, say) into an error.
            _LOG.error("audit log stopped: %s event from %s not recorded", event.event, event.actor)
            return
        self._queue.put_nowait(event)
        self._recorded += 1

    async def flush(self) -> None:
        """Return once every event recorded before this call is committed."""
        target = self._recorded
        while self._done < target:
            if self._task is None or self._finished:
                raise RuntimeError("the audit log's writer is not running: call start() first")
            await self._progress.wait()

    async def query(self, f: AuditFilter) -> list[AuditRow]:
        """Rows matching every filter set in ``f``, newest first, at most ``f.limit`` (every
        match when it is None) and never more than ``MAX_LIMIT``."""
        limit = MAX_LIMIT if f.limit is None else min(max(f.limit, 0), MAX_LIMIT)
        return await self._page(f, limit)

    async def query_all(self, f: AuditFilter) -> list[AuditRow]:
        """Every row matching ``f`` (its ``limit`` aside), newest first: an export. Read a
        page of ``MAX_LIMIT`` at a time, so a long export never holds the writer up."""
        found: list[AuditRow] = []
        while page := await self._page(f, MAX_LIMIT, below=found[-1].id if found else None):
            found += page
        return found

    async def _page(self, f: AuditFilter, limit: int, below: int | None = None) -> list[AuditRow]:
        clauses, params = _where(f)
        if below is not None:
            clauses.append("id < ?")
            params.append(below)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"{_SELECT}{where} ORDER BY id DESC LIMIT ?"
        async with self._lock:
            rows = await self._conn.execute_fetchall(sql, (*params, limit))
        return [_to_row(row) for row in rows]

    async def verify(self) -> VerifyResult:
        """Walk the chain from the prune anchor (or the start) and name the first bad row."""
        async with self._lock:
            await self._conn.execute("BEGIN")  # one snapshot: anchor, rows and head agree
            try:
                return await self._walk()
            finally:
                await self._conn.rollback()

    async def prune(self, before: datetime) -> int:
        """Delete the oldest rows, up to the first one at or after ``before``; return how many.

        Only a prefix of the chain is removed (a row older than ``before`` that follows a newer
        one stays until the rows before it go), and the last removed row's id and hash are kept
        in ``audit_anchor``, so :meth:`verify` still checks the rows that remain.
        """
        cutoff = format_time(before)
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                count = await self._prune(cutoff)
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise
        return count

    # --- the writer --------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                batch, last = await self._take()
                if batch:
                    await self._write(batch)
                self._done += len(batch)
                self._wake()
                if last:
                    return
        finally:
            self._finished = True
            self._wake()

    def _wake(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    async def _take(self) -> tuple[list[AuditEvent], bool]:
        """Everything queued, up to one batch; True when the stop marker was reached."""
        item = await self._queue.get()
        batch: list[AuditEvent] = []
        while item is not None:
            batch.append(item)
            if len(batch) >= self._batch_size or self._queue.empty():
                return batch, False
            item = self._queue.get_nowait()
        return batch, True

    async def _write(self, batch: Sequence[AuditEvent]) -> None:
        """Store ``batch``, retrying while SQLite is busy or failing; never drops silently."""
        delay, waited = _FIRST_RETRY_S, 0.0
        while True:
            try:
                await self._insert(batch)
                return
            except sqlite3.OperationalError:  # locked, I/O error, disk full: may pass
                if self._stopping and waited >= _GIVE_UP_WHEN_STOPPING_S:
                    # Shutting down and still failing: a stop that never ends loses more
                    # (the process gets killed); say exactly what is lost.
                    _LOG.critical("audit log: %d events NOT written at shutdown", len(batch))
                    return
                _LOG.exception(
                    "audit log: writing %d events failed; retrying in %.2fs", len(batch), delay
                )
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, _MAX_RETRY_S)
            except Exception:  # some event can't be stored as it is: store the others
                if len(batch) == 1:
                    _LOG.exception(
                        "audit log: DROPPED a %s event at %s that can't be stored",
                        batch[0].event.value,
                        format_time(batch[0].at),
                    )
                    return
                for event in batch:
                    await self._write([event])
                return

    async def _insert(self, batch: Sequence[AuditEvent]) -> None:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                prev = await self._head_hash()
                rows = []
                for event in batch:
                    values = event_fields(event)
                    digest = hash_fields(prev, values)
                    rows.append((*values.values(), prev, digest))
                    prev = digest
                await self._conn.executemany(_INSERT, rows)
                last_id = await self._scalar("SELECT last_insert_rowid()")
                await self._conn.execute(_SET_HEAD, (last_id, prev))
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise

    async def _head_hash(self) -> str:
        head = await self._scalar("SELECT last_hash FROM audit_head WHERE id = 1")
        if head is None:  # nothing written yet, or (after a full prune) only the anchor
            head = await self._scalar("SELECT last_pruned_hash FROM audit_anchor WHERE id = 1")
        return str(head) if head is not None else GENESIS

    # --- verify and prune --------------------------------------------------------------

    async def _walk(self) -> VerifyResult:
        anchor = await self._one("SELECT last_pruned_id, last_pruned_hash FROM audit_anchor")
        head = await self._one("SELECT last_id, last_hash FROM audit_head")
        prev_id: int | None = anchor[0] if anchor else None
        prev_hash: str = anchor[1] if anchor else GENESIS
        checked = 0
        after_head: int | None = None  # the first row newer than the head, if any
        async with self._conn.execute(f"{_SELECT} ORDER BY id") as cursor:
            while rows := await cursor.fetchmany(_VERIFY_CHUNK):
                for row in rows:
                    problem = _check(row, prev_id, prev_hash)
                    if problem is not None:
                        return VerifyResult(False, checked, int(row[0]), problem)
                    checked += 1
                    prev_id, prev_hash = int(row[0]), str(row[2])
                    if head is not None and after_head is None and prev_id > head[0]:
                        after_head = prev_id
        return _check_head(head, prev_id, prev_hash, checked, after_head)

    async def _prune(self, cutoff: str) -> int:
        first_kept = await self._scalar(
            "SELECT id FROM audit_events WHERE at >= ? ORDER BY id LIMIT 1", (cutoff,)
        )
        bound = _MAX_ROWID if first_kept is None else int(first_kept)
        last = await self._one(
            "SELECT id, hash FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT 1", (bound,)
        )
        if last is None:
            return 0
        cursor = await self._conn.execute("DELETE FROM audit_events WHERE id <= ?", (last[0],))
        await self._conn.execute(_SET_ANCHOR, (last[0], last[1], format_time(datetime.now(UTC))))
        return cursor.rowcount

    # --- small helpers -----------------------------------------------------------------

    async def _one(self, sql: str, params: Sequence[Scalar] = ()) -> Any:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _scalar(self, sql: str, params: Sequence[Scalar] = ()) -> Any:
        row = await self._one(sql, params)
        return None if row is None else row[0]


def _where(f: AuditFilter) -> tuple[list[str], list[Scalar]]:
    clauses: list[str] = []
    params: list[Scalar] = []
    indexed = False
    for name in _EQUALS:
        value = getattr(f, name)
        if value is not None:
            opt_out = indexed and name in _INDEXED  # one index leads; "+x" keeps x off others
            indexed = indexed or name in _INDEXED
            column = f"+{name}" if opt_out else name
            if isinstance(value, CustomerId):
                clauses.append(_customer_clause(value, column))
                params += [value.kind.value, value.key]
            else:
                clauses.append(f"{column} = ?")
                params.append(str(value))
    if f.events is not None:
        kinds = sorted(kind.value for kind in f.events)
        clauses.append(f"event IN ({', '.join('?' * len(kinds))})")
        params += kinds
    if f.outcome is not None:  # how commands ended, not how each call on the way went
        clauses.append("event IN (?, ?)")
        params += [AuditEventKind.OUTCOME.value, AuditEventKind.REFUSED.value]
    if f.since is not None:
        clauses.append("at >= ?")
        params.append(format_time(f.since))
    return clauses, params


def _customer_clause(customer: CustomerId, column: str) -> str:
    """A customer's rows: a mobile by its last digits, as typed with or without the country
    code (the ``audit_events_national`` index), any other kind by its value."""
    if customer.kind is CustomerKind.MOBILE:
        return f"customer_kind = ? AND substr({column}, -{NATIONAL_DIGITS}) = ?"
    return f"customer_kind = ? AND {column} = ?"


def _to_row(row: Any) -> AuditRow:
    values: dict[str, Any] = dict(zip(EVENT_FIELDS, row[3:], strict=True))
    values["at"] = datetime.fromisoformat(values["at"])
    values["event"] = AuditEventKind(values["event"])
    if values["outcome"] is not None:
        values["outcome"] = AuditOutcome(values["outcome"])
    return AuditRow(
        id=int(row[0]), prev_hash=str(row[1]), hash=str(row[2]), event=AuditEvent(**values)
    )


def _check(row: Any, prev_id: int | None, prev_hash: str) -> str | None:
    """Why this row breaks the chain, or None. Its own hash first: an edited row is 'altered'."""
    row_id, stored_prev, stored_hash = int(row[0]), row[1], row[2]
    values = dict(zip(EVENT_FIELDS, row[3:], strict=True))
    try:
        intact = isinstance(stored_prev, str) and hash_fields(stored_prev, values) == stored_hash
    except (TypeError, ValueError):  # a value no event could hold (a blob, infinity)
        intact = False
    if not intact:
        return f"row {row_id} was altered (its hash doesn't match its contents)"
    if stored_prev == prev_hash:
        return None
    first_missing = 1 if prev_id is None else prev_id + 1
    if row_id > first_missing:
        rows = _span(first_missing, row_id - 1)
        return f"{rows} missing (row {row_id} names a different previous hash)"
    after = "the start of the log" if prev_id is None else f"row {prev_id}"
    return f"row {row_id} does not follow {after} (it names a different previous hash)"


def _check_head(
    head: Any, last_id: int | None, last_hash: str, checked: int, after_head: int | None
) -> VerifyResult:
    if head is None:
        if last_id is None:
            return VerifyResult(True, checked, None, None)
        return VerifyResult(False, checked, None, "the log's head record (audit_head) is missing")
    head_id, head_hash = int(head[0]), str(head[1])
    if (head_id, head_hash) == (last_id, last_hash):
        return VerifyResult(True, checked, None, None)
    if last_id is None or head_id > last_id:
        first = 1 if last_id is None else last_id + 1
        reason = f"{_span(first, head_id)} missing (the log's head names row {head_id} as newest)"
        return VerifyResult(False, checked, first, reason)
    if after_head is not None:
        reason = f"row {after_head} was not written by the log (its head names row {head_id})"
        return VerifyResult(False, checked, after_head, reason)
    reason = f"row {head_id} was replaced (its hash differs from the log's head)"
    return VerifyResult(False, checked, head_id, reason)


def _span(first: int, last: int) -> str:
    return f"row {first} is" if first == last else f"rows {first}–{last} are"
