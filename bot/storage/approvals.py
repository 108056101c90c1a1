"""Approval requests in SQLite: opened atomically, moved along by compare-and-set.

Every state change is ``UPDATE … WHERE id = ? AND state = <expected>``: of any number of
concurrent or repeated attempts (in this process or another on the same file) exactly one
changes the row, and only that one goes on. Opening a request checks for duplicates and the
daily limit and inserts in one ``BEGIN IMMEDIATE`` transaction, so two identical requests
arriving together can't both get in.

Give the store a connection of its own (see :func:`bot.storage.db.open_database`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiosqlite

from bot.approvals import (
    DUPLICATE_WINDOW,
    LIMIT_WINDOW,
    LIVE,
    PreCheck,
    Request,
    State,
    Why,
    dedup_key,
)
from bot.audit import format_time
from bot.capillary.identifiers import CustomerId, CustomerKind
from bot.commands import Issue, Redeem, Verb

__all__ = ["ApprovalStore", "Duplicate", "Opened", "OverLimit"]

_COLUMNS = (
    "id, verb, code, series_id, customer_kind, customer, bill_number, bill_amount, "
    "validation_code, dedup_key, requester, team, channel, why, state, created_at, expires_at, "
    "thread_ts, card_ts, link, precheck_ok, precheck, decided_by, decided_by_name, decided_at, "
    "note, finished_at, result"
)
_SELECT = f"SELECT {_COLUMNS} FROM approvals"
#: States a request counts against the daily limit in: it ran, or may still run.
_COUNTED = (
    State.PENDING,
    State.APPROVED,
    State.EXECUTING,
    State.DONE,
    State.UNKNOWN,
)
#: A pending request past its time counts as expired, even before an expiry round marks it.
_NOT_TIMED_OUT = "NOT (state = 'pending' AND expires_at <= ?)"
#: Finished states within :data:`DUPLICATE_WINDOW` that make a new request a duplicate.
_RECENTLY = (State.DONE, State.UNKNOWN)
#: Its own key, or one Capillary's echo of its customer gave it (two parameters: the key).
_SAME_KEY = "(dedup_key = ? OR id IN (SELECT request_id FROM approval_keys WHERE dedup_key = ?))"
#: Ran, or may have, within the window (parameters: the states, then the window's start).
_RECENT_SUCCESS = f"(state IN ({', '.join('?' * len(_RECENTLY))}) AND finished_at >= ?)"


@dataclass(frozen=True, slots=True)
class Opened:
    request: Request


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The same request is already live, or succeeded moments ago: ``first`` is that one."""

    first: Request


@dataclass(frozen=True, slots=True)
class OverLimit:
    used: int
    limit: int


class ApprovalStore:
    """Approval requests over one connection that the store owns."""

    def __init__(self, conn: aiosqlite.Connection):
        self._conn = conn
        self._lock = asyncio.Lock()  # one transaction at a time on the connection
        #: Requests waiting for a decision, as of this store's last change (for metrics).
        self.pending = 0

    async def open(self, request: Request, *, limit: int | None) -> Opened | Duplicate | OverLimit:
        """Store a new request unless it duplicates a live or recent one, or is over ``limit``
        (the requester's cap on this verb over the last 24 hours)."""
        now = request.created_at
        key = dedup_key(request.command)
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                first = await self._duplicate_of(key, now)
                if first is not None:
                    await self._conn.rollback()
                    return Duplicate(first)
                if limit is not None:
                    used = await self._used(request.requester, request.verb, now)
                    if used >= limit:
                        await self._conn.rollback()
                        return OverLimit(used, limit)
                row = _to_row(request)
                await self._conn.execute(
                    f"INSERT INTO approvals ({_COLUMNS}) VALUES ({', '.join('?' * len(row))})",
                    row,
                )
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise
        await self.recount()
        return Opened(request)

    async def get(self, request_id: str) -> Request | None:
        rows = await self._fetch(f"{_SELECT} WHERE id = ?", (request_id,))
        return rows[0] if rows else None

    async def used(self, requester: str, verb: Verb, now: datetime) -> int:
        """How many of ``verb`` the requester asked for over the last 24 hours (that count)."""
        async with self._lock:
            return await self._used(requester, verb, now)

    # --- where it is shown ---------------------------------------------------------------

    async def attach(self, request_id: str, **values: str | None) -> Request:
        """Record where the request shows in Slack: ``thread_ts``, ``card_ts``, ``link``."""
        allowed = {"thread_ts", "card_ts", "link"}
        if not values or not set(values) <= allowed:
            raise ValueError(f"attach takes {sorted(allowed)}, got {sorted(values)}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        await self._execute(
            f"UPDATE approvals SET {assignments} WHERE id = ?", (*values.values(), request_id)
        )
        return await self._require(request_id)

    async def set_precheck(self, request_id: str, precheck: PreCheck) -> Request:
        ok = None if precheck.ok is None else int(precheck.ok)
        await self._execute(
            "UPDATE approvals SET precheck_ok = ?, precheck = ? WHERE id = ?",
            (ok, precheck.summary, request_id),
        )
        return await self._require(request_id)

    # --- compare-and-set transitions -----------------------------------------------------

    async def decide(
        self,
        request_id: str,
        to: State,
        *,
        by: str,
        by_name: str | None,
        at: datetime,
        note: str | None,
    ) -> Request | None:
        """pending → approved / rejected, if still pending and not expired. The request as
        decided, or None when someone else decided first (or it expired)."""
        if to not in (State.APPROVED, State.REJECTED):
            raise ValueError(f"a decision approves or rejects, not {to}")
        changed = await self._execute(
            "UPDATE approvals SET state = ?, decided_by = ?, decided_by_name = ?, "
            "decided_at = ?, note = ? WHERE id = ? AND state = ? AND expires_at > ?",
            (to, by, by_name, format_time(at), note, request_id, State.PENDING, format_time(at)),
        )
        if changed:
            await self.recount()
        return await self._require(request_id) if changed else None

    async def start(self, request_id: str) -> Request | None:
        """approved → executing: None unless this call made the change (then, and only
        then, may the caller call Capillary)."""
        changed = await self._execute(
            "UPDATE approvals SET state = ? WHERE id = ? AND state = ?",
            (State.EXECUTING, request_id, State.APPROVED),
        )
        return await self._require(request_id) if changed else None

    async def finish(
        self,
        request_id: str,
        to: State,
        *,
        at: datetime,
        result: str,
        expected: State,
        also_known_as: frozenset[str] = frozenset(),
    ) -> Request | None:
        """executing → done / failed / unknown (``expected`` is EXECUTING), or a request
        stranded before its call (found at startup, or whose thread couldn't be posted);
        None if it was not in ``expected``. ``also_known_as``: more duplicate keys for it
        (the customer as Capillary echoed them, :func:`bot.approvals.echoed_keys`)."""
        if to not in (State.DONE, State.FAILED, State.UNKNOWN):
            raise ValueError(f"a request finishes done, failed or unknown, not {to}")
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")  # the state and its keys, or neither
            try:
                cursor = await self._conn.execute(
                    "UPDATE approvals SET state = ?, finished_at = ?, result = ? "
                    "WHERE id = ? AND state = ?",
                    (to, format_time(at), result, request_id, expected),
                )
                changed = cursor.rowcount
                if changed and also_known_as:
                    await self._conn.executemany(
                        "INSERT OR IGNORE INTO approval_keys (dedup_key, request_id) VALUES (?, ?)",
                        [(key, request_id) for key in sorted(also_known_as)],
                    )
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise
        if changed and expected is State.PENDING:  # one never started: no longer pending
            await self.recount()
        return await self._require(request_id) if changed else None

    async def done_for(self, request: Request, now: datetime) -> Request | None:
        """Another request for the same thing that succeeded (or may have) within
        :data:`DUPLICATE_WINDOW`, its customer typed the same way or echoed by Capillary as
        this one's: checked again just before a request runs, since one opened while the
        other waited could not be matched then."""
        key = dedup_key(request.command)
        async with self._lock:
            rows = await self._rows(
                f"{_SELECT} WHERE id != ? AND {_SAME_KEY} AND {_RECENT_SUCCESS} "
                "ORDER BY finished_at LIMIT 1",
                (request.id, key, key, *_RECENTLY, format_time(now - DUPLICATE_WINDOW)),
            )
        return rows[0] if rows else None

    async def expire_due(self, now: datetime) -> list[Request]:
        """pending → expired for every request past its time; the ones this call expired."""
        stamp = format_time(now)
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                due = await self._rows(
                    f"{_SELECT} WHERE state = ? AND expires_at <= ?", (State.PENDING, stamp)
                )
                if due:
                    await self._conn.execute(
                        "UPDATE approvals SET state = ?, finished_at = ? "
                        "WHERE state = ? AND expires_at <= ?",
                        (State.EXPIRED, stamp, State.PENDING, stamp),
                    )
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise
        if due:
            await self.recount()
        return [replace(r, state=State.EXPIRED, finished_at=now) for r in due]

    # --- lists ---------------------------------------------------------------------------

    async def in_state(self, *states: State) -> list[Request]:
        """Every request in one of ``states``, oldest first (startup recovery)."""
        marks = ", ".join("?" * len(states))
        return await self._fetch(
            f"{_SELECT} WHERE state IN ({marks}) ORDER BY created_at", tuple(states)
        )

    async def pending_in(self, channel: str, now: datetime, limit: int = 50) -> list[Request]:
        """Open requests in a channel, oldest first (the ones waiting longest)."""
        return await self._fetch(
            f"{_SELECT} WHERE channel = ? AND state = ? AND expires_at > ? "
            "ORDER BY created_at LIMIT ?",
            (channel, State.PENDING, format_time(now), limit),
        )

    async def pending_for(self, user: str, now: datetime, limit: int = 50) -> list[Request]:
        """Open requests someone other than ``user`` asked for, oldest first (App Home)."""
        return await self._fetch(
            f"{_SELECT} WHERE state = ? AND expires_at > ? AND requester != ? "
            "ORDER BY created_at LIMIT ?",
            (State.PENDING, format_time(now), user, limit),
        )

    async def requested_by(self, user: str, limit: int = 10) -> list[Request]:
        """The user's own latest requests, newest first."""
        return await self._fetch(
            f"{_SELECT} WHERE requester = ? ORDER BY created_at DESC LIMIT ?", (user, limit)
        )

    async def decided_by(self, user: str, limit: int = 10) -> list[Request]:
        """The user's latest decisions, newest first."""
        return await self._fetch(
            f"{_SELECT} WHERE decided_by = ? AND why IS NOT NULL ORDER BY decided_at DESC LIMIT ?",
            (user, limit),
        )

    async def count_pending(self) -> int:
        async with (
            self._lock,
            self._conn.execute(
                "SELECT COUNT(*) FROM approvals WHERE state = ?", (State.PENDING,)
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def recount(self) -> int:
        """Bring :attr:`pending` up to date (at startup, and after each change of it)."""
        self.pending = await self.count_pending()
        return self.pending

    # --- helpers -------------------------------------------------------------------------

    async def _duplicate_of(self, key: str, now: datetime) -> Request | None:
        live = ", ".join("?" * len(LIVE))
        stamp = format_time(now)
        rows = await self._rows(
            f"{_SELECT} WHERE {_SAME_KEY} AND ((state IN ({live}) AND {_NOT_TIMED_OUT}) OR "
            f"{_RECENT_SUCCESS}) ORDER BY created_at LIMIT 1",
            (key, key, *LIVE, stamp, *_RECENTLY, format_time(now - DUPLICATE_WINDOW)),
        )
        return rows[0] if rows else None

    async def _used(self, requester: str, verb: Verb, now: datetime) -> int:
        marks = ", ".join("?" * len(_COUNTED))
        async with self._conn.execute(
            "SELECT COUNT(*) FROM approvals WHERE requester = ? AND verb = ? "
            f"AND created_at >= ? AND state IN ({marks}) AND {_NOT_TIMED_OUT}",
            (requester, verb.value, format_time(now - LIMIT_WINDOW), *_COUNTED, format_time(now)),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        async with self._lock:
            cursor = await self._conn.execute(sql, params)
            await self._conn.commit()
            return cursor.rowcount

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Request]:
        async with self._lock:
            return await self._rows(sql, params)

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Request]:
        rows = await self._conn.execute_fetchall(sql, params)
        return [_from_row(row) for row in rows]

    async def _require(self, request_id: str) -> Request:
        found = await self.get(request_id)
        if found is None:
            raise LookupError(f"approval request {request_id} is not in the database")
        return found


def _to_row(r: Request) -> tuple[Any, ...]:
    command = r.command
    redeem = command if isinstance(command, Redeem) else None
    precheck = r.precheck
    return (
        r.id,
        command.verb.value,
        redeem.code if redeem else None,
        command.series_id if isinstance(command, Issue) else None,
        command.customer.kind.value,
        command.customer.value,
        redeem.bill_number if redeem else None,
        str(redeem.bill_amount) if redeem and redeem.bill_amount is not None else None,
        redeem.validation_code if redeem else None,
        dedup_key(command),
        r.requester,
        r.team,
        r.channel,
        r.why.value if r.why else None,
        r.state.value,
        format_time(r.created_at),
        format_time(r.expires_at),
        r.thread_ts,
        r.card_ts,
        r.link,
        None if precheck is None or precheck.ok is None else int(precheck.ok),
        precheck.summary if precheck else None,
        r.decided_by,
        r.decided_by_name,
        format_time(r.decided_at) if r.decided_at else None,
        r.note,
        format_time(r.finished_at) if r.finished_at else None,
        r.result,
    )


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _from_row(row: Any) -> Request:
    (
        request_id,
        verb,
        code,
        series_id,
        customer_kind,
        customer_value,
        bill_number,
        bill_amount,
        validation_code,
        _key,
        requester,
        team,
        channel,
        why,
        state,
        created_at,
        expires_at,
        thread_ts,
        card_ts,
        link,
        precheck_ok,
        precheck,
        decided_by,
        decided_by_name,
        decided_at,
        note,
        finished_at,
        result,
    ) = row
    customer = CustomerId(CustomerKind(customer_kind), customer_value)
    command: Issue | Redeem
    if verb == Verb.REDEEM:
        command = Redeem(
            code=code,
            customer=customer,
            bill_number=bill_number,
            bill_amount=Decimal(bill_amount) if bill_amount is not None else None,
            validation_code=validation_code,
        )
    else:
        command = Issue(series_id=series_id, customer=customer)
    return Request(
        id=request_id,
        command=command,
        requester=requester,
        channel=channel,
        state=State(state),
        created_at=datetime.fromisoformat(created_at),
        expires_at=datetime.fromisoformat(expires_at),
        why=Why(why) if why else None,
        team=team,
        thread_ts=thread_ts,
        card_ts=card_ts,
        link=link,
        precheck=(
            PreCheck(None if precheck_ok is None else bool(precheck_ok), precheck)
            if precheck is not None
            else None
        ),
        decided_by=decided_by,
        decided_by_name=decided_by_name,
        decided_at=_time(decided_at),
        note=note,
        finished_at=_time(finished_at),
        result=result,
    )
