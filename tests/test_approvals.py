"""Approval rules, pure: who may decide a request and when, why one waits, what makes two
requests the same, and the ids people quote."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.approvals import (
    Blocked,
    Request,
    State,
    Why,
    dedup_key,
    echoed_keys,
    may_decide,
    new_request_id,
    why_approval,
)
from bot.blocks.approvals import read_request_id
from bot.capillary.identifiers import CustomerId, CustomerKind, parse_customer
from bot.capillary.models import CustomerInfo
from bot.commands import Issue, Redeem, Verb
from bot.grammar import parse_command
from bot.policy import ApprovalRules, Policy, Role

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RIYA = parse_customer("+919876543210")
ARJUN = parse_customer("+919812345678")
AGENT, LEAD = "U03AGENT", "U02LEAD"
DECIDED_STATES = (
    State.APPROVED,
    State.EXECUTING,
    State.DONE,
    State.FAILED,
    State.UNKNOWN,
    State.REJECTED,
)


def request(state: State = State.PENDING, **changes: object) -> Request:
    base = Request(
        id="R0000AAAA",
        command=Redeem("GOOD100", RIYA),
        requester=AGENT,
        channel="C01SUPPORT",
        state=state,
        created_at=T0,
        expires_at=T0 + timedelta(hours=4),
        why=Why.POLICY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class TestMayDecide:
    @pytest.mark.parametrize("role", [Role.APPROVER, Role.ADMIN])
    def test_another_approver_may_decide_a_pending_request(self, role: Role) -> None:
        assert may_decide(request(), LEAD, role, T0 + timedelta(minutes=5)) is None

    @pytest.mark.parametrize("role", [None, Role.VIEWER, Role.AGENT])
    def test_below_approver_may_not(self, role: Role | None) -> None:
        assert may_decide(request(), "U04VIEWER", role, T0) is Blocked.NOT_APPROVER

    @pytest.mark.parametrize("role", [None, Role.AGENT, Role.APPROVER, Role.ADMIN])
    def test_nobody_decides_their_own_request_whatever_their_role(self, role: Role | None) -> None:
        assert may_decide(request(), AGENT, role, T0) is Blocked.OWN_REQUEST

    def test_pending_past_its_time_is_expired_even_before_expiry_marked_it(self) -> None:
        r = request()
        assert may_decide(r, LEAD, Role.APPROVER, r.expires_at) is Blocked.EXPIRED
        assert may_decide(r, LEAD, Role.APPROVER, r.expires_at + timedelta(days=3)) is (
            Blocked.EXPIRED
        )

    def test_the_last_microsecond_before_expiry_still_counts(self) -> None:
        r = request()
        assert may_decide(r, LEAD, Role.APPROVER, r.expires_at - timedelta(microseconds=1)) is None

    def test_expired_state_is_expired_even_within_its_time(self) -> None:
        # The expiry round ran (or another process did): the stored state wins over the clock.
        assert may_decide(request(State.EXPIRED), LEAD, Role.APPROVER, T0) is Blocked.EXPIRED

    @pytest.mark.parametrize("who", [(AGENT, Role.AGENT), ("U04VIEWER", None)])
    def test_expiry_is_told_before_own_request_or_role(self, who: tuple[str, Role | None]) -> None:
        user, role = who
        late = T0 + timedelta(hours=5)
        assert may_decide(request(), user, role, late) is Blocked.EXPIRED

    @pytest.mark.parametrize("state", DECIDED_STATES)
    def test_a_decided_request_is_decided_before_and_after_its_time(self, state: State) -> None:
        r = request(state)
        assert may_decide(r, LEAD, Role.APPROVER, T0) is Blocked.DECIDED
        # Past expires_at it is still "decided", never "expired": it was decided in time.
        assert may_decide(r, LEAD, Role.APPROVER, r.expires_at + timedelta(hours=1)) is (
            Blocked.DECIDED
        )

    @pytest.mark.parametrize("state", DECIDED_STATES)
    def test_decided_is_told_before_own_request_or_role(self, state: State) -> None:
        assert may_decide(request(state), AGENT, Role.AGENT, T0) is Blocked.DECIDED
        assert may_decide(request(state), "U05GUEST", None, T0) is Blocked.DECIDED

    def test_an_approval_for_a_requester_the_policy_no_longer_allows_is_blocked(self) -> None:
        blocked = may_decide(
            request(), LEAD, Role.APPROVER, T0, approve=True, requester_allowed=False
        )
        assert blocked is Blocked.REQUESTER_NOT_ALLOWED

    def test_such_a_request_can_still_be_rejected(self) -> None:
        assert may_decide(request(), LEAD, Role.APPROVER, T0, requester_allowed=False) is None

    def test_the_requester_s_access_is_told_after_who_may_decide(self) -> None:
        late = T0 + timedelta(hours=5)
        for user, role, when, told in [
            (LEAD, Role.APPROVER, late, Blocked.EXPIRED),
            (AGENT, Role.ADMIN, T0, Blocked.OWN_REQUEST),
            ("U04VIEWER", Role.VIEWER, T0, Blocked.NOT_APPROVER),
        ]:
            blocked = may_decide(request(), user, role, when, approve=True, requester_allowed=False)
            assert blocked is told


class TestEchoedKeys:
    ECHO = CustomerInfo(
        id="005001", mobile="919876543210", email="Riya.Sharma@example.com", external_id="EXT-5001"
    )

    def test_every_identifier_capillary_echoed_is_a_key_of_the_same_request(self) -> None:
        command = Issue("1001", parse_customer("9876543210"))
        assert echoed_keys(command, self.ECHO) == {
            "issue:1001:email:riya.sharma@example.com",
            "issue:1001:external_id:EXT-5001",
            "issue:1001:id:5001",
        }  # the mobile's key is the request's own: left out

    def test_a_redeem_s_keys_name_its_code(self) -> None:
        keys = echoed_keys(Redeem("GOOD100", parse_customer("ext:EXT-5001")), self.ECHO)
        assert "redeem:GOOD100:mobile:9876543210" in keys

    def test_nothing_echoed_or_unreadable_gives_nothing(self) -> None:
        command = Issue("1001", parse_customer("9876543210"))
        assert echoed_keys(command, None) == frozenset()
        assert echoed_keys(command, CustomerInfo(mobile="NULL", email="-")) == frozenset()


class TestWhyApproval:
    @pytest.mark.parametrize("verb", [Verb.ISSUE, Verb.REDEEM])
    @pytest.mark.parametrize("role", [None, Role.VIEWER, Role.AGENT])
    def test_below_approver_waits_by_policy(self, verb: Verb, role: Role | None) -> None:
        for flag in (True, False):
            policy = Policy(approval=ApprovalRules(approvers_need_approval=flag))
            assert why_approval(policy, verb, role) is Why.POLICY

    @pytest.mark.parametrize("role", [Role.APPROVER, Role.ADMIN])
    def test_approvers_own_requests_wait_when_the_policy_says_so(self, role: Role) -> None:
        policy = Policy(approval=ApprovalRules(approvers_need_approval=True))
        assert why_approval(policy, Verb.REDEEM, role) is Why.APPROVER_OWN
        assert why_approval(policy, Verb.ISSUE, role) is Why.APPROVER_OWN

    @pytest.mark.parametrize("role", [Role.APPROVER, Role.ADMIN])
    def test_approvers_run_directly_otherwise(self, role: Role) -> None:
        policy = Policy(approval=ApprovalRules(approvers_need_approval=False))
        assert why_approval(policy, Verb.REDEEM, role) is None

    @pytest.mark.parametrize("role", [None, Role.AGENT, Role.APPROVER, Role.ADMIN])
    def test_a_verb_outside_required_for_never_waits(self, role: Role | None) -> None:
        policy = Policy(approval=ApprovalRules(required_for=frozenset({Verb.REDEEM})))
        assert why_approval(policy, Verb.ISSUE, role) is None
        assert why_approval(policy, Verb.REDEEM, role) is not None


class TestDedupKey:
    def test_the_same_redeem_typed_differently_is_the_same(self) -> None:
        first = parse_command("redeem good100 +91-98765-43210 txn=B-1 amount=1450")
        second = parse_command("redeem GOOD100 +919876543210")
        assert isinstance(first, Redeem) and isinstance(second, Redeem)
        # Bill details are not part of "the same redeem": one coupon, one customer.
        assert dedup_key(first) == dedup_key(second)

    def test_a_mobile_with_or_without_its_country_code_is_the_same_customer(self) -> None:
        # Capillary matches either, so both would reach the same customer.
        with_code = parse_command("issue 1001 +919876543210")
        without = parse_command("issue 1001 9876543210")
        assert isinstance(with_code, Issue) and isinstance(without, Issue)
        assert dedup_key(with_code) == dedup_key(without)

    def test_the_same_issue_with_an_email_in_another_case_is_the_same(self) -> None:
        first = parse_command("issue 1001 Riya@Example.com")
        second = parse_command("issue 1001 riya@example.com")
        assert isinstance(first, Issue) and isinstance(second, Issue)
        assert dedup_key(first) == dedup_key(second)

    def test_customer_code_series_and_verb_each_make_a_difference(self) -> None:
        keys = {
            dedup_key(Redeem("GOOD100", RIYA)),
            dedup_key(Redeem("GOOD100", ARJUN)),
            dedup_key(Redeem("GOOD200", RIYA)),
            dedup_key(Issue("1001", RIYA)),
            dedup_key(Issue("1002", RIYA)),
            dedup_key(Issue("1001", ARJUN)),
            dedup_key(Issue("GOOD100", RIYA)),  # same text as a code, another verb
        }
        assert len(keys) == 7

    def test_the_kind_of_identifier_makes_a_difference(self) -> None:
        as_id = CustomerId(CustomerKind.ID, "9876543210")
        as_mobile = CustomerId(CustomerKind.MOBILE, "9876543210")
        assert dedup_key(Redeem("GOOD100", as_id)) != dedup_key(Redeem("GOOD100", as_mobile))

    def test_bill_amount_does_not_split_duplicates(self) -> None:
        one = Redeem("GOOD100", RIYA, "B-1", Decimal("10"))
        other = Redeem("GOOD100", RIYA, "B-2", Decimal("99"), "V1")
        assert dedup_key(one) == dedup_key(other)


class TestRequestIds:
    def test_new_ids_have_the_quoted_shape_and_are_read_back(self) -> None:
        ids = {new_request_id() for _ in range(200)}
        assert len(ids) == 200
        for request_id in ids:
            assert len(request_id) == 9 and request_id.startswith("R")
            assert read_request_id(request_id) == request_id

    def test_request_properties(self) -> None:
        redeem = request()
        issue = request(command=Issue("1001", RIYA), why=None)
        assert redeem.subject == "GOOD100" and redeem.verb is Verb.REDEEM
        assert redeem.needs_approval
        assert issue.subject == "series 1001" and issue.verb is Verb.ISSUE
        assert not issue.needs_approval

    @pytest.mark.parametrize("state", [s for s in State if s is not State.PENDING])
    def test_only_a_pending_request_runs_out_of_time(self, state: State) -> None:
        late = T0 + timedelta(days=1)
        assert request().timed_out(late)
        assert not request(state).timed_out(late)
