"""The approval card, its modals, refusals, lists and the Home tab, as pure builders, each
run through the Slack emulator's Block Kit validation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.approvals import Blocked, PreCheck, Request, State, Why
from bot.blocks.approvals import (
    GONE,
    MAX_NOTE,
    approval_card,
    approve_modal,
    blocked_text,
    duplicate_text,
    expired_notice,
    home_view,
    lost_race_text,
    over_limit_text,
    pending_message,
    precheck_of,
    read_request_id,
    reject_modal,
    rejected_notice,
    result_line,
    too_late_notice,
)
from bot.blocks.format import plain
from bot.blocks.messages import refusal
from bot.blocks.results import SlackMessage
from bot.capillary.catalogue import (
    TransportFailure,
    explain_item,
    explain_request,
    explain_transport,
)
from bot.capillary.identifiers import parse_customer
from bot.capillary.models import OutcomeUnknown, Redeemability, Series
from bot.commands import Check, Issue, Redeem, SeriesInfo, Verb
from bot.ids import ActionId, BlockId, CallbackId
from bot.payload import error_block_id
from bot.policy import RefusalReason
from bot.sandbox.slack.validation import check_message_blocks, check_view
from bot.service import Checked, Failed, Known, SeriesFound, Unknown

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
# isredeemable takes neither (v1.1): a card must not let a green pre-check vouch for them.
UNCHECKED = " (the bill and any validation code are checked when it runs)"
RAW_MOBILE = "919876543210"
RAW_EMAIL = "riya.sharma@example.com"
RIYA = parse_customer("+" + RAW_MOBILE)
RIYA_MAIL = parse_customer(RAW_EMAIL)
RAW_FRAGMENTS = (RAW_MOBILE, RAW_MOBILE[2:], "98765", RAW_EMAIL, "riya.sharma")
AGENT, LEAD = "U03AGENT", "U02LEAD"
LINK = "https://sandbox-retail.slack.com/archives/C01SUPPORT/p1700000000000100"


def request(state: State = State.PENDING, **changes: Any) -> Request:
    base = Request(
        id="R7F3A9C21",
        command=Redeem("GOOD100", RIYA, "B-1182", Decimal("1450")),
        requester=AGENT,
        channel="C01SUPPORT",
        state=state,
        created_at=T0,
        expires_at=T0 + timedelta(hours=4),
        why=Why.POLICY,
        precheck=PreCheck(True, "redeemable now, 1 redemption left"),
    )
    return replace(base, **changes)


def decided(state: State, **changes: Any) -> Request:
    made = {"decided_by": LEAD, "decided_by_name": "ravi", "decided_at": T0 + timedelta(minutes=7)}
    return request(state, **{**made, **changes})


def stamp(at: datetime) -> str:
    """The start of Slack's date token for ``at``."""
    return f"<!date^{int(at.timestamp())}^"


def shown(message: SlackMessage) -> str:
    """The message as Slack gets it, after checking Slack would take it."""
    body = message.as_kwargs()
    assert check_message_blocks(body["blocks"]) == []
    assert body["text"]
    return json.dumps(body, ensure_ascii=False)


def modal(view: View) -> dict[str, Any]:
    data = view.to_dict()
    assert check_view(data) == []
    return data


def home(view: View) -> dict[str, Any]:
    """A Home tab: the emulator checks modals, so check its blocks as a modal's (same limits)."""
    data = view.to_dict()
    assert data["type"] == "home"
    as_modal = {"type": "modal", "title": {"type": "plain_text", "text": "Home"}, **data}
    as_modal["type"] = "modal"
    assert check_view(as_modal) == []
    return data


def no_raw_customer(text: str) -> None:
    for fragment in RAW_FRAGMENTS:
        assert fragment not in text


def decision_block(message: SlackMessage) -> dict[str, Any] | None:
    found = [b for b in message.as_kwargs()["blocks"] if b.get("block_id") == BlockId.DECISION]
    assert len(found) <= 1
    return found[0] if found else None


class TestCard:
    def test_pending_has_approve_and_reject_carrying_only_the_id(self) -> None:
        card = approval_card(request())
        text = shown(card)
        block = decision_block(card)
        assert block is not None and block["type"] == "actions"
        buttons = block["elements"]
        assert [(b["action_id"], b["value"], b.get("style")) for b in buttons] == [
            (ActionId.APPROVE, "R7F3A9C21", "primary"),
            (ActionId.REJECT, "R7F3A9C21", "danger"),
        ]
        assert "*Approval needed* — redeem GOOD100 for ••••3210 · bill B-1182 ₹1,450" in text
        assert "Asked by <@U03AGENT> · redeeming needs a second person" in text
        assert f"expires {stamp(T0 + timedelta(hours=4))}" in text
        assert "✅ Pre-check: redeemable now, 1 redemption left" in text
        assert "Request R7F3A9C21" in text
        assert "in progress" not in text and "Approved" not in text
        no_raw_customer(text)

    def test_an_approvers_own_issue_says_why(self) -> None:
        r = request(command=Issue("1001", RIYA_MAIL), why=Why.APPROVER_OWN)
        text = shown(approval_card(r))
        assert "an approver's own issue needs another approver" in text
        assert "issue from series 1001 to r•••@example.com" in text
        no_raw_customer(text)

    @pytest.mark.parametrize(
        ("precheck", "line"),
        [
            (None, "Pre-check: checking with Capillary…"),
            (PreCheck(False, "this would fail now: x"), "⚠️ Pre-check: this would fail now: x"),
            (PreCheck(None, "couldn't check"), "❔ Pre-check: couldn't check"),
        ],
    )
    def test_the_precheck_line(self, precheck: PreCheck | None, line: str) -> None:
        assert line in shown(approval_card(request(precheck=precheck)))

    @pytest.mark.parametrize("state", [State.APPROVED, State.EXECUTING])
    def test_approved_shows_who_and_in_progress_without_buttons(self, state: State) -> None:
        card = approval_card(decided(state, note="ok by me"))
        text = shown(card)
        assert decision_block(card) is None
        assert "✅ Approved by <@U02LEAD> <!date^" in text and "“ok by me”" in text
        assert "⏳ Redeem in progress…" in text

    def test_an_issue_in_progress_says_issue(self) -> None:
        text = shown(approval_card(decided(State.EXECUTING, command=Issue("1001", RIYA))))
        assert "⏳ Issue in progress…" in text

    @pytest.mark.parametrize(
        ("state", "result"),
        [
            (State.DONE, "✅ Redeemed · redemption id 88213"),
            (State.FAILED, "❌ Not done: this coupon has expired."),
            (
                State.UNKNOWN,
                (
                    "❓ No clear answer from Capillary, and checking can't tell whether it went "
                    "through: see its thread."
                ),
            ),
        ],
    )
    def test_finished_shows_the_result_line(self, state: State, result: str) -> None:
        card = approval_card(decided(state, result=result, finished_at=T0 + timedelta(hours=1)))
        text = shown(card)
        assert decision_block(card) is None
        assert result in text and "✅ Approved by <@U02LEAD>" in text
        assert "in progress" not in text

    @pytest.mark.parametrize("state", [s for s in State if s is not State.PENDING])
    def test_buttons_only_while_pending_even_without_a_decision(self, state: State) -> None:
        # A request that needed no approval (or one whose decision is unknown) never gets
        # buttons once it has moved on.
        card = approval_card(request(state, why=None, result="✅ Issued coupon X"))
        assert decision_block(card) is None
        text = shown(card)
        # Decided or over: the card keeps its headline (UX.md), but no deadline to meet.
        assert "expires" not in text

    def test_a_pending_card_asks_and_says_until_when(self) -> None:
        text = shown(approval_card(request(State.PENDING)))
        assert "*Approval needed* — " in text and "expires <!date^" in text

    def test_a_pending_card_mentions_its_approvers_and_a_decided_one_not(self) -> None:
        leads = "<!subteam^S01LEADS|@support-leads>"
        assert f"· for {leads}" in shown(approval_card(request(State.PENDING), "₹", leads))
        assert leads not in shown(approval_card(decided(State.DONE), "₹", leads))

    def test_rejected_shows_who_and_why(self) -> None:
        card = approval_card(decided(State.REJECTED, note="bill was already paid"))
        text = shown(card)
        assert decision_block(card) is None
        assert "🚫 Rejected by <@U02LEAD> <!date^" in text
        assert "“bill was already paid”" in text
        assert "Approved" not in text and "in progress" not in text

    def test_rejected_notice_tells_the_requester_who_rejected_and_what_next(self) -> None:
        notice = rejected_notice(decided(State.REJECTED, note="bill was already paid"))
        assert notice == (
            "<@U03AGENT>: <@U02LEAD> rejected this redeem of GOOD100: “bill was already paid”. "
            "Nothing was sent to Capillary. "
            "*Next step:* tell the customer, or change the request and ask again."
        )

    def test_rejected_notice_without_a_reason_or_an_approver(self) -> None:
        notice = rejected_notice(request(State.REJECTED))
        assert notice.startswith(
            "<@U03AGENT>: an approver rejected this redeem of GOOD100. Nothing was sent to "
            "Capillary. "
        )

    def test_notices_name_what_they_are_about(self) -> None:
        issue = request(State.REJECTED, command=Issue("1001", RIYA))
        assert "an approver rejected this issue from series 1001." in rejected_notice(issue)
        assert "nobody approved this issue from series 1001 in time" in expired_notice(issue)
        assert too_late_notice(issue).startswith("<@U03AGENT> this issue from series 1001 was")

    def test_expired_says_so_and_has_no_buttons(self) -> None:
        r = request(State.EXPIRED, finished_at=T0 + timedelta(hours=4, seconds=20))
        card = approval_card(r)
        text = shown(card)
        assert decision_block(card) is None
        assert (
            f"⌛ Expired {stamp(T0 + timedelta(hours=4, seconds=20))}" in text
            and "nobody decided in time" in text
        )
        assert "Approved" not in text and "Rejected" not in text

    def test_a_note_is_masked_escaped_and_kept_on_one_line(self) -> None:
        note = (
            f"call 9876543210 or mail {RAW_EMAIL}\n<script>alert(1)</script> "
            "<@U01ADMIN> <!channel> & done"
        )
        text = shown(approval_card(decided(State.REJECTED, note=note)))
        no_raw_customer(text)
        assert "••••3210" in text and "r•••@example.com" in text
        assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<@U01ADMIN>" not in text and "&lt;@U01ADMIN&gt;" in text
        assert "<!channel>" not in text and "&amp; done" in text
        assert "\\n" not in text.split("Rejected by", 1)[1].split("”")[0]

    def test_a_very_long_note_is_cut_and_still_valid(self) -> None:
        text = shown(approval_card(decided(State.APPROVED, note="x" * 5000)))
        assert "x" * 299 in text and "x" * 301 not in text

    def test_no_raw_customer_in_any_state(self) -> None:
        for state in State:
            for command in (Redeem("GOOD100", RIYA), Issue("1001", RIYA_MAIL)):
                r = decided(state, command=command, result="done", finished_at=T0)
                no_raw_customer(shown(approval_card(r)))


class TestModals:
    def test_approve_modal(self) -> None:
        data = modal(approve_modal(request()))
        assert data["type"] == "modal" and data["callback_id"] == CallbackId.APPROVE_FORM
        assert data["private_metadata"] == "R7F3A9C21"
        assert data["title"]["text"] == "Approve redeem" and data["submit"]["text"] == "Redeem"
        dumped = json.dumps(data, ensure_ascii=False)
        assert "Redeem GOOD100 for ••••3210 · bill B-1182 ₹1,450?" in dumped
        no_raw_customer(dumped)
        (note,) = [b for b in data["blocks"] if b["type"] == "input"]
        assert note["block_id"] == BlockId.NOTE and note["optional"] is True
        assert note["element"]["action_id"] == ActionId.INPUT
        assert note["element"]["max_length"] == MAX_NOTE

    def test_approving_what_the_pre_check_said_would_fail_says_anyway(self) -> None:
        warned = request(precheck=PreCheck(False, "this would fail now: it has expired."))
        data = modal(approve_modal(warned))
        assert data["submit"]["text"] == "Redeem anyway"
        assert "⚠️ Pre-check: this would fail now" in json.dumps(data, ensure_ascii=False)
        unsure = request(precheck=PreCheck(None, "couldn't check"))
        assert modal(approve_modal(unsure))["submit"]["text"] == "Redeem"

    def test_approve_modal_for_an_issue(self) -> None:
        data = modal(approve_modal(request(command=Issue("1001", RIYA_MAIL))))
        assert data["title"]["text"] == "Approve issue" and data["submit"]["text"] == "Issue"
        assert "Issue from series 1001 to r•••@example.com?" in json.dumps(data, ensure_ascii=False)

    def test_reject_modal_needs_a_reason(self) -> None:
        data = modal(reject_modal(request()))
        assert data["callback_id"] == CallbackId.REJECT_FORM
        assert data["private_metadata"] == "R7F3A9C21"
        (reason,) = [b for b in data["blocks"] if b["type"] == "input"]
        assert reason["block_id"] == BlockId.REASON
        assert reason.get("optional", False) is False
        assert reason["element"]["max_length"] == MAX_NOTE
        no_raw_customer(json.dumps(data, ensure_ascii=False))

    def test_errors_show_under_the_input_not_the_question_above_it(self) -> None:
        # The question (a section) comes first; Slack keys response_action errors by inputs.
        assert error_block_id(modal(approve_modal(request()))) == BlockId.NOTE
        assert error_block_id(modal(reject_modal(request()))) == BlockId.REASON

    @pytest.mark.parametrize("build", [approve_modal, reject_modal])
    def test_titles_fit_slack(self, build: Any) -> None:
        for command in (Redeem("GOOD100", RIYA), Issue("1001", RIYA)):
            title = build(request(command=command)).to_dict()["title"]["text"]
            assert 0 < len(title) <= 24


def redeemability(redeemable: bool, **extra: Any) -> Checked:
    result = Redeemability.model_validate({"code": "GOOD100", "is_redeemable": redeemable, **extra})
    return Checked(Check("GOOD100", RIYA), result)


def series(**extra: Any) -> SeriesFound:
    data = {"id": "1001", "description": "Diwali <welcome>", "valid_till_date": "2026-12-31"}
    return SeriesFound(SeriesInfo("1001"), Series.model_validate({**data, **extra}))


class TestPrecheck:
    @pytest.mark.parametrize(
        ("left", "words"),
        [
            (1, "1 redemption left"),
            (3, "3 redemptions left"),
            (-1, "unlimited redemptions"),
            (None, "redemptions left unknown"),
        ],
    )
    def test_redeemable(self, left: int | None, words: str) -> None:
        extra = {} if left is None else {"redemptions_left": str(left)}
        abs_coupon = {"coupon_value": "200", "series_info": {"discount_type": "ABS"}}
        pre = precheck_of(redeemability(True, **abs_coupon, **extra), TODAY)
        assert pre == PreCheck(True, f"redeemable now, {words}, ₹200 off{UNCHECKED}")

    @pytest.mark.parametrize(
        ("discount_type", "value"), [("PERC", "20% off"), ("ABS", "₹20 off"), (None, "20 off")]
    )
    def test_redeemable_value_is_shown_as_its_kind(
        self, discount_type: str | None, value: str
    ) -> None:
        info = {"series_info": {"discount_type": discount_type}} if discount_type else {}
        checked = redeemability(True, redemptions_left="1", coupon_value="20", **info)
        pre = precheck_of(checked, TODAY)
        assert pre == PreCheck(True, f"redeemable now, 1 redemption left, {value}{UNCHECKED}")

    def test_redeemable_without_a_value(self) -> None:
        pre = precheck_of(redeemability(True, redemptions_left="1"), TODAY, "$")
        assert pre == PreCheck(True, f"redeemable now, 1 redemption left{UNCHECKED}")

    def test_not_redeemable_gives_capillarys_reason(self) -> None:
        pre = precheck_of(redeemability(False, reason=explain_item(712)), TODAY)
        assert pre == PreCheck(
            False, "this would fail now: the campaign behind this coupon has ended."
        )

    def test_not_redeemable_without_a_reason(self) -> None:
        pre = precheck_of(redeemability(False), TODAY)
        assert pre == PreCheck(False, "this would fail now: Capillary says no.")

    def test_a_valid_series(self) -> None:
        pre = precheck_of(series(max_create="-1", coupons={"issued": "9000"}), TODAY)
        assert pre == PreCheck(
            True, "series 1001 “Diwali &lt;welcome&gt;” exists, valid till 31 Dec 2026"
        )

    def test_a_series_ending_today_is_still_valid(self) -> None:
        pre = precheck_of(series(valid_till_date="2026-11-25"), TODAY)
        assert pre.ok is True

    def test_an_ended_series(self) -> None:
        pre = precheck_of(series(valid_till_date="2026-11-24"), TODAY)
        assert pre == PreCheck(False, "this would fail now: the series ended on 24 Nov 2026.")

    @pytest.mark.parametrize(("cap", "issued"), [("5", "5"), ("5", "7"), ("0", "0")])
    def test_an_exhausted_series(self, cap: str, issued: str) -> None:
        pre = precheck_of(series(max_create=cap, coupons={"issued": issued}), TODAY)
        assert pre == PreCheck(False, "this would fail now: every coupon of this series is issued.")

    def test_a_series_with_room_left_or_unknown_counts(self) -> None:
        assert precheck_of(series(max_create="5", coupons={"issued": "4"}), TODAY).ok is True
        assert precheck_of(series(max_create="5"), TODAY).ok is True  # issued unknown: 0

    def test_a_series_without_description_or_end(self) -> None:
        found = SeriesFound(SeriesInfo("1001"), Series.model_validate({"id": "1001"}))
        assert precheck_of(found, TODAY) == PreCheck(True, "series 1001 exists")

    def test_capillary_busy_cannot_say(self) -> None:
        failed = Failed(Check("GOOD100", RIYA), explain_transport(TransportFailure.TIMEOUT))
        assert precheck_of(failed, TODAY) == PreCheck(
            None, "couldn't check: Capillary isn't answering right now. Nothing was changed."
        )

    def test_a_failure_without_a_verdict_cannot_say(self) -> None:
        """Request code 500 with no item: seen in outages, so no "would fail" (and no
        "Redeem anyway" on the Approve button)."""
        failed = Failed(Check("GOOD100", RIYA), explain_request(500))
        assert precheck_of(failed, TODAY) == PreCheck(
            None, "couldn't check: Capillary failed this request without saying why."
        )

    def test_another_failure_would_fail(self) -> None:
        failed = Failed(SeriesInfo("9999"), explain_item(707))
        assert precheck_of(failed, TODAY) == PreCheck(
            False, "this would fail now: there is no coupon series with that number."
        )


class TestRefusals:
    APPROVERS = ("@support-leads", "U06LEAD2", "*")

    def test_own_request(self) -> None:
        text = blocked_text(Blocked.OWN_REQUEST, request(), self.APPROVERS)
        assert text.startswith("You asked for this one, so someone else has to approve it")
        assert "(approvers: @support-leads, <@U06LEAD2>)" in text

    def test_not_an_approver(self) -> None:
        text = blocked_text(Blocked.NOT_APPROVER, request(), ())
        assert text == ("Only approvers can approve or reject requests (approvers: nobody yet).")

    def test_expired(self) -> None:
        text = blocked_text(Blocked.EXPIRED, request(), self.APPROVERS)
        assert text.startswith(f"This request expired {stamp(T0 + timedelta(hours=4))}")
        assert "Ask <@U03AGENT> to ask again" in text

    @pytest.mark.parametrize(
        ("state", "verdict"), [(State.APPROVED, "approved"), (State.REJECTED, "rejected")]
    )
    def test_decided_names_who_and_when(self, state: State, verdict: str) -> None:
        text = blocked_text(Blocked.DECIDED, decided(state), self.APPROVERS)
        assert text.startswith(
            f"Already {verdict} by <@U02LEAD> {stamp(T0 + timedelta(minutes=7))}"
        )

    @pytest.mark.parametrize("state", [State.APPROVED, State.EXECUTING, State.DONE, State.FAILED])
    def test_lost_race_plain_and_mrkdwn(self, state: State) -> None:
        r = decided(state)
        assert lost_race_text(r, plain=True) == "Already approved by ravi at 09:07 UTC."
        rich = lost_race_text(r, plain=False)
        assert rich.startswith(f"Already approved by <@U02LEAD> {stamp(T0 + timedelta(minutes=7))}")

    def test_lost_race_plain_has_no_markup(self) -> None:
        for r in (
            decided(State.REJECTED),
            decided(State.APPROVED, decided_by_name=None),
            request(State.EXPIRED),
            request(State.PENDING),
        ):
            text = lost_race_text(r, plain=True)
            assert "<" not in text and "*" not in text, text
        assert lost_race_text(decided(State.REJECTED), plain=True) == (
            "Already rejected by ravi at 09:07 UTC."
        )
        nameless = decided(State.APPROVED, decided_by_name=None)
        assert (
            lost_race_text(nameless, plain=True) == "Already approved by someone else at 09:07 UTC."
        )

    @pytest.mark.parametrize("state", [State.PENDING, State.EXPIRED])
    def test_lost_race_to_the_clock(self, state: State) -> None:
        assert lost_race_text(request(state), plain=True) == "This request has expired."
        assert lost_race_text(request(state), plain=False).startswith(
            f"This request expired {stamp(T0 + timedelta(hours=4))}"
        )

    def test_lost_race_without_a_time(self) -> None:
        assert lost_race_text(request(State.APPROVED), plain=True) == (
            "This request was already approved."
        )

    def test_duplicate_of_a_live_request(self) -> None:
        assert duplicate_text(request(link=LINK)) == (
            "The same redeem is already requested by <@U03AGENT> and not finished: "
            f"see <{LINK}|this thread>. If that one is wrong, ask an approver to reject it, "
            "then ask again."
        )
        assert duplicate_text(request(State.EXECUTING)).endswith("see the first request's thread.")

    def test_duplicate_of_a_done_request(self) -> None:
        done = decided(State.DONE, finished_at=T0 + timedelta(minutes=8), link=LINK)
        text = duplicate_text(done)
        assert text.startswith(f"The same redeem was just done ({stamp(T0 + timedelta(minutes=8))}")
        assert f"see <{LINK}|this thread>" in text and "wait 10 minutes" in text
        tried = duplicate_text(decided(State.UNKNOWN, command=Issue("1001", RIYA)))
        assert tried.startswith(f"The same issue was just tried ({stamp(T0)}")
        assert "the first request's thread" in tried
        # It may have gone through: no invitation to try again, a check first.
        assert (
            "wait 10 minutes" not in tried and "until a lead has checked it in Capillary" in tried
        )
        # What checking found is in that thread (it went through, or can't tell): not denied.
        assert "nobody knows" not in tried and "for what the bot found" in tried

    def test_over_limit(self) -> None:
        assert over_limit_text(Verb.REDEEM, 50, 50, ["U01ADMIN", "@coupon-admins"]) == (
            "You've reached your limit: 50 redeems in the last 24 hours (the limit is 50). "
            "Ask an admin (<@U01ADMIN>, @coupon-admins) if more are needed today."
        )
        issues = over_limit_text(Verb.ISSUE, 3, 2, [])
        assert "3 issues in the last 24 hours (the limit is 2)" in issues
        assert "limit: 1 issue in the last 24 hours" in over_limit_text(Verb.ISSUE, 1, 1, [])

    def test_gone_is_plain(self) -> None:
        assert "<" not in GONE and "no longer exists" in GONE


class TestLists:
    def test_nothing_pending(self) -> None:
        message = pending_message([])
        assert "No requests are waiting for approval in this channel." in shown(message)

    def test_pending_lists_oldest_first_masked_and_linked(self) -> None:
        rs = [
            request(id="R00000001", link=LINK),
            request(id="R00000002", command=Issue("1001", RIYA_MAIL), requester=LEAD),
        ]
        message = pending_message(rs)
        text = shown(message)
        assert message.text == "2 waiting for approval"
        assert "*2 requests waiting for approval*" in text
        first = text.index("redeem GOOD100 for ••••3210")
        assert first < text.index("issue from series 1001 to r•••@example.com")
        assert f"<{LINK}|view thread>" in text and "asked by <@U02LEAD>" in text
        assert text.count("view thread") == 1
        no_raw_customer(text)
        assert "*1 request waiting for approval*" in shown(pending_message(rs[:1]))

    def test_home_for_an_approver(self) -> None:
        waiting = [request(id=f"R{n:08X}") for n in range(3)]
        done = decided(State.DONE, result="✅ Redeemed · redemption id 88213", link=LINK)
        data = home(
            home_view(
                may_approve=True, waiting=waiting, decided=[done], own=[request(State.REJECTED)]
            )
        )
        text = json.dumps(data, ensure_ascii=False)
        assert "*Waiting for you* (3)" in text and "*Your recent decisions*" in text
        assert "Approved <!date^" in text and "✅ Redeemed · redemption id 88213" in text
        assert "• redeem GOOD100 for ••••3210 · bill B-1182 ₹1,450 · rejected" in text
        no_raw_customer(text)

    def test_home_for_an_approver_with_nothing(self) -> None:
        text = json.dumps(home(home_view(may_approve=True, waiting=[], decided=[], own=[])))
        assert "Nothing is waiting for approval." in text
        assert "You haven't decided any requests yet." in text

    def test_home_for_an_agent_has_only_their_own(self) -> None:
        data = home(home_view(may_approve=False, waiting=[request()], decided=[], own=[]))
        text = json.dumps(data, ensure_ascii=False)
        assert "Waiting for you" not in text and "decisions" not in text
        assert "You haven't asked for any issue or redeem yet." in text
        assert "Approve or reject" not in text  # not theirs to do

    def test_home_for_a_viewer_says_who_grants_requests(self) -> None:
        view = home_view(
            may_approve=False,
            waiting=[],
            decided=[],
            own=[],
            may_request=False,
            admins=["U01ADMIN"],
        )
        text = json.dumps(home(view), ensure_ascii=False)
        assert "needs the agent role: ask an admin (<@U01ADMIN>)" in text
        assert "You haven't asked" not in text and "Approve or reject" not in text

    def test_home_stays_within_100_blocks_and_keeps_every_section(self) -> None:
        many = [request(id=f"R{n:08X}", precheck=None) for n in range(500)]
        mine = [request(State.DONE, id="R0000FFFF", command=Issue("1001", RIYA))]
        data = home(home_view(may_approve=True, waiting=many, decided=many[:10], own=mine))
        assert len(data["blocks"]) <= 100
        text = json.dumps(data, ensure_ascii=False)
        assert "*Waiting for you* (500)" in text
        assert "*Your recent decisions*" in text and "*Your recent requests*" in text
        assert "issue from series 1001 to ••••3210 · done" in text
        assert "Approve or reject from the request's thread" in text


class TestReadRequestId:
    def test_reads_an_id(self) -> None:
        assert read_request_id("R7F3A9C21") == "R7F3A9C21"

    @pytest.mark.parametrize(
        "junk",
        [
            None,
            7,
            b"R7F3A9C21",
            "",
            "r7f3a9c21",
            "R7f3a9c21",
            "R7F3A9C2",
            "R7F3A9C211",
            "R7F3A9G21",
            " R7F3A9C21",
            "R7F3A9C21\n",
            "R7F3A9C21;DROP",
            '{"id":"R7F3A9C21"}',
            ["R7F3A9C21"],
        ],
    )
    def test_rejects_junk(self, junk: object) -> None:
        assert read_request_id(junk) is None


def test_capillarys_quoted_words_cannot_format_the_card() -> None:
    # A 738 or an unknown code quotes Capillary: on the card it is text, never a broadcast
    # or a link.
    said = explain_item(738, "<!channel> wait 3 days <https://evil.example|approve here>")
    failed = Failed(Redeem("GOOD100", parse_customer("+919876543210")), said)
    for line in (precheck_of(failed, TODAY).summary, result_line(failed)):
        assert "<!channel>" not in line and "<https://" not in line
        assert "&lt;!channel&gt; wait 3 days" in line


@pytest.mark.parametrize(
    ("known", "headline"),
    [
        (Known.DID_NOT_HAPPEN, "❌ Not done: no clear answer, and checking shows it did not go"),
        (Known.HAPPENED, "❓ No clear answer from Capillary, but checking shows it went"),
        (Known.CANNOT_TELL, "❓ No clear answer from Capillary, and checking can't tell"),
    ],
)
def test_a_lost_answer_on_the_card_says_what_checking_showed(known: Known, headline: str) -> None:
    # Shown not to have gone through is not done (❌), like the parent; the rest stay ❓.
    redeem = Redeem("GOOD100", parse_customer("+919876543210"))
    lost = Unknown(redeem, OutcomeUnknown("coupon/redeem", "server error"), known)
    assert result_line(lost).startswith(headline)


def test_a_refusal_in_a_modal_is_plain_text_mentions_and_links_readable() -> None:
    said = f"Ask <@{LEAD}> in <{LINK}|this thread>; <@{LEAD}> knows."
    assert plain(said) == f"Ask @{LEAD} in this thread; @{LEAD} knows."
    assert "<" not in plain(duplicate_text(request(state=State.DONE, link=LINK)))


@pytest.mark.parametrize("reason", list(RefusalReason))
def test_a_permission_refusal_in_a_modal_reads_as_plain_text(reason: RefusalReason) -> None:
    # The verb form shows a refusal as a field error: channels, mentions and escapes as words.
    said = refusal(reason, Verb.REDEEM, "agent", ["U01ADMIN"], True, ["C01SUPPORT"])
    shown = plain(said)
    assert "<" not in shown.replace("<code>", "") and "&lt;" not in shown and "&amp;" not in shown
    assert "@U01ADMIN" in shown or reason is RefusalReason.NO_POLICY
    if reason is RefusalReason.CHANNEL_NOT_ALLOWED:
        assert "#C01SUPPORT" in shown
    if reason is RefusalReason.ROLE_TOO_LOW:
        assert "`/coupon get <code>`" in shown
