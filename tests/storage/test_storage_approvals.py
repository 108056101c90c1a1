"""The approvals store on a real SQLite file: opening (duplicates, the daily limit),
compare-and-set moves, expiry, lists, and races between tasks and between connections."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from bot.approvals import (
    DUPLICATE_WINDOW,
    LIMIT_WINDOW,
    PreCheck,
    Request,
    State,
    Why,
    dedup_key,
)
from bot.capillary.identifiers import CustomerId, CustomerKind, parse_customer
from bot.commands import Issue, Redeem, Verb
from bot.storage import open_database
from bot.storage.approvals import ApprovalStore, Duplicate, Opened, OverLimit

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RIYA = parse_customer("+919876543210")
ARJUN = parse_customer("riya.sharma@example.com")
AGENT, AGENT2, LEAD, LEAD2 = "U03AGENT", "U07AGENT", "U02LEAD", "U06LEAD2"
SUPPORT, ESCALATIONS = "C01SUPPORT", "C02ESCALATIONS"
_ids = iter(range(1, 1_000_000))


def request(
    command: Issue | Redeem | None = None,
    *,
    at: datetime = T0,
    state: State = State.PENDING,
    **changes: object,
) -> Request:
    base = Request(
        id=f"R{next(_ids):08X}",
        command=command or Redeem("GOOD100", RIYA),
        requester=AGENT,
        channel=SUPPORT,
        state=state,
        created_at=at,
        expires_at=at + timedelta(hours=4),
        why=Why.POLICY if state is State.PENDING else None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    return tmp_path / "x.sqlite3"


@pytest.fixture
async def store(database: Path) -> AsyncIterator[ApprovalStore]:
    conn = await open_database(database)
    try:
        yield ApprovalStore(conn)
    finally:
        await conn.close()


async def opened(store: ApprovalStore, r: Request, limit: int | None = None) -> Request:
    result = await store.open(r, limit=limit)
    assert isinstance(result, Opened), result
    return result.request


async def run_to(store: ApprovalStore, r: Request, final: State, at: datetime) -> Request:
    """Open ``r`` (pending) and carry it to ``final`` the way the flow does."""
    await opened(store, r)
    if final is State.PENDING:
        return r
    if final is State.EXPIRED:
        expired = await store.expire_due(r.expires_at)
        assert [e.id for e in expired] == [r.id]
        return expired[0]
    decided = r
    if r.state is State.PENDING:
        to = State.REJECTED if final is State.REJECTED else State.APPROVED
        made = await store.decide(r.id, to, by=LEAD, by_name="ravi", at=r.created_at, note=None)
        assert made is not None
        decided = made
    if final in (State.REJECTED, State.APPROVED):
        return decided
    started = await store.start(r.id)
    assert started is not None
    if final is State.EXECUTING:
        return started
    done = await store.finish(r.id, final, at=at, result="r", expected=State.EXECUTING)
    assert done is not None
    return done


class TestOpen:
    async def test_a_new_request_is_stored_and_read_back(self, store: ApprovalStore) -> None:
        r = request()
        assert await store.open(r, limit=None) == Opened(r)
        assert await store.get(r.id) == r
        assert await store.get("R00000000") is None

    @pytest.mark.parametrize("live", [State.PENDING, State.APPROVED, State.EXECUTING])
    async def test_the_same_request_while_the_first_is_live_is_a_duplicate(
        self, store: ApprovalStore, live: State
    ) -> None:
        first = await run_to(store, request(), live, T0)
        later = request(requester=AGENT2, at=T0 + timedelta(minutes=1))
        assert await store.open(later, limit=None) == Duplicate(first)
        assert await store.get(later.id) is None
        # A week later: an approved or executing request still blocks (it may yet run); a
        # pending one is past its time, expired even before an expiry round marks it.
        week = request(at=T0 + timedelta(days=7))
        found = await store.open(week, limit=None)
        if live is State.PENDING:
            assert found == Opened(week)
        else:
            assert isinstance(found, Duplicate) and found.first.id == first.id

    @pytest.mark.parametrize("final", [State.DONE, State.UNKNOWN])
    async def test_after_success_the_same_is_refused_for_ten_minutes(
        self, store: ApprovalStore, final: State
    ) -> None:
        finished_at = T0 + timedelta(minutes=3)
        first = await run_to(store, request(), final, finished_at)
        inside = request(at=finished_at + DUPLICATE_WINDOW - timedelta(microseconds=1))
        assert await store.open(inside, limit=None) == Duplicate(first)
        at_edge = request(at=finished_at + DUPLICATE_WINDOW)
        assert await store.open(at_edge, limit=None) == Duplicate(first)
        after = request(at=finished_at + DUPLICATE_WINDOW + timedelta(microseconds=1))
        assert await store.open(after, limit=None) == Opened(after)

    @pytest.mark.parametrize("final", [State.REJECTED, State.EXPIRED, State.FAILED])
    async def test_what_never_happened_does_not_block_the_same_again(
        self, store: ApprovalStore, final: State
    ) -> None:
        await run_to(store, request(), final, T0 + timedelta(minutes=1))
        again = request(at=T0 + timedelta(minutes=2))
        if final is State.EXPIRED:
            again = request(at=T0 + timedelta(hours=5))
        assert await store.open(again, limit=None) == Opened(again)

    async def test_another_customer_code_or_verb_is_not_a_duplicate(
        self, store: ApprovalStore
    ) -> None:
        await opened(store, request(Redeem("GOOD100", RIYA)))
        for command in (
            Redeem("GOOD100", ARJUN),
            Redeem("GOOD200", RIYA),
            Issue("1001", RIYA),
            Redeem("GOOD100", CustomerId(CustomerKind.EXTERNAL_ID, "9876543210")),
        ):
            await opened(store, request(command))

    async def test_the_first_of_several_duplicates_is_named(self, store: ApprovalStore) -> None:
        # An old request done long ago and a live one: the live one is "the first".
        await run_to(store, request(), State.DONE, T0)
        live = await opened(store, request(at=T0 + timedelta(hours=1)))
        found = await store.open(request(at=T0 + timedelta(hours=2)), limit=None)
        assert found == Duplicate(live)


class TestTheSameCustomerTypedAnotherWay:
    """Capillary's echo of a done request's customer gives it more keys (its email after a
    request by mobile): asking for the same thing by any of them is the same request."""

    EMAIL = parse_customer("riya.sharma@example.com")
    ECHOED = frozenset({dedup_key(Issue("1001", EMAIL)), dedup_key(Issue("1001", RIYA))})

    async def done(
        self, store: ApprovalStore, r: Request, at: datetime, *, stored: bool = False
    ) -> Request:
        if stored:  # opened already: approve and start it
            assert await store.decide(r.id, State.APPROVED, by=LEAD, by_name=None, at=at, note=None)
            assert await store.start(r.id)
        else:
            await run_to(store, r, State.EXECUTING, at)
        done = await self.finish(store, r, State.DONE, at)
        assert done is not None
        return done

    async def finish(
        self, store: ApprovalStore, r: Request, to: State, at: datetime = T0
    ) -> Request | None:
        """Executing → ``to``, with the customer's echoed keys."""
        return await store.finish(
            r.id, to, at=at, result="r", expected=State.EXECUTING, also_known_as=self.ECHOED
        )

    async def test_a_new_request_by_an_echoed_key_is_a_duplicate(
        self, store: ApprovalStore
    ) -> None:
        first = await self.done(store, request(Issue("1001", RIYA)), T0)
        by_email = request(Issue("1001", self.EMAIL), at=T0 + timedelta(minutes=2))
        assert await store.open(by_email, limit=None) == Duplicate(first)
        late = request(Issue("1001", self.EMAIL), at=T0 + DUPLICATE_WINDOW + timedelta(seconds=1))
        assert await store.open(late, limit=None) == Opened(late)
        other_series = request(Issue("1002", self.EMAIL), at=T0 + timedelta(minutes=2))
        assert await store.open(other_series, limit=None) == Opened(other_series)

    async def test_one_opened_while_the_other_waited_is_found_before_it_runs(
        self, store: ApprovalStore
    ) -> None:
        # Both asked before either ran: nothing could match them then.
        by_mobile = await opened(store, request(Issue("1001", RIYA)))
        by_email = await opened(store, request(Issue("1001", self.EMAIL)))
        assert await store.done_for(by_email, T0) is None
        first = await self.done(store, by_mobile, T0 + timedelta(minutes=1), stored=True)
        assert await store.done_for(by_email, T0 + timedelta(minutes=2)) == first
        assert await store.done_for(first, T0 + timedelta(minutes=2)) is None  # not itself
        later = T0 + timedelta(minutes=1) + DUPLICATE_WINDOW + timedelta(seconds=1)
        assert await store.done_for(by_email, later) is None

    async def test_a_state_whose_keys_cannot_be_stored_is_not_stored_either(
        self, store: ApprovalStore, database: Path
    ) -> None:
        r = await run_to(store, request(Issue("1001", RIYA)), State.EXECUTING, T0)
        with sqlite3.connect(database) as db:  # the keys' table gone: their insert fails
            db.execute("ALTER TABLE approval_keys RENAME TO approval_keys_gone")
        with pytest.raises(sqlite3.OperationalError):
            await self.finish(store, r, State.DONE)
        assert (await store.get(r.id)) == r  # still executing: neither half was kept
        await store.finish(r.id, State.DONE, at=T0, result="r", expected=State.EXECUTING)
        done = await store.get(r.id)
        assert done is not None and done.state is State.DONE

    async def test_a_failed_request_leaves_no_keys_that_block(self, store: ApprovalStore) -> None:
        r = request(Issue("1001", RIYA))
        await run_to(store, r, State.EXECUTING, T0)
        await self.finish(store, r, State.FAILED)
        by_email = request(Issue("1001", self.EMAIL), at=T0 + timedelta(minutes=1))
        assert await store.open(by_email, limit=None) == Opened(by_email)


class TestDailyLimit:
    async def test_the_limit_refuses_the_one_over_it(self, store: ApprovalStore) -> None:
        for n in range(3):
            await opened(store, request(Redeem(f"C{n}", RIYA)), limit=3)
        over = request(Redeem("C9", RIYA), at=T0 + timedelta(minutes=1))
        assert await store.open(over, limit=3) == OverLimit(used=3, limit=3)
        assert await store.get(over.id) is None
        assert await store.used(AGENT, Verb.REDEEM, T0 + timedelta(minutes=1)) == 3
        assert await store.open(over, limit=None) == Opened(over)  # no limit: no cap

    async def test_only_requests_that_ran_or_may_run_count(self, store: ApprovalStore) -> None:
        counted = (State.PENDING, State.APPROVED, State.EXECUTING, State.DONE, State.UNKNOWN)
        free = (State.REJECTED, State.FAILED, State.EXPIRED)
        for n, state in enumerate(counted + free):
            # The one to expire is older, so that expiring it leaves the pending one be.
            at = T0 - timedelta(hours=5) if state is State.EXPIRED else T0
            await run_to(store, request(Redeem(f"C{n}", RIYA), at=at), state, T0)
        now = T0 + timedelta(minutes=1)
        assert await store.used(AGENT, Verb.REDEEM, now) == len(counted)
        assert await store.open(request(Redeem("X", RIYA), at=now), limit=5) == OverLimit(5, 5)
        assert isinstance(await store.open(request(Redeem("Y", RIYA), at=now), limit=6), Opened)

    async def test_the_window_is_24_hours_and_per_person_and_verb(
        self, store: ApprovalStore
    ) -> None:
        await run_to(store, request(Redeem("OLD", RIYA)), State.DONE, T0)
        await opened(store, request(Issue("1001", RIYA)))
        await opened(store, request(Redeem("THEIRS", RIYA), requester=AGENT2))
        assert await store.used(AGENT, Verb.REDEEM, T0 + LIMIT_WINDOW) == 1
        assert await store.used(AGENT, Verb.REDEEM, T0 + LIMIT_WINDOW + timedelta(seconds=1)) == 0
        assert await store.used(AGENT, Verb.ISSUE, T0) == 1
        assert await store.used(AGENT2, Verb.REDEEM, T0) == 1
        nextday = request(Redeem("NEW", RIYA), at=T0 + LIMIT_WINDOW + timedelta(seconds=1))
        assert await store.open(nextday, limit=1) == Opened(nextday)

    async def test_a_duplicate_is_reported_before_the_limit(self, store: ApprovalStore) -> None:
        first = await opened(store, request())
        assert await store.open(request(), limit=1) == Duplicate(first)


class TestDecide:
    async def test_pending_is_decided_once(self, store: ApprovalStore) -> None:
        r = await opened(store, request())
        at = T0 + timedelta(minutes=2)
        decided = await store.decide(
            r.id, State.APPROVED, by=LEAD, by_name="ravi", at=at, note="ok"
        )
        assert decided == replace(
            r,
            state=State.APPROVED,
            decided_by=LEAD,
            decided_by_name="ravi",
            decided_at=at,
            note="ok",
        )
        again = await store.decide(r.id, State.REJECTED, by=LEAD2, by_name="lena", at=at, note="x")
        assert again is None
        assert await store.get(r.id) == decided

    async def test_a_rejection_keeps_its_reason(self, store: ApprovalStore) -> None:
        r = await opened(store, request())
        decided = await store.decide(
            r.id, State.REJECTED, by=LEAD, by_name=None, at=T0, note="paid already"
        )
        assert decided is not None
        assert (decided.state, decided.note, decided.decided_by_name) == (
            State.REJECTED,
            "paid already",
            None,
        )

    async def test_not_at_or_after_its_time(self, store: ApprovalStore) -> None:
        r = await opened(store, request())

        async def approve(at: datetime) -> Request | None:
            return await store.decide(r.id, State.APPROVED, by=LEAD, by_name=None, at=at, note=None)

        assert await approve(r.expires_at) is None
        assert await approve(r.expires_at + timedelta(hours=1)) is None
        assert (await store.get(r.id)) == r
        just_in = r.expires_at - timedelta(microseconds=1)
        assert await approve(just_in) is not None

    @pytest.mark.parametrize(
        "state", [State.APPROVED, State.EXECUTING, State.DONE, State.REJECTED, State.EXPIRED]
    )
    async def test_only_from_pending(self, store: ApprovalStore, state: State) -> None:
        r = await run_to(store, request(), state, T0)
        assert (
            await store.decide(r.id, State.APPROVED, by=LEAD2, by_name=None, at=T0, note=None)
            is None
        )
        assert await store.get(r.id) == r

    async def test_unknown_id_and_wrong_target(self, store: ApprovalStore) -> None:
        assert (
            await store.decide("R0BADBAD0", State.APPROVED, by=LEAD, by_name=None, at=T0, note=None)
            is None
        )
        r = await opened(store, request())
        for to in (State.DONE, State.EXPIRED, State.PENDING, State.EXECUTING):
            with pytest.raises(ValueError, match="approves or rejects"):
                await store.decide(r.id, to, by=LEAD, by_name=None, at=T0, note=None)
        assert await store.get(r.id) == r

    async def test_fifty_concurrent_decisions_have_one_winner(self, store: ApprovalStore) -> None:
        r = await opened(store, request())
        results = await asyncio.gather(
            *(
                store.decide(
                    r.id,
                    State.APPROVED if n % 2 else State.REJECTED,
                    by=f"U{n:08d}",
                    by_name=None,
                    at=T0,
                    note=None,
                )
                for n in range(50)
            )
        )
        winners = [d for d in results if d is not None]
        assert len(winners) == 1
        assert await store.get(r.id) == winners[0]


class TestStartAndFinish:
    async def test_start_only_once_and_only_from_approved(self, store: ApprovalStore) -> None:
        pending = await opened(store, request())
        assert await store.start(pending.id) is None  # not approved yet
        approved = await store.decide(
            pending.id, State.APPROVED, by=LEAD, by_name=None, at=T0, note=None
        )
        assert approved is not None
        started = await store.start(pending.id)
        assert started == replace(approved, state=State.EXECUTING)
        assert await store.start(pending.id) is None
        assert await store.start("R0BADBAD0") is None

    async def test_a_request_that_needs_no_approval_starts_at_once(
        self, store: ApprovalStore
    ) -> None:
        r = await opened(store, request(state=State.APPROVED))
        started = await store.start(r.id)
        assert started is not None and started.state is State.EXECUTING

    @pytest.mark.parametrize("final", [State.DONE, State.FAILED, State.UNKNOWN])
    async def test_finish_from_the_expected_state_only(
        self, store: ApprovalStore, final: State
    ) -> None:
        r = await run_to(store, request(state=State.APPROVED), State.APPROVED, T0)
        at = T0 + timedelta(seconds=3)
        # Not executing yet: a finish that expects EXECUTING changes nothing.
        assert await store.finish(r.id, final, at=at, result="x", expected=State.EXECUTING) is None
        await store.start(r.id)
        done = await store.finish(r.id, final, at=at, result="✅ line", expected=State.EXECUTING)
        assert done is not None
        assert (done.state, done.finished_at, done.result) == (final, at, "✅ line")
        # A second finish (another process's recovery, say) changes nothing.
        assert (
            await store.finish(r.id, State.UNKNOWN, at=at, result="y", expected=State.EXECUTING)
            is None
        )
        assert await store.get(r.id) == done

    async def test_finish_refuses_a_state_that_is_not_final(self, store: ApprovalStore) -> None:
        r = await run_to(store, request(), State.EXECUTING, T0)
        for to in (State.PENDING, State.APPROVED, State.REJECTED, State.EXPIRED, State.EXECUTING):
            with pytest.raises(ValueError, match="finishes"):
                await store.finish(r.id, to, at=T0, result="x", expected=State.EXECUTING)
        assert (await store.get(r.id)) == r


class TestExpiry:
    async def test_expire_due_returns_what_it_changed_once(self, store: ApprovalStore) -> None:
        early = await opened(store, request(Redeem("A", RIYA), at=T0))
        late = await opened(store, request(Redeem("B", RIYA), at=T0 + timedelta(hours=1)))
        approved = await run_to(store, request(Redeem("C", RIYA), at=T0), State.APPROVED, T0)
        now = early.expires_at + timedelta(minutes=1)
        expired = await store.expire_due(now)
        assert expired == [replace(early, state=State.EXPIRED, finished_at=now)]
        assert await store.get(early.id) == expired[0]
        assert await store.expire_due(now) == []
        assert await store.get(late.id) == late
        assert await store.get(approved.id) == approved  # decided in time: never expires
        assert [r.id for r in await store.expire_due(late.expires_at)] == [late.id]

    async def test_nothing_due_changes_nothing(self, store: ApprovalStore) -> None:
        r = await opened(store, request())
        assert await store.expire_due(r.expires_at - timedelta(microseconds=1)) == []
        assert await store.get(r.id) == r


class TestRoundTrip:
    @pytest.mark.parametrize(
        "precheck",
        [None, PreCheck(None, "couldn't check"), PreCheck(True, "ok"), PreCheck(False, "no")],
    )
    async def test_every_field_of_a_redeem(
        self, store: ApprovalStore, precheck: PreCheck | None
    ) -> None:
        r = request(
            Redeem("GOOD100", RIYA, "B-1182", Decimal("1450.50"), "V123"),
            team="T0SANDBOX",
            thread_ts="1700000000.000100",
            card_ts="1700000000.000200",
            link="https://sandbox-retail.slack.com/archives/C01SUPPORT/p1700000000000100",
            precheck=precheck,
            decided_by=LEAD,
            decided_by_name="ravi",
            decided_at=T0 + timedelta(minutes=1, microseconds=7),
            note="customer called “twice”",
            finished_at=T0 + timedelta(minutes=2),
            result="✅ Redeemed · redemption id 88213",
            state=State.DONE,
            why=Why.APPROVER_OWN,
        )
        assert await store.open(r, limit=None) == Opened(r)
        back = await store.get(r.id)
        assert back == r
        assert back is not None and isinstance(back.command, Redeem)
        assert back.command.bill_amount == Decimal("1450.50")
        assert str(back.command.bill_amount) == "1450.50"  # the scale is kept too

    async def test_an_issue_with_nothing_optional(self, store: ApprovalStore) -> None:
        r = request(Issue("1001", ARJUN), state=State.APPROVED)
        await opened(store, r)
        back = await store.get(r.id)
        assert back == r and back is not None
        assert (back.why, back.team, back.precheck, back.decided_at, back.note) == (
            None,
            None,
            None,
            None,
            None,
        )

    async def test_a_redeem_without_bill(self, store: ApprovalStore) -> None:
        r = request(Redeem("GOOD100", CustomerId(CustomerKind.CARD_NUMBER, "4111-22")))
        await opened(store, r)
        assert await store.get(r.id) == r

    async def test_times_in_another_timezone_come_back_as_the_same_instant(
        self, store: ApprovalStore
    ) -> None:
        ist = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
        r = request(at=ist)
        await opened(store, r)
        back = await store.get(r.id)
        assert back is not None and back.created_at == ist and back.expires_at == r.expires_at
        assert back.created_at.utcoffset() == timedelta(0)  # stored and read back as UTC
        assert back.created_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    async def test_set_precheck_and_attach(self, store: ApprovalStore) -> None:
        r = await opened(store, request())
        for pre in (
            PreCheck(True, "redeemable"),
            PreCheck(None, "couldn't"),
            PreCheck(False, "no"),
        ):
            assert (await store.set_precheck(r.id, pre)).precheck == pre
        attached = await store.attach(r.id, thread_ts="1.1", link="https://x/p1")
        assert (attached.thread_ts, attached.link, attached.card_ts) == (
            "1.1",
            "https://x/p1",
            None,
        )
        attached = await store.attach(r.id, card_ts="1.2")
        assert (attached.thread_ts, attached.card_ts) == ("1.1", "1.2")
        cleared = await store.attach(r.id, link=None)
        assert cleared.link is None and cleared.card_ts == "1.2"

    async def test_attach_takes_only_where_it_is_shown(self, store: ApprovalStore) -> None:
        r = await opened(store, request())
        for bad in ({"state": "done"}, {"thread_ts": "1.1", "requester": "U1"}, {}):
            with pytest.raises(ValueError, match="attach takes"):
                await store.attach(r.id, **bad)
        assert await store.get(r.id) == r

    async def test_attach_to_a_missing_request_says_so(self, store: ApprovalStore) -> None:
        with pytest.raises(LookupError, match="R0BADBAD0"):
            await store.attach("R0BADBAD0", card_ts="1.2")


class TestLists:
    async def test_in_state_oldest_first(self, store: ApprovalStore) -> None:
        b = await run_to(
            store, request(Redeem("B", RIYA), at=T0 + timedelta(minutes=2)), State.APPROVED, T0
        )
        a = await run_to(store, request(Redeem("A", RIYA), at=T0), State.EXECUTING, T0)
        p = await opened(store, request(Redeem("P", RIYA), at=T0 + timedelta(minutes=1)))
        await run_to(store, request(Redeem("D", RIYA)), State.DONE, T0)
        found = await store.in_state(State.EXECUTING, State.APPROVED, State.PENDING)
        assert [r.id for r in found] == [a.id, p.id, b.id]
        assert await store.in_state(State.FAILED) == []

    async def test_pending_in_a_channel_leaves_out_others_and_the_expired(
        self, store: ApprovalStore
    ) -> None:
        new = await opened(store, request(Redeem("NEW", RIYA), at=T0 + timedelta(hours=1)))
        old = await opened(store, request(Redeem("OLD", RIYA), at=T0))
        await opened(store, request(Redeem("ELSE", RIYA), channel=ESCALATIONS))
        await run_to(store, request(Redeem("DONE", RIYA)), State.APPROVED, T0)
        now = T0 + timedelta(hours=2)
        assert [r.id for r in await store.pending_in(SUPPORT, now)] == [old.id, new.id]
        assert [r.id for r in await store.pending_in(SUPPORT, now, limit=1)] == [old.id]
        # old's time is up (not yet marked expired): it is no longer listed.
        later = old.expires_at
        assert [r.id for r in await store.pending_in(SUPPORT, later)] == [new.id]

    async def test_pending_for_an_approver_leaves_out_their_own(self, store: ApprovalStore) -> None:
        agents = await opened(store, request(Redeem("A", RIYA), at=T0))
        leads = await opened(store, request(Redeem("L", RIYA), requester=LEAD, at=T0))
        elsewhere = await opened(
            store, request(Redeem("E", RIYA), channel=ESCALATIONS, at=T0 + timedelta(hours=1))
        )
        now = T0 + timedelta(minutes=30)
        assert [r.id for r in await store.pending_for(LEAD, now)] == [agents.id, elsewhere.id]
        assert [r.id for r in await store.pending_for(LEAD2, now)] == [
            agents.id,
            leads.id,
            elsewhere.id,
        ]
        assert [r.id for r in await store.pending_for(LEAD, agents.expires_at)] == [elsewhere.id]

    async def test_requested_by_and_decided_by_newest_first(self, store: ApprovalStore) -> None:
        first = await run_to(store, request(Redeem("A", RIYA), at=T0), State.DONE, T0)
        second = await opened(store, request(Redeem("B", RIYA), at=T0 + timedelta(minutes=1)))
        await opened(store, request(Redeem("C", RIYA), requester=AGENT2))
        direct = await opened(
            store,
            request(
                Redeem("Z", RIYA),
                requester=LEAD,
                state=State.APPROVED,
                decided_by=LEAD,
                decided_at=T0,
            ),
        )
        assert [r.id for r in await store.requested_by(AGENT)] == [second.id, first.id]
        assert [r.id for r in await store.requested_by(AGENT, limit=1)] == [second.id]
        late = await store.decide(
            second.id, State.REJECTED, by=LEAD, by_name=None, at=T0 + timedelta(hours=1), note="no"
        )
        assert late is not None
        # Newest decision first; a request that needed no approval is not "a decision".
        assert [r.id for r in await store.decided_by(LEAD)] == [second.id, first.id]
        assert direct.id not in {r.id for r in await store.decided_by(LEAD)}
        assert await store.decided_by(LEAD2) == []

    async def test_count_pending(self, store: ApprovalStore) -> None:
        assert await store.count_pending() == 0
        await opened(store, request(Redeem("A", RIYA)))
        await opened(store, request(Redeem("B", RIYA)))
        await run_to(store, request(Redeem("C", RIYA)), State.REJECTED, T0)
        assert await store.count_pending() == 2
        await store.expire_due(T0 + timedelta(days=1))
        assert await store.count_pending() == 0

    async def test_the_pending_figure_follows_this_stores_changes(
        self, store: ApprovalStore
    ) -> None:
        assert store.pending == 0
        a = await opened(store, request(Redeem("A", RIYA)))
        await opened(store, request(Redeem("B", RIYA)))
        await opened(store, request(Redeem("C", RIYA), state=State.APPROVED))  # not waiting
        assert store.pending == 2
        await store.decide(a.id, State.REJECTED, by=LEAD, by_name=None, at=T0, note="no")
        assert store.pending == 1
        await store.expire_due(T0 + timedelta(days=1))
        assert store.pending == 0


class TestTwoConnections:
    """Two stores on one file behave like two processes of the bot."""

    async def test_racing_starts_have_one_winner(self, database: Path) -> None:
        one, two = await open_database(database), await open_database(database)
        try:
            a, b = ApprovalStore(one), ApprovalStore(two)
            rs = [
                await opened(a, request(Redeem(f"C{n}", RIYA), state=State.APPROVED))
                for n in range(20)
            ]
            for r in rs:
                results = await asyncio.gather(
                    a.start(r.id), b.start(r.id), a.start(r.id), b.start(r.id)
                )
                assert sum(x is not None for x in results) == 1, r.id
            assert {r.state for r in await b.in_state(*State)} == {State.EXECUTING}
        finally:
            await one.close()
            await two.close()

    async def test_racing_duplicates_have_one_winner(self, database: Path) -> None:
        one, two = await open_database(database), await open_database(database)
        try:
            a, b = ApprovalStore(one), ApprovalStore(two)
            results = await asyncio.gather(
                *(s.open(request(), limit=None) for s in (a, b, a, b, a, b))
            )
            assert sum(isinstance(x, Opened) for x in results) == 1
            assert sum(isinstance(x, Duplicate) for x in results) == 5
        finally:
            await one.close()
            await two.close()

    async def test_a_decision_made_by_one_is_seen_by_the_other(self, database: Path) -> None:
        one, two = await open_database(database), await open_database(database)
        try:
            a, b = ApprovalStore(one), ApprovalStore(two)
            r = await opened(a, request())
            assert await b.decide(r.id, State.APPROVED, by=LEAD, by_name=None, at=T0, note=None)
            assert (
                await a.decide(r.id, State.REJECTED, by=LEAD2, by_name=None, at=T0, note=None)
                is None
            )
            got = await a.get(r.id)
            assert got is not None and got.state is State.APPROVED
            # Each store's figure is as of its own last change; recount() catches up.
            assert (a.pending, b.pending) == (1, 0)
            assert await a.recount() == 0 and a.pending == 0
        finally:
            await one.close()
            await two.close()

    async def test_the_stored_row_is_plain_sqlite(
        self, store: ApprovalStore, database: Path
    ) -> None:
        r = await opened(store, request(Redeem("GOOD100", RIYA, "B-1", Decimal("10.00"))))
        with sqlite3.connect(database) as db:
            row = db.execute(
                "SELECT state, dedup_key, bill_amount, created_at FROM approvals WHERE id = ?",
                (r.id,),
            ).fetchone()
        assert row == (
            "pending",
            "redeem:GOOD100:mobile:9876543210",  # a mobile: its last 10 digits
            "10.00",
            "2026-11-25T09:00:00.000000+00:00",
        )
