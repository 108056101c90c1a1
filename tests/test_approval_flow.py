"""ApprovalFlow with real parts and no bot server: the Slack emulator, the Capillary sandbox
and a SQLite file, driven by calling the flow directly with a clock the test moves.

The end-to-end tests (tests/e2e/test_e2e_approvals.py) cover the clicks and modals over
HTTP; these cover what is awkward to reach that way: decisions on requests that moved on,
the clock, and recovery of what a previous run left."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access
from bot.approval_flow import CANNOT_POST, STOPPED_MID_CALL, ApprovalFlow, Refused, cannot_post
from bot.approvals import Request, State
from bot.audit import AuditEvent, AuditEventKind, AuditOutcome
from bot.blocks.approvals import (
    CLICK_AGAIN,
    GONE,
    NO_CARD,
    NO_CHANNEL,
    NO_THREAD,
    SAME_CUSTOMER,
    TOO_LATE,
)
from bot.capillary.auth import BasicAuth
from bot.capillary.client import CapillaryClient
from bot.capillary.identifiers import parse_customer
from bot.commands import Issue, Redeem, Resend, Verb
from bot.conversation import Conversation
from bot.ids import BlockId
from bot.policy import ApprovalRules, Limits, Policy, Role
from bot.recording import Recorder
from bot.sandbox.capillary import (
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    RunningSandbox,
    running_sandbox,
)
from bot.sandbox.slack import BOT_USER_ID, Message, RunningEmulator, running_slack_emulator
from bot.service import CouponService
from bot.storage import open_database
from bot.storage.approvals import ApprovalStore

ADMIN, LEAD, AGENT, VIEWER, LEAD2 = "U01ADMIN", "U02LEAD", "U03AGENT", "U04VIEWER", "U06LEAD2"
SUPPORT = "C01SUPPORT"
RAW_MOBILE = "919876543210"
RIYA = parse_customer("+" + RAW_MOBILE)
POLICY = Policy(
    members={
        Role.ADMIN: (ADMIN,),
        Role.APPROVER: (LEAD, LEAD2),
        Role.AGENT: (AGENT,),
        Role.VIEWER: (VIEWER,),
    },
    limits=Limits(issue_per_agent_per_day=2, redeem_per_agent_per_day=5),
)

NO_APPROVAL = Policy(members=POLICY.members, approval=ApprovalRules(required_for=frozenset()))


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)  # the sandbox's coupons are valid around today

    def __call__(self) -> datetime:
        return self.now


class FlakySlack(AsyncWebClient):
    """The emulator, except that the next call of a method (or the one after ``passes``
    more) can be made to raise, every call of a ``broken`` method raises, and something
    can happen ``then``: right after the next call of a method that went through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failures: dict[str, BaseException] = {}
        self.passes: dict[str, int] = {}
        self.broken: dict[str, BaseException] = {}
        self.then: dict[str, Callable[[], None]] = {}

    async def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        if api_method in self.broken:
            raise self.broken[api_method]
        if self.passes.get(api_method, 0) > 0:
            self.passes[api_method] -= 1
        elif (failure := self.failures.pop(api_method, None)) is not None:
            raise failure
        answer = await super().api_call(api_method, **kwargs)
        if (after := self.then.pop(api_method, None)) is not None:
            after()
        return answer


class Trail:
    """The audit sink: what was recorded, in order."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    def of(self, kind: AuditEventKind) -> list[AuditEvent]:
        return [e for e in self.events if e.event is kind]


@dataclass
class World:
    flow: ApprovalFlow
    store: ApprovalStore
    emulator: RunningEmulator
    sandbox: RunningSandbox
    clock: Clock
    slack: FlakySlack
    trail: Trail
    access: Access
    conversation: Conversation

    def capillary_calls(self, path: str) -> int:
        return sum(1 for c in self.sandbox.calls if c.path == path)

    def thread(self, request: Request) -> list[Message]:
        assert request.thread_ts is not None
        return self.emulator.state.replies(request.channel, request.thread_ts)

    def thread_text(self, request: Request) -> str:
        return "\n".join(
            f"{m.text} {json.dumps(m.blocks, ensure_ascii=False)}" for m in self.thread(request)
        )

    def card(self, request: Request) -> Message:
        assert request.card_ts is not None
        card = self.emulator.state.message(request.channel, request.card_ts)
        assert card is not None
        return card

    async def opened(self, command: Issue | Redeem) -> Request:
        """Stored and acked, nothing posted yet (as the ack path leaves it)."""
        opened = await self.flow.open(AGENT, SUPPORT, command)
        assert isinstance(opened, Request), opened
        return opened

    async def asked(self, command: Issue | Redeem, actor: str = AGENT) -> Request:
        """Open and start a request (parent and card posted); the stored request."""
        opened = await self.flow.open(actor, SUPPORT, command)
        assert isinstance(opened, Request), opened
        await self.flow.start(opened)
        stored = await self.store.get(opened.id)
        assert stored is not None and stored.card_ts is not None
        return stored

    async def get(self, request_id: str) -> Request:
        found = await self.store.get(request_id)
        assert found is not None
        return found

    async def approved(self, command: Issue | Redeem) -> Request:
        """Asked by the agent and approved by the lead (not carried out yet)."""
        asked = await self.asked(command)
        decided = await self.flow.decide(asked.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(decided, Request), decided
        return decided

    def dms(self, user: str) -> list[Message]:
        """What the bot said to ``user`` in its direct messages."""
        return self.emulator.state.messages("D" + user[1:])

    def parent(self, request: Request) -> Message:
        parent = self.emulator.state.message(request.channel, request.thread_ts or "")
        assert parent is not None
        return parent


async def make_world(tmp_path: Path, policy: Policy = POLICY) -> AsyncIterator[World]:
    auth = BasicAuth(SANDBOX_USERNAME, SecretStr(SANDBOX_PASSWORD))
    async with (
        running_sandbox() as sandbox,
        running_slack_emulator() as emulator,
        CapillaryClient(sandbox.base_url, auth, timeout_seconds=10) as capillary,
    ):
        conn = await open_database(tmp_path / "x.sqlite3")
        try:
            client = FlakySlack(token="xoxb-test", base_url=emulator.api_url)
            service = CouponService(capillary)
            store = ApprovalStore(conn)
            clock = Clock()
            trail = Trail()
            recorder = Recorder(trail, clock=clock)
            access = Access(policy)
            conversation = Conversation(client, service, recorder=recorder)
            flow = ApprovalFlow(
                client,
                store,
                access,
                service,
                conversation,
                clock=clock,
                recorder=recorder,
            )
            yield World(flow, store, emulator, sandbox, clock, client, trail, access, conversation)
        finally:
            await conn.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for made in make_world(tmp_path):
        yield made


@pytest.fixture
async def no_approval(tmp_path: Path) -> AsyncIterator[World]:
    """Issue and redeem need no approval: stored approved and run at once."""
    async for made in make_world(tmp_path, NO_APPROVAL):
        yield made


class TestOffer:
    async def test_a_pending_request_offers_the_modal(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        trigger = world.emulator.state.issue_trigger(LEAD)
        await world.flow.offer(r.id, LEAD, SUPPORT, approve=False, trigger_id=trigger)
        (view,) = world.emulator.state.views(LEAD)
        assert view.payload["private_metadata"] == r.id
        assert world.emulator.state.ephemerals(LEAD) == []

    async def test_an_already_decided_request_says_who_and_opens_nothing(
        self, world: World
    ) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        decided = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(decided, Request)
        trigger = world.emulator.state.issue_trigger(LEAD2)
        await world.flow.offer(r.id, LEAD2, SUPPORT, approve=True, trigger_id=trigger)
        (said,) = world.emulator.state.ephemerals(LEAD2)
        assert said.text.startswith("Already approved by <@U02LEAD> <!date^")
        assert said.channel == SUPPORT
        assert world.emulator.state.views(LEAD2) == []

    async def test_a_click_that_cannot_count_is_audited_as_refused(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        trigger = world.emulator.state.issue_trigger(AGENT)
        await world.flow.offer(r.id, AGENT, SUPPORT, approve=True, trigger_id=trigger)
        (refused,) = world.trail.of(AuditEventKind.REFUSED)
        assert (refused.actor, refused.approval_id) == (AGENT, r.id)
        assert refused.outcome is AuditOutcome.REFUSED
        assert refused.detail == "approve: own_request"

    @pytest.mark.parametrize("spent", ["used", "expired", "never issued"])
    async def test_a_click_whose_trigger_is_spent_is_told_to_click_again(
        self, world: World, spent: str
    ) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        trigger = world.emulator.state.issue_trigger(LEAD)
        if spent == "used":
            world.emulator.state.take_trigger(trigger)
        elif spent == "expired":
            world.emulator.state.trigger_ttl_seconds = 0
        else:
            trigger = "1234.5678.abcdef"
        await world.flow.offer(r.id, LEAD, SUPPORT, approve=True, trigger_id=trigger)
        (said,) = world.emulator.state.ephemerals(LEAD)
        assert said.text == CLICK_AGAIN
        assert world.emulator.state.views(LEAD) == []
        assert (await world.get(r.id)).state is State.PENDING

    async def test_an_unknown_request_is_gone(self, world: World) -> None:
        trigger = world.emulator.state.issue_trigger(LEAD)
        await world.flow.offer("R0BADBAD0", LEAD, SUPPORT, approve=True, trigger_id=trigger)
        (said,) = world.emulator.state.ephemerals(LEAD)
        assert said.text == GONE and said.channel == SUPPORT
        assert world.emulator.state.views(LEAD) == []


class TestDecide:
    async def test_after_its_time_a_decision_does_not_count(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        world.clock.now = r.expires_at + timedelta(seconds=1)  # expiry round not run yet
        answer = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note="ok")
        assert answer == "This request has expired."
        after = await world.get(r.id)
        assert after.state is State.PENDING and after.decided_by is None
        assert world.capillary_calls("/v1.1/coupon/redeem") == 0

    async def test_the_second_decision_is_told_who_was_first(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        first = await world.flow.decide(r.id, LEAD, "ravi", approve=False, note="no  \n way")
        assert isinstance(first, Request) and first.note == "no way"
        second = await world.flow.decide(r.id, LEAD2, "lena", approve=True, note=None)
        assert isinstance(second, str) and second.startswith("Already rejected by ravi at ")
        assert (await world.get(r.id)).state is State.REJECTED

    async def test_a_note_is_kept_on_one_line_with_customers_masked(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        note = "called from 9876543210,\n mail riya.sharma@example.com  ok " + "x" * 600
        decided = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note=note)
        assert isinstance(decided, Request) and decided.note is not None
        assert decided.note.startswith("called from ••••3210, mail r•••@example.com ok x")
        assert len(decided.note) == 500
        stored = (await world.get(r.id)).note or ""
        assert (
            stored == decided.note and RAW_MOBILE[2:] not in stored and "riya.sharma" not in stored
        )

    async def test_own_request_and_viewer_get_plain_refusals(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        own = await world.flow.decide(r.id, AGENT, "asha", approve=True, note=None)
        viewer = await world.flow.decide(r.id, VIEWER, "vik", approve=True, note=None)
        assert isinstance(own, str) and own.startswith("You asked for this one")
        assert isinstance(viewer, str) and viewer.startswith("Only approvers can")
        assert "<@" not in own + viewer and "@U02LEAD" in own
        assert (await world.get(r.id)).state is State.PENDING
        refusals = [(e.actor, e.detail) for e in world.trail.of(AuditEventKind.REFUSED)]
        assert refusals == [(AGENT, "approve: own_request"), (VIEWER, "approve: not_approver")]

    async def test_a_decision_too_late_is_audited_as_refused(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        await world.flow.decide(r.id, LEAD, "ravi", approve=False, note=None)
        await world.flow.decide(r.id, LEAD2, "lena", approve=True, note=None)
        (refused,) = world.trail.of(AuditEventKind.REFUSED)
        assert (refused.actor, refused.detail) == (LEAD2, "approve: decided")
        assert [e.actor for e in world.trail.of(AuditEventKind.REJECTED)] == [LEAD]

    async def test_an_unknown_request_is_gone(self, world: World) -> None:
        assert await world.flow.decide("R0BADBAD0", LEAD, None, approve=True, note=None) == GONE


class TestRequesterLostAccess:
    """The policy changed while a request waited (a restart with a new policy.toml, or a
    user-group membership that ran out): only what the requester may still ask for can be
    approved. Rejecting it always works."""

    DEMOTED = Policy(
        members={**POLICY.members, Role.AGENT: (), Role.VIEWER: (VIEWER, AGENT)},
        limits=POLICY.limits,
    )
    ELSEWHERE = Policy(
        members=POLICY.members, allowed_channels=frozenset({"C09OTHER"}), limits=POLICY.limits
    )

    @pytest.mark.parametrize("policy", [DEMOTED, ELSEWHERE], ids=["role", "channel"])
    async def test_the_approval_is_refused_and_nothing_is_sent(
        self, world: World, policy: Policy
    ) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        world.access.policy = policy
        answer = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(answer, str)
        assert answer.startswith("@U03AGENT may no longer redeem coupons here (their role or")
        assert "<@" not in answer
        assert (await world.get(r.id)).state is State.PENDING
        assert world.capillary_calls("/v1.1/coupon/redeem") == 0
        (refused,) = world.trail.of(AuditEventKind.REFUSED)
        assert (refused.actor, refused.detail) == (LEAD, "approve: requester_not_allowed")

    async def test_the_approve_button_says_why_and_opens_no_modal(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        world.access.policy = self.DEMOTED
        trigger = world.emulator.state.issue_trigger(LEAD)
        await world.flow.offer(r.id, LEAD, SUPPORT, approve=True, trigger_id=trigger)
        (said,) = world.emulator.state.ephemerals(LEAD)
        assert said.text.startswith("<@U03AGENT> may no longer redeem coupons here")
        assert world.emulator.state.views(LEAD) == []

    async def test_it_can_still_be_rejected(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        world.access.policy = self.DEMOTED
        trigger = world.emulator.state.issue_trigger(LEAD)
        await world.flow.offer(r.id, LEAD, SUPPORT, approve=False, trigger_id=trigger)
        assert len(world.emulator.state.views(LEAD)) == 1
        decided = await world.flow.decide(r.id, LEAD, "ravi", approve=False, note="left the team")
        assert isinstance(decided, Request) and decided.state is State.REJECTED

    async def test_given_back_the_role_it_can_be_approved(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        world.access.policy = self.DEMOTED
        refused = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(refused, str)
        world.access.policy = POLICY
        decided = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(decided, Request) and decided.state is State.APPROVED


class TestTheSameCustomerTypedAnotherWay:
    """Helper's walkthrough: one customer asked for by mobile, then by email (five ways in
    all), each approved separately, got a coupon each. Capillary's answer to the first names
    the customer's other identifiers: from then on they are the same request."""

    EMAIL = parse_customer("riya.sharma@example.com")

    async def test_a_second_request_approved_after_the_first_ran_is_not_sent(
        self, world: World
    ) -> None:
        by_mobile = await world.asked(Issue("1001", RIYA))
        by_email = await world.asked(Issue("1001", self.EMAIL))  # both wait: neither matched
        for r in (by_mobile, by_email):
            decided = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note=None)
            assert isinstance(decided, Request)
            await world.flow.follow_up(decided)
        assert world.capillary_calls("/v1.1/coupon/issue") == 1
        assert (await world.get(by_mobile.id)).state is State.DONE
        stopped = await world.get(by_email.id)
        assert stopped.state is State.FAILED and stopped.result == SAME_CUSTOMER
        told = world.thread_text(stopped)
        assert f"was not carried out: <{by_mobile.link}|request {by_mobile.id}> did the" in told
        assert "names r•••@example.com too" in told and "riya.sharma" not in told
        said = [m.text for m in world.emulator.state.ephemerals(LEAD) if "You approved" in m.text]
        assert said == [said[0]] and "from series 1001" in said[0]  # not told of the second
        outcomes = world.trail.of(AuditEventKind.OUTCOME)
        (not_run,) = [e for e in outcomes if e.approval_id == by_email.id]
        assert not_run.outcome is AuditOutcome.FAILED
        assert not_run.detail is not None and by_mobile.id in not_run.detail

    async def test_one_stopped_where_the_bot_can_no_longer_post_is_told_directly(
        self, world: World
    ) -> None:
        by_mobile = await world.asked(Issue("1001", RIYA))
        by_email = await world.asked(Issue("1001", self.EMAIL))
        first = await world.flow.decide(by_mobile.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(first, Request)
        await world.flow.follow_up(first)
        kicked(world)
        second = await world.flow.decide(by_email.id, LEAD2, "lena", approve=True, note=None)
        assert isinstance(second, Request)
        await world.flow.follow_up(second)  # nothing raised: the approver is told directly
        assert world.capillary_calls("/v1.1/coupon/issue") == 1
        assert (await world.get(by_email.id)).result == SAME_CUSTOMER
        (dm,) = world.dms(LEAD2)
        assert "was not carried out" in dm.text and "riya.sharma" not in dm.text

    async def test_two_approved_at_the_same_moment_are_sent_once(self, world: World) -> None:
        by_mobile = await world.asked(Issue("1001", RIYA))
        by_email = await world.asked(Issue("1001", self.EMAIL))
        decided = [
            await world.flow.decide(r.id, approver, None, approve=True, note=None)
            for r, approver in ((by_mobile, LEAD), (by_email, LEAD2))
        ]
        assert all(isinstance(d, Request) for d in decided)
        await asyncio.gather(*(world.flow.follow_up(d) for d in decided if isinstance(d, Request)))
        assert world.capillary_calls("/v1.1/coupon/issue") == 1
        states = {(await world.get(r.id)).state for r in (by_mobile, by_email)}
        assert states == {State.DONE, State.FAILED}

    @pytest.mark.parametrize("typed", ["riya.sharma@example.com", "ext:EXT-5001", "9876543210"])
    async def test_asking_again_any_way_is_a_duplicate_for_ten_minutes(
        self, world: World, typed: str
    ) -> None:
        first = await world.asked(Issue("1001", RIYA))
        decided = await world.flow.decide(first.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(decided, Request)
        await world.flow.follow_up(decided)
        again = await world.flow.open(AGENT, SUPPORT, Issue("1001", parse_customer(typed)))
        assert isinstance(again, Refused) and "was just done" in again.text
        other = await world.flow.open(AGENT, SUPPORT, Issue("1002", parse_customer(typed)))
        assert isinstance(other, Request)


class TestRecover:
    async def test_an_approved_request_never_sent_is_sent_exactly_once(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        # The previous run approved it and stopped before carrying it out.
        assert await world.store.decide(
            r.id, State.APPROVED, by=LEAD, by_name="ravi", at=world.clock.now, note=None
        )
        left = await world.flow.left_behind()
        assert [x.id for x in left] == [r.id]
        await world.flow.recover(left)
        told = len(world.thread(r))
        await world.flow.recover(left)  # a second recovery (or process) with the same list
        assert world.capillary_calls("/v1.1/coupon/redeem") == 1
        assert len(world.thread(r)) == told
        done = await world.get(r.id)
        assert done.state is State.DONE and done.result and done.result.startswith("✅ Redeemed")
        assert await world.flow.left_behind() == []
        assert "GOOD100 redeemed for ••••3210" in world.thread_text(done)
        assert "✅ Redeemed · redemption id" in json.dumps(
            world.card(done).blocks, ensure_ascii=False
        )

    async def test_an_issue_left_executing_is_unknown_and_never_sent(self, world: World) -> None:
        r = await world.asked(Issue("1001", RIYA))
        await world.store.decide(
            r.id, State.APPROVED, by=LEAD, by_name="ravi", at=world.clock.now, note=None
        )
        assert await world.store.start(r.id)  # the previous run died mid-call
        left = await world.flow.left_behind()
        assert [x.state for x in left] == [State.EXECUTING]
        await world.flow.recover(left)
        told = len(world.thread(r))
        await world.flow.recover(left)
        assert world.capillary_calls("/v1.1/coupon/issue") == 0
        assert len(world.thread(r)) == told
        unknown = await world.get(r.id)
        assert unknown.state is State.UNKNOWN
        assert unknown.result == (
            "❓ No clear answer from Capillary, and checking can't tell whether it went "
            "through: see its thread."
        )
        thread = world.thread_text(unknown)
        said = [m for m in world.thread(unknown) if STOPPED_MID_CALL in m.text]
        assert len(said) == 1  # said once, not once per recovery
        assert "Capillary can't tell us yet" in thread
        assert unknown.result in json.dumps(world.card(unknown).blocks, ensure_ascii=False)
        parent = world.emulator.state.message(SUPPORT, unknown.thread_ts or "")
        assert parent is not None and "⏳" not in parent.text

    async def test_a_pending_request_without_its_card_gets_one(self, world: World) -> None:
        opened = await world.opened(Redeem("GOOD100", RIYA))
        with_card = await world.asked(Redeem("GOOD200", RIYA))
        left = await world.flow.left_behind()
        assert [x.id for x in left] == [opened.id]  # the one with its card is fine
        await world.flow.recover(left)
        recovered = await world.get(opened.id)
        card = world.card(recovered)
        assert any(b.get("block_id") == BlockId.DECISION for b in card.blocks)
        assert recovered.state is State.PENDING and with_card.card_ts != recovered.card_ts

    async def test_an_approved_request_stopped_before_its_thread_is_started_in_full(
        self, no_approval: World
    ) -> None:
        world = no_approval
        # The previous run stored it (approved: no approval needed), acked, and stopped.
        opened = await world.opened(Redeem("GOOD100", RIYA))
        assert opened.thread_ts is None
        await world.flow.recover(await world.flow.left_behind())
        done = await world.get(opened.id)
        assert done.state is State.DONE and world.capillary_calls("/v1.1/coupon/redeem") == 1
        assert "GOOD100 redeemed for ••••3210" in world.thread_text(done)

    async def test_an_approval_older_than_its_request_is_not_carried_out(
        self, world: World
    ) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        assert await world.store.decide(
            r.id, State.APPROVED, by=LEAD, by_name="ravi", at=world.clock.now, note=None
        )
        world.clock.now = r.expires_at + timedelta(days=2)  # the bot was down since
        await world.flow.recover(await world.flow.left_behind())
        assert world.capillary_calls("/v1.1/coupon/redeem") == 0
        stopped = await world.get(r.id)
        assert stopped.state is State.FAILED and stopped.result == TOO_LATE
        told = world.thread_text(stopped)
        assert "this redeem of GOOD100 was approved, but" in told
        assert "the request's time ran out, so nothing was sent" in told
        assert TOO_LATE in json.dumps(world.card(stopped).blocks, ensure_ascii=False)
        (not_run,) = world.trail.of(AuditEventKind.OUTCOME)
        assert not_run.outcome is AuditOutcome.FAILED and not_run.approval_id == r.id
        assert await world.flow.left_behind() == []

    async def test_an_approval_too_old_and_never_posted_is_told_in_a_new_thread(
        self, no_approval: World
    ) -> None:
        world = no_approval
        # Stored and acked, then the bot stopped for longer than the request's life.
        opened = await world.opened(Redeem("GOOD100", RIYA))
        assert opened.thread_ts is None
        world.clock.now = opened.expires_at + timedelta(minutes=1)
        await world.flow.recover(await world.flow.left_behind())
        stopped = await world.get(opened.id)
        assert stopped.state is State.FAILED and stopped.thread_ts is not None
        assert world.capillary_calls("/v1.1/coupon/redeem") == 0
        assert "nothing was sent to Capillary" in world.thread_text(stopped)
        parent = world.emulator.state.message(SUPPORT, stopped.thread_ts)
        assert parent is not None and "❌" in parent.text

    async def test_a_pending_request_past_its_time_gets_no_card(self, world: World) -> None:
        opened = await world.opened(Redeem("GOOD100", RIYA))
        world.clock.now = opened.expires_at + timedelta(seconds=1)
        await world.flow.recover(await world.flow.left_behind())
        assert (await world.get(opened.id)).card_ts is None  # the expiry round says it

    async def test_a_lost_redeem_that_did_not_go_through_can_be_asked_again(
        self, no_approval: World
    ) -> None:
        world = no_approval
        world.sandbox.faults.update({"http_500_next": 1, "only_path": "coupon/redeem"})
        opened = await world.opened(Redeem("GOOD100", RIYA))
        await world.flow.start(opened)
        lost = await world.get(opened.id)
        assert lost.state is State.FAILED  # checked: GOOD100 shows no redemption
        assert "It is safe to try again." in world.thread_text(lost)
        assert lost.thread_ts is not None
        parent = world.emulator.state.message(SUPPORT, lost.thread_ts)
        assert parent is not None and parent.text.endswith("❌")  # not done, not ❓
        (ended,) = world.trail.of(AuditEventKind.OUTCOME)
        assert ended.outcome is AuditOutcome.FAILED
        again = await world.opened(Redeem("GOOD100", RIYA))  # asking again is no duplicate
        await world.flow.start(again)
        assert (await world.get(again.id)).state is State.DONE


class TestSlackFailing:
    async def test_a_rejection_or_expiry_the_thread_did_not_take_still_shows_on_the_parent(
        self, world: World
    ) -> None:
        rejected = await world.asked(Redeem("GOOD100", RIYA))
        expired = await world.asked(Redeem("GOOD200", RIYA))
        decided = await world.flow.decide(rejected.id, LEAD, "ravi", approve=False, note="no")
        assert isinstance(decided, Request)
        world.slack.failures["chat.postMessage"] = aiohttp.ClientConnectionError("reset")
        with pytest.raises(aiohttp.ClientConnectionError):
            await world.flow.follow_up(decided)
        world.clock.now = expired.expires_at
        world.slack.failures["chat.postMessage"] = aiohttp.ClientConnectionError("reset")
        await world.flow.expire_due()  # logged; the next round has nothing left to do
        for r, mark in ((rejected, "🚫"), (expired, "⌛")):
            assert r.thread_ts is not None
            parent = world.emulator.state.message(SUPPORT, r.thread_ts)
            assert parent is not None and mark in parent.text, parent

    async def test_a_command_whose_result_slack_did_not_take_still_shows_its_outcome(
        self, world: World
    ) -> None:
        # A resend went out; only the thread reply was refused. The parent says ✅ (not ❓,
        # which would invite sending it again), and the error goes on to the error exit.
        world.slack.passes["chat.postMessage"] = 1  # the parent line goes through
        world.slack.failures["chat.postMessage"] = aiohttp.ClientConnectionError("reset")
        with pytest.raises(aiohttp.ClientConnectionError):
            await world.conversation.run(AGENT, SUPPORT, Resend("GOOD100", RIYA))
        assert world.capillary_calls("/v1.1/coupon/resend") == 1
        (parent,) = world.emulator.state.messages(SUPPORT)
        assert parent.text.endswith("✅") and "❓" not in parent.text
        (outcome,) = world.trail.of(AuditEventKind.OUTCOME)
        assert outcome.outcome is AuditOutcome.OK

    async def test_a_request_whose_thread_cannot_be_posted_is_never_run(
        self, no_approval: World
    ) -> None:
        world = no_approval
        opened = await world.opened(Redeem("GOOD100", RIYA))
        refused = SlackApiError("refused", {"ok": False, "error": "fatal_error"})
        world.slack.failures["chat.postMessage"] = refused
        with pytest.raises(SlackApiError):  # on to the error exit, which tells the agent
            await world.flow.start(opened)
        stopped = await world.get(opened.id)
        assert stopped.state is State.FAILED and stopped.result == NO_THREAD
        assert await world.flow.left_behind() == []  # nothing to run at the next start
        again = await world.opened(Redeem("GOOD100", RIYA))  # asking again is no duplicate
        await world.flow.start(again)
        assert world.capillary_calls("/v1.1/coupon/redeem") == 1
        assert (await world.get(again.id)).state is State.DONE

    async def test_a_waiting_request_without_a_thread_is_no_longer_counted_pending(
        self, world: World
    ) -> None:
        opened = await world.opened(Redeem("GOOD100", RIYA))
        assert opened.state is State.PENDING
        assert world.store.pending == 1
        world.slack.failures["chat.postMessage"] = aiohttp.ClientConnectionError("reset")
        with pytest.raises(aiohttp.ClientConnectionError):
            await world.flow.start(opened)
        assert (await world.get(opened.id)).state is State.FAILED
        assert world.store.pending == 0  # what /metrics shows

    async def test_a_request_whose_card_cannot_be_posted_is_failed_not_left_waiting(
        self, world: World
    ) -> None:
        opened = await world.opened(Redeem("GOOD100", RIYA))
        assert opened.state is State.PENDING
        world.slack.passes["chat.postMessage"] = 1  # the parent line goes through
        world.slack.failures["chat.postMessage"] = aiohttp.ClientConnectionError("reset")
        with pytest.raises(aiohttp.ClientConnectionError):  # the error exit tells the agent
            await world.flow.start(opened)
        stopped = await world.get(opened.id)
        assert stopped.state is State.FAILED and stopped.result == NO_CARD
        assert stopped.card_ts is None and world.store.pending == 0
        parent = world.emulator.state.message(SUPPORT, stopped.thread_ts or "")
        assert parent is not None and "❌" in parent.text
        assert await world.flow.left_behind() == []
        await world.opened(Redeem("GOOD100", RIYA))  # asking again is no duplicate

    async def test_an_approval_is_carried_out_when_the_card_update_fails(
        self, world: World
    ) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        decided = await world.flow.decide(r.id, LEAD, "ravi", approve=True, note=None)
        assert isinstance(decided, Request)
        world.slack.failures["chat.update"] = aiohttp.ServerDisconnectedError()
        await world.flow.follow_up(decided)
        assert world.capillary_calls("/v1.1/coupon/redeem") == 1
        assert (await world.get(r.id)).state is State.DONE

    async def test_a_missing_permalink_does_not_lose_the_thread(self, world: World) -> None:
        world.slack.failures["chat.getPermalink"] = TimeoutError()
        r = await world.asked(Redeem("GOOD100", RIYA))
        assert r.thread_ts is not None and r.link is None and r.card_ts is not None
        assert await world.flow.left_behind() == []


def kicked(world: World) -> None:
    world.emulator.state.remove_member(SUPPORT, BOT_USER_ID)


def archived(world: World) -> None:
    world.emulator.state.archive(SUPPORT)


def shown(message: Message) -> str:
    return f"{message.text} {json.dumps(message.blocks, ensure_ascii=False)}"


class TestTheChannelIsGone:
    """The bot removed from the request's channel, or the channel archived, while the card
    is still on screen: money first (nothing sent that can't be reported), and whoever
    acted hears what happened."""

    @pytest.mark.parametrize(
        ("gone", "code"), [(kicked, "not_in_channel"), (archived, "is_archived")]
    )
    async def test_before_the_approval_nothing_is_sent_and_the_approver_is_told(
        self, world: World, gone: Callable[[World], None], code: str
    ) -> None:
        decided = await world.approved(Redeem("GOOD100", RIYA))
        calls = len(world.sandbox.calls)
        gone(world)
        await world.flow.follow_up(decided)  # nothing raised: nobody could be told in-channel
        assert len(world.sandbox.calls) == calls  # not even the re-check reached Capillary
        stopped = await world.get(decided.id)
        assert stopped.state is State.FAILED and stopped.result == NO_CHANNEL
        assert await world.flow.left_behind() == []  # never sent later either
        (ended,) = world.trail.of(AuditEventKind.OUTCOME)
        assert ended.outcome is AuditOutcome.FAILED and ended.approval_id == decided.id
        assert ended.detail == f"the bot can no longer post in the channel ({code})"
        (dm,) = world.dms(LEAD)
        assert dm.text.startswith(f"❌ You approved request {decided.id} (redeem GOOD100 for")
        assert "••••3210" in dm.text and "<@U03AGENT>" in dm.text
        assert f"(Slack: `{code}`;" in dm.text and "nothing was sent to Capillary" in dm.text
        assert RAW_MOBILE[2:] not in dm.text
        assert world.dms(AGENT) == []

    async def test_removed_the_card_and_parent_still_say_it_was_not_done(
        self, world: World
    ) -> None:
        decided = await world.approved(Redeem("GOOD100", RIYA))
        kicked(world)  # Slack still lets the bot edit its own messages there
        await world.flow.follow_up(decided)
        stopped = await world.get(decided.id)
        card = shown(world.card(stopped))
        assert NO_CHANNEL in card and "Approved by <@U02LEAD>" in card
        assert BlockId.DECISION not in card  # no buttons left to click
        assert world.parent(stopped).text.endswith("❌")

    async def test_a_passing_word_to_the_approver_comes_first_in_the_thread(
        self, world: World
    ) -> None:
        decided = await world.approved(Redeem("GOOD100", RIYA))
        await world.flow.follow_up(decided)
        (said,) = world.emulator.state.ephemerals(LEAD)
        assert said.thread_ts == decided.thread_ts
        assert said.text.startswith("You approved this redeem of GOOD100: it is being carried")
        assert (await world.get(decided.id)).state is State.DONE
        assert world.dms(LEAD) == []

    @pytest.mark.parametrize(
        "failure",
        [
            TimeoutError(),
            aiohttp.ServerDisconnectedError(),
            SlackApiError("429", {"ok": False, "error": "ratelimited"}),
            SlackApiError("5xx", {"ok": False, "error": "internal_error"}),
            SlackApiError("not a member", {"ok": False, "error": "user_not_in_channel"}),
        ],
        ids=["timeout", "disconnected", "ratelimited", "internal_error", "approver_not_in"],
    )
    async def test_a_passing_slack_failure_before_the_call_does_not_drop_the_approval(
        self, world: World, failure: BaseException
    ) -> None:
        decided = await world.approved(Redeem("GOOD100", RIYA))
        world.slack.failures["chat.postEphemeral"] = failure
        await world.flow.follow_up(decided)
        assert world.capillary_calls("/v1.1/coupon/redeem") == 1
        done = await world.get(decided.id)
        assert done.state is State.DONE
        assert "GOOD100 redeemed for ••••3210" in world.thread_text(done)

    async def test_removed_during_the_call_the_result_is_kept_shown_and_sent_to_the_approver(
        self, world: World, caplog: pytest.LogCaptureFixture
    ) -> None:
        decided = await world.approved(Redeem("GOOD100", RIYA))
        # Right after the word to the approver, before Capillary is called: as if removed
        # while the call was on its way (nothing asks Slack in between).
        world.slack.then["chat.postEphemeral"] = lambda: kicked(world)
        await world.flow.follow_up(decided)  # no traceback for the error exit
        assert world.capillary_calls("/v1.1/coupon/redeem") == 1
        done = await world.get(decided.id)
        assert done.state is State.DONE and done.result and done.result.startswith("✅ Redeemed")
        assert "redeemed for" not in world.thread_text(done)  # the thread took nothing
        card = shown(world.card(done))
        assert "✅ Redeemed · redemption id" in card and "in progress" not in card
        assert world.parent(done).text.endswith("✅")
        (dm,) = world.dms(LEAD)
        text = shown(dm)
        assert f"The result of request {done.id} (redeem GOOD100 for ••••3210" in text
        assert "could not be posted in its thread in <#C01SUPPORT> (Slack: `not_in_channel`)" in (
            text
        )
        assert "Please tell <@U03AGENT>." in text and "GOOD100 redeemed for ••••3210" in text
        assert RAW_MOBILE[2:] not in text
        (ended,) = world.trail.of(AuditEventKind.OUTCOME)
        assert ended.outcome is AuditOutcome.OK
        assert f"result of approval request {done.id} (done) not posted" in caplog.text
        assert RAW_MOBILE[2:] not in caplog.text

    async def test_a_reply_lost_to_a_timeout_still_reaches_the_approver(self, world: World) -> None:
        decided = await world.approved(Issue("1001", RIYA))
        world.slack.failures["chat.postMessage"] = TimeoutError()  # the result, not the DM
        await world.flow.follow_up(decided)
        assert world.capillary_calls("/v1.1/coupon/issue") == 1
        done = await world.get(decided.id)
        assert done.state is State.DONE
        assert "✅ Issued coupon" in shown(world.card(done))
        assert world.parent(done).text.endswith("✅")
        (dm,) = world.dms(LEAD)
        assert "(Slack: `TimeoutError`)" in shown(dm) and "✅ Issued *" in shown(dm)

    async def test_with_no_approver_the_requester_is_told(self, no_approval: World) -> None:
        world = no_approval
        opened = await world.opened(Redeem("GOOD100", RIYA))
        world.slack.passes["chat.postMessage"] = 1  # the parent line goes through
        world.slack.failures["chat.postMessage"] = aiohttp.ServerDisconnectedError()
        await world.flow.start(opened)
        assert (await world.get(opened.id)).state is State.DONE
        (dm,) = world.dms(AGENT)
        assert "GOOD100 redeemed for ••••3210" in shown(dm)
        assert "Please tell" not in dm.text  # they asked for it themselves

    async def test_when_no_one_can_be_told_it_is_logged_and_still_stored(
        self, world: World, caplog: pytest.LogCaptureFixture
    ) -> None:
        decided = await world.approved(Redeem("GOOD100", RIYA))
        world.slack.broken["chat.postMessage"] = SlackApiError(
            "down", {"ok": False, "error": "fatal_error"}
        )
        await world.flow.follow_up(decided)
        done = await world.get(decided.id)
        assert done.state is State.DONE and world.capillary_calls("/v1.1/coupon/redeem") == 1
        assert "✅ Redeemed" in shown(world.card(done))
        (record,) = [r for r in caplog.records if "by direct message either" in r.message]
        assert record.levelname == "ERROR"
        assert record.message == (
            f"approval request {done.id} (done): U02LEAD could not be told by direct message "
            "either (fatal_error)"
        )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SlackApiError("x", {"ok": False, "error": "not_in_channel"}), "not_in_channel"),
        (SlackApiError("x", {"ok": False, "error": "is_inactive"}), "is_inactive"),
        (SlackApiError("x", {"ok": False, "error": "ratelimited"}), None),
        (SlackApiError("x", {"ok": False}), None),
        (TimeoutError(), None),
        (aiohttp.ClientConnectionError(), None),
    ],
)
def test_cannot_post_only_names_where_the_bot_cannot_post(
    error: BaseException, code: str | None
) -> None:
    assert cannot_post(error) == code
    assert code is None or code in CANNOT_POST


class TestExpiry:
    async def test_expire_due_twice_tells_once(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        world.clock.now = r.expires_at
        assert await world.flow.expire_due() == 1
        expired = await world.get(r.id)
        assert expired.state is State.EXPIRED
        thread, updates = len(world.thread(expired)), len(world.emulator.state.calls("chat.update"))
        assert "nobody approved this redeem of GOOD100 in time" in world.thread_text(expired)
        card = json.dumps(world.card(expired).blocks, ensure_ascii=False)
        assert "⌛ Expired" in card and BlockId.DECISION not in card
        assert await world.flow.expire_due() == 0
        assert len(world.thread(expired)) == thread
        assert len(world.emulator.state.calls("chat.update")) == updates

    async def test_nothing_expires_early(self, world: World) -> None:
        r = await world.asked(Redeem("GOOD100", RIYA))
        world.clock.now = r.expires_at - timedelta(seconds=1)
        assert await world.flow.expire_due() == 0
        assert (await world.get(r.id)).state is State.PENDING


class TestUsage:
    async def test_usage_counts_what_counts(self, world: World) -> None:
        assert await world.flow.usage(AGENT) == [(Verb.ISSUE, 0, 2), (Verb.REDEEM, 0, 5)]
        await world.asked(Redeem("GOOD100", RIYA))
        rejected = await world.asked(Redeem("GOOD200", RIYA))
        await world.asked(Issue("1001", RIYA))
        await world.asked(Redeem("GOOD300", RIYA), actor=LEAD)  # someone else's
        assert isinstance(
            await world.flow.decide(rejected.id, LEAD, None, approve=False, note="no"), Request
        )
        assert await world.flow.usage(AGENT) == [(Verb.ISSUE, 1, 2), (Verb.REDEEM, 1, 5)]
        world.clock.now += timedelta(hours=24, seconds=1)
        assert await world.flow.usage(AGENT) == [(Verb.ISSUE, 0, 2), (Verb.REDEEM, 0, 5)]

    async def test_over_the_limit_is_refused_with_the_count(self, world: World) -> None:
        await world.asked(Issue("1001", RIYA))
        await world.asked(Issue("1002", RIYA))
        refused = await world.flow.open(AGENT, SUPPORT, Issue("1003", RIYA))
        assert isinstance(refused, Refused)
        assert "2 issues in the last 24 hours (the limit is 2)" in refused.text
        (audited,) = world.trail.of(AuditEventKind.REFUSED)
        assert audited.detail == "daily limit reached (2 of 2)"
        assert audited.approval_id is None  # never stored: no request by any id

    async def test_a_duplicate_is_audited_naming_the_first_request_only(self, world: World) -> None:
        first = await world.asked(Redeem("GOOD100", RIYA))
        refused = await world.flow.open(AGENT, SUPPORT, Redeem("GOOD100", RIYA))
        assert isinstance(refused, Refused)
        (audited,) = world.trail.of(AuditEventKind.REFUSED)
        assert audited.detail == f"duplicate of request {first.id}"
        assert audited.approval_id is None

    async def test_no_limits_no_usage(self, tmp_path: Path) -> None:
        async for world in make_world(tmp_path, Policy(members=POLICY.members)):
            await world.asked(Redeem("GOOD100", RIYA))
            assert await world.flow.usage(AGENT) == []
