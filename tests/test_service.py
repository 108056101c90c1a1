"""CouponService against a hand-written fake Capillary: outcomes, statuses, reconciliation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from bot.capillary.catalogue import Category, TransportFailure, explain_item
from bot.capillary.errors import (
    CapillaryError,
    CapillaryItemError,
    CapillaryRequestError,
    CapillaryTransportError,
)
from bot.capillary.identifiers import CustomerId, parse_customer
from bot.capillary.models import (
    CouponDetails,
    CouponLookup,
    IssuedCoupon,
    MissingCoupon,
    OutcomeUnknown,
    Redeemability,
    RedeemedCoupon,
    ResentCoupon,
    Series,
)
from bot.commands import Check, Get, Issue, Redeem, Resend, SeriesInfo
from bot.service import (
    Checked,
    CouponService,
    Failed,
    Issued,
    Known,
    Looked,
    Redeemed,
    Resent,
    SeriesFound,
    Status,
    Unknown,
    is_transient,
)

T = TypeVar("T")


class Answers(list[T | Exception]):
    """What the next calls of one method return (or raise), in order."""

    def take(self) -> T:
        assert self, "the fake was called more often than the test prepared for"
        answer = self.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


# Aware, as the service's clock is; Capillary's own times are naive (server time, as taken).
NOW = datetime(2026, 11, 20, 14, 5, 0).astimezone()
MOBILE = parse_customer("+919876543210")
EMAIL = parse_customer("riya@example.com")


@dataclass(frozen=True)
class Call:
    method: str
    args: tuple[object, ...]
    kwargs: dict[str, object] = field(default_factory=dict)


class FakeCapillary:
    """Implements :class:`bot.service.CouponApi`: records each call, answers from queues.

    Each queue holds what the next call returns, or an exception it raises.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.gets = Answers[CouponLookup]()
        self.series_answers = Answers[Series]()
        self.checks = Answers[Redeemability]()
        self.resends = Answers[ResentCoupon]()
        self.issues = Answers[IssuedCoupon | OutcomeUnknown]()
        self.redeems = Answers[RedeemedCoupon | OutcomeUnknown]()

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def get(
        self, codes: str | Sequence[str], *, issued_to_id: str | None = None
    ) -> CouponLookup:
        self.calls.append(Call("get", (codes,), {"issued_to_id": issued_to_id}))
        return self.gets.take()

    async def series(self, series_id: str) -> Series:
        self.calls.append(Call("series", (series_id,)))
        return self.series_answers.take()

    async def is_redeemable(self, code: str, customer: CustomerId) -> Redeemability:
        self.calls.append(Call("is_redeemable", (code, customer)))
        return self.checks.take()

    async def resend(self, code: str, customer: CustomerId) -> ResentCoupon:
        self.calls.append(Call("resend", (code, customer)))
        return self.resends.take()

    async def issue(self, series_id: str, customer: CustomerId) -> IssuedCoupon | OutcomeUnknown:
        self.calls.append(Call("issue", (series_id, customer)))
        return self.issues.take()

    async def redeem(
        self,
        code: str,
        customer: CustomerId,
        *,
        bill_number: str | None = None,
        bill_amount: Decimal | None = None,
        validation_code: str | None = None,
    ) -> RedeemedCoupon | OutcomeUnknown:
        kwargs: dict[str, object] = {
            "bill_number": bill_number,
            "bill_amount": bill_amount,
            "validation_code": validation_code,
        }
        self.calls.append(Call("redeem", (code, customer), kwargs))
        return self.redeems.take()


@pytest.fixture
def capillary() -> FakeCapillary:
    return FakeCapillary()


@pytest.fixture
def service(capillary: FakeCapillary) -> CouponService:
    return CouponService(capillary, now=lambda: NOW, recheck_after_seconds=0)


def coupon(code: str = "GOOD200", **extra: Any) -> CouponDetails:
    data: dict[str, Any] = {
        "id": "5501",
        "code": code,
        "series_id": "1001",
        "valid_till": "31-12-2026",
        "issued_on": "2026-11-02 10:00:00",
        "is_absolute": "true",
        "value": "200",
        "customer": {"mobile": "919876543210", "email": "Riya@Example.com"},
        "request_id": "req-get-1",
    }
    data.update(extra)
    return CouponDetails.model_validate(data)


def redeemed_coupon(bill: str | None, redeemed_on: datetime) -> CouponDetails:
    info: dict[str, Any] = {
        "redeemed": True,
        "redeemed_on": redeemed_on.strftime("%Y-%m-%d %H:%M:%S"),
        "id": "88213",
    }
    if bill is not None:
        info["transaction"] = {"bill_number": bill}
    return coupon(redemption_info=info)


def lookup(*coupons: CouponDetails, missing: tuple[MissingCoupon, ...] = ()) -> CouponLookup:
    return CouponLookup.model_validate(
        {"request_id": "req-get-1", "coupons": coupons, "missing": missing}
    )


def unknown(endpoint: str = "coupon/redeem") -> OutcomeUnknown:
    return OutcomeUnknown(endpoint, "no answer before the timeout", "req-post-9")


# ---- every command type -------------------------------------------------------------------


async def test_get_returns_looked_with_coupons_missing_and_request_id(
    service: CouponService, capillary: FakeCapillary
) -> None:
    gone = MissingCoupon(code="NOPE1", explanation=explain_item(702))
    capillary.gets.append(lookup(coupon("GOOD200"), missing=(gone,)))

    outcome = await service.run(Get(("GOOD200", "NOPE1")))

    assert isinstance(outcome, Looked)
    assert outcome.status is Status.OK
    assert [c.code for c in outcome.coupons] == ["GOOD200"]
    assert outcome.missing == (gone,)
    assert outcome.request_id == "req-get-1"
    assert capillary.calls == [Call("get", (("GOOD200", "NOPE1"),), {"issued_to_id": None})]


async def test_series_returns_series_found(
    service: CouponService, capillary: FakeCapillary
) -> None:
    series = Series.model_validate({"id": "1001", "description": "Diwali welcome"})
    capillary.series_answers.append(series)

    outcome = await service.run(SeriesInfo("1001"))

    assert outcome == SeriesFound(SeriesInfo("1001"), series)
    assert outcome.status is Status.OK
    assert capillary.calls == [Call("series", ("1001",))]


@pytest.mark.parametrize(("redeemable", "status"), [(True, Status.OK), (False, Status.FAILED)])
async def test_check_status_follows_redeemability(
    service: CouponService, capillary: FakeCapillary, redeemable: bool, status: Status
) -> None:
    reason = None if redeemable else explain_item(713)
    result = Redeemability.model_validate(
        {"code": "GOOD200", "is_redeemable": redeemable, "redemptions_left": 1, "reason": reason}
    )
    capillary.checks.append(result)

    outcome = await service.run(Check("GOOD200", MOBILE))

    assert isinstance(outcome, Checked)
    assert outcome.result is result
    assert outcome.status is status
    assert capillary.calls == [Call("is_redeemable", ("GOOD200", MOBILE))]


async def test_resend_returns_resent(service: CouponService, capillary: FakeCapillary) -> None:
    result = ResentCoupon.model_validate({"code": "GOOD200", "request_id": "req-resend"})
    capillary.resends.append(result)

    outcome = await service.run(Resend("GOOD200", EMAIL))

    assert outcome == Resent(Resend("GOOD200", EMAIL), result)
    assert outcome.status is Status.OK
    assert capillary.calls == [Call("resend", ("GOOD200", EMAIL))]


async def test_issue_returns_issued(service: CouponService, capillary: FakeCapillary) -> None:
    issued = IssuedCoupon.model_validate({"code": "NEW123", "series_id": "1001"})
    capillary.issues.append(issued)

    outcome = await service.run(Issue("1001", MOBILE))

    assert outcome == Issued(Issue("1001", MOBILE), issued)
    assert outcome.status is Status.OK
    assert capillary.calls == [Call("issue", ("1001", MOBILE))]


async def test_redeem_passes_the_bill_and_returns_redeemed(
    service: CouponService, capillary: FakeCapillary
) -> None:
    done = RedeemedCoupon.model_validate({"code": "GOOD200", "redemption_id": "88213"})
    capillary.redeems.append(done)
    command = Redeem("GOOD200", MOBILE, "B-1182", Decimal("1450"), "4321")

    outcome = await service.run(command)

    assert outcome == Redeemed(command, done)
    assert outcome.status is Status.OK
    assert capillary.calls == [
        Call(
            "redeem",
            ("GOOD200", MOBILE),
            {"bill_number": "B-1182", "bill_amount": Decimal("1450"), "validation_code": "4321"},
        )
    ]


# ---- Capillary errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        Get(("GOOD200",)),
        SeriesInfo("1001"),
        Check("GOOD200", MOBILE),
        Resend("GOOD200", MOBILE),
        Issue("1001", MOBILE),
        Redeem("GOOD200", MOBILE),
    ],
    ids=lambda command: command.verb.value,
)
async def test_item_error_becomes_failed_with_catalogue_explanation(
    service: CouponService,
    capillary: FakeCapillary,
    command: Get | SeriesInfo | Check | Resend | Issue | Redeem,
) -> None:
    error = CapillaryItemError(713, "Coupon Expired", endpoint="coupon/x", request_id="req-713")
    for queue in (
        capillary.gets,
        capillary.series_answers,
        capillary.checks,
        capillary.resends,
        capillary.issues,
        capillary.redeems,
    ):
        queue.append(error)

    outcome = await service.run(command)

    assert isinstance(outcome, Failed)
    assert outcome.status is Status.FAILED
    assert outcome.command == command
    assert outcome.explanation == explain_item(713, "Coupon Expired")
    assert outcome.explanation.sentence == "This coupon has expired."
    assert outcome.request_id == "req-713"
    assert not is_transient(outcome)
    assert len(capillary.calls) == 1  # a refusal is not retried or reconciled


async def test_transport_error_is_a_transient_failure(
    service: CouponService, capillary: FakeCapillary
) -> None:
    capillary.gets.append(
        CapillaryTransportError(
            TransportFailure.TIMEOUT, "ReadTimeout", sent=True, request_id="req-t"
        )
    )

    outcome = await service.run(Get(("GOOD200",)))

    assert isinstance(outcome, Failed)
    assert outcome.explanation.category is Category.TRANSIENT
    assert outcome.explanation.sentence == "Capillary didn't answer in time."
    assert outcome.request_id == "req-t"
    assert is_transient(outcome)


async def test_request_level_errors_are_failed_and_transient_only_when_waiting_helps(
    service: CouponService, capillary: FakeCapillary
) -> None:
    capillary.series_answers += [
        CapillaryRequestError(401, "Invalid credentials", request_id="r1"),
        CapillaryRequestError(521, "Concurrent modification", request_id="r2"),
    ]

    login = await service.run(SeriesInfo("1001"))
    busy = await service.run(SeriesInfo("1001"))

    assert isinstance(login, Failed)
    assert isinstance(busy, Failed)
    assert login.explanation.category is Category.CONFIGURATION
    assert not is_transient(login)
    assert is_transient(busy)


def test_only_failed_outcomes_can_be_transient() -> None:
    series = Series.model_validate({"id": "1001"})
    assert not is_transient(SeriesFound(SeriesInfo("1001"), series))
    assert not is_transient(Unknown(Issue("1001", MOBILE), unknown(), Known.CANNOT_TELL))


# ---- get with a customer: coupons issued to someone else ----------------------------------


@pytest.mark.parametrize(
    ("typed", "echoed"),
    [
        ("+919876543210", "919876543210"),  # country code on both sides
        ("9876543210", "919876543210"),  # agent left the country code out
        ("+919876543210", "9876543210"),  # Capillary echoed the national number
        ("+919876543210", "+91-98765-43210"),  # echoed with punctuation
    ],
)
async def test_get_keeps_coupons_of_the_same_mobile(
    service: CouponService, capillary: FakeCapillary, typed: str, echoed: str
) -> None:
    capillary.gets.append(lookup(coupon("GOOD200", customer={"mobile": echoed})))

    outcome = await service.run(Get(("GOOD200",), parse_customer(typed)))

    assert isinstance(outcome, Looked)
    assert [c.code for c in outcome.coupons] == ["GOOD200"]
    assert outcome.missing == ()
    assert capillary.calls[0].kwargs == {"issued_to_id": None}


async def test_get_moves_someone_elses_coupons_to_missing_with_703(
    service: CouponService, capillary: FakeCapillary
) -> None:
    gone = MissingCoupon(code="NOPE1", explanation=explain_item(702))
    capillary.gets.append(
        lookup(
            coupon("MINE1", customer={"mobile": "919876543210"}),
            coupon("THEIRS", customer={"mobile": "919811112222"}),
            missing=(gone,),
        )
    )

    outcome = await service.run(Get(("MINE1", "THEIRS", "NOPE1"), MOBILE))

    assert isinstance(outcome, Looked)
    assert [c.code for c in outcome.coupons] == ["MINE1"]
    assert [m.code for m in outcome.missing] == ["NOPE1", "THEIRS"]
    theirs = outcome.missing[1].explanation
    assert theirs.code == "703"
    assert theirs.sentence == "This coupon was given to a different customer."
    assert outcome.status is Status.OK


@pytest.mark.parametrize(
    ("echoed", "kept"),
    [("Riya@Example.COM", True), ("riya@example.com", True), ("other@example.com", False)],
)
async def test_get_compares_emails_ignoring_case(
    service: CouponService, capillary: FakeCapillary, echoed: str, kept: bool
) -> None:
    capillary.gets.append(lookup(coupon("GOOD200", customer={"email": echoed})))

    outcome = await service.run(Get(("GOOD200",), parse_customer("RIYA@example.com")))

    assert isinstance(outcome, Looked)
    assert bool(outcome.coupons) is kept
    assert [m.explanation.code for m in outcome.missing] == ([] if kept else ["703"])


async def test_get_keeps_a_coupon_when_capillary_does_not_echo_the_identifier(
    service: CouponService, capillary: FakeCapillary
) -> None:
    capillary.gets.append(lookup(coupon("GOOD200", customer={"email": "riya@example.com"})))

    outcome = await service.run(Get(("GOOD200",), MOBILE))  # no mobile echoed: don't hide it

    assert isinstance(outcome, Looked)
    assert [c.code for c in outcome.coupons] == ["GOOD200"]


async def test_get_for_a_customer_id_asks_capillary_to_filter(
    service: CouponService, capillary: FakeCapillary
) -> None:
    capillary.gets.append(lookup(coupon("GOOD200", customer={"mobile": "919811112222"})))

    outcome = await service.run(Get(("GOOD200",), parse_customer("id:98662653")))

    assert capillary.calls == [Call("get", (("GOOD200",),), {"issued_to_id": "98662653"})]
    assert isinstance(outcome, Looked)
    # Capillary did the filtering; the service does not second-guess it by mobile.
    assert [c.code for c in outcome.coupons] == ["GOOD200"]
    assert outcome.missing == ()


async def test_get_keeps_coupons_of_a_short_national_mobile(
    service: CouponService, capillary: FakeCapillary
) -> None:
    capillary.gets.append(lookup(coupon("GOOD200", customer={"mobile": "6591234567"})))

    outcome = await service.run(Get(("GOOD200",), parse_customer("91234567")))

    assert isinstance(outcome, Looked)
    assert [c.code for c in outcome.coupons] == ["GOOD200"]


# ---- writes whose answer was lost ----------------------------------------------------------


async def test_issue_with_unknown_outcome_is_not_checked_or_repeated(
    service: CouponService, capillary: FakeCapillary
) -> None:
    lost = unknown("coupon/issue")
    capillary.issues.append(lost)

    outcome = await service.run(Issue("1001", MOBILE))

    assert outcome == Unknown(Issue("1001", MOBILE), lost, Known.CANNOT_TELL, NOW)
    assert outcome.status is Status.UNKNOWN
    assert [call.method for call in capillary.calls] == ["issue"]


async def run_lost_redeem(
    service: CouponService,
    capillary: FakeCapillary,
    after: CouponLookup | Exception,
    command: Redeem,
) -> Unknown:
    capillary.redeems.append(unknown())
    capillary.gets.append(after)
    outcome = await service.run(command)
    assert isinstance(outcome, Unknown)
    assert outcome.unknown == unknown()
    assert outcome.checked_at == NOW
    assert [call.method for call in capillary.calls] == ["redeem", "get"]
    assert capillary.called("get")[0].args == (command.code,)
    return outcome


async def test_lost_redeem_of_a_coupon_still_unredeemed_did_not_happen(
    service: CouponService, capillary: FakeCapillary
) -> None:
    still_open = coupon("GOOD200")
    outcome = await run_lost_redeem(
        service, capillary, lookup(still_open), Redeem("GOOD200", MOBILE, "B-1182")
    )

    assert outcome.known is Known.DID_NOT_HAPPEN
    assert outcome.status is Status.FAILED  # known not done: ❌, and no duplicate of it
    assert outcome.coupon == still_open


async def test_a_lost_redeem_still_unredeemed_is_looked_up_again_before_it_counts(
    capillary: FakeCapillary,
) -> None:
    # "Not redeemed" tells the agent to try again: a redeem that outlived the timeout may
    # still be in Capillary's hands, so it is asked once more, a moment later.
    service = CouponService(capillary, now=lambda: NOW, recheck_after_seconds=0.01)
    capillary.redeems.append(unknown())
    capillary.gets.extend([lookup(coupon("GOOD200")), lookup(redeemed_coupon("B-1182", NOW))])

    outcome = await service.run(Redeem("GOOD200", MOBILE, "B-1182"))

    assert isinstance(outcome, Unknown) and outcome.known is Known.HAPPENED
    assert [call.method for call in capillary.calls] == ["redeem", "get", "get"]


async def test_a_lost_redeem_unredeemed_both_times_did_not_happen(
    capillary: FakeCapillary,
) -> None:
    service = CouponService(capillary, now=lambda: NOW, recheck_after_seconds=0.01)
    capillary.redeems.append(unknown())
    capillary.gets.extend([lookup(coupon("GOOD200")), lookup(coupon("GOOD200"))])

    outcome = await service.run(Redeem("GOOD200", MOBILE, "B-1182"))

    assert isinstance(outcome, Unknown) and outcome.known is Known.DID_NOT_HAPPEN
    assert [call.method for call in capillary.calls] == ["redeem", "get", "get"]


async def test_lost_redeem_showing_our_bill_happened(
    service: CouponService, capillary: FakeCapillary
) -> None:
    # Our bill number decides, however long ago Capillary's clock says it was.
    ours = redeemed_coupon("B-1182", NOW - timedelta(hours=5))
    outcome = await run_lost_redeem(
        service, capillary, lookup(ours), Redeem("GOOD200", MOBILE, "B-1182")
    )

    assert outcome.known is Known.HAPPENED
    assert outcome.status is Status.UNKNOWN  # inferred from the bill: ❓, with what was seen
    assert outcome.coupon == ours


@pytest.mark.parametrize("ago", [timedelta(minutes=2), timedelta(hours=5, minutes=30)])
async def test_lost_redeem_without_a_bill_or_counts_cannot_tell_however_recent_it_looks(
    service: CouponService, capillary: FakeCapillary, ago: timedelta
) -> None:
    # Capillary's time names no zone: an org on IST read by a bot on UTC makes a redemption
    # 5½ hours old look like "just now" (and someone else's redemption look like ours).
    recent = redeemed_coupon(None, NOW - ago)
    outcome = await run_lost_redeem(service, capillary, lookup(recent), Redeem("GOOD200", MOBILE))

    assert outcome.known is Known.CANNOT_TELL


def redeemable(by_user: int | None, left: int = -1) -> Redeemability:
    return Redeemability.model_validate(
        {
            "code": "GOOD200",
            "is_redeemable": True,
            "redemptions_left": left,
            "no_of_redemptions_by_user": by_user,
        }
    )


async def execute_lost_redeem(
    capillary: FakeCapillary, after: list[CouponLookup], counts: list[Redeemability | Exception]
) -> Unknown:
    """A redeem through :meth:`execute` (checked first) whose answer is lost."""
    service = CouponService(capillary, now=lambda: NOW, recheck_after_seconds=0.01)
    capillary.redeems.append(unknown())
    capillary.gets.extend(after)
    capillary.checks.extend(counts)
    outcome = await service.execute(Redeem("GOOD200", MOBILE))
    assert isinstance(outcome, Unknown)
    return outcome


async def test_a_lost_redeem_whose_customer_count_went_up_by_one_happened(
    capillary: FakeCapillary,
) -> None:
    shown = redeemed_coupon(None, NOW - timedelta(hours=5, minutes=30))  # the time is no help
    outcome = await execute_lost_redeem(capillary, [lookup(shown)], [redeemable(2), redeemable(3)])

    assert outcome.known is Known.HAPPENED and outcome.coupon == shown
    methods = [call.method for call in capillary.calls]
    assert methods == ["is_redeemable", "redeem", "get", "is_redeemable"]


async def test_a_lost_redeem_showing_someone_else_s_redemption_did_not_happen(
    capillary: FakeCapillary,
) -> None:
    # A shareable coupon: its latest redemption is another customer's, just now. This
    # customer's count did not move, checked twice: ours never went through.
    theirs = redeemed_coupon(None, NOW - timedelta(minutes=1))
    outcome = await execute_lost_redeem(
        capillary, [lookup(theirs), lookup(theirs)], [redeemable(0), redeemable(0), redeemable(0)]
    )

    assert outcome.known is Known.DID_NOT_HAPPEN
    assert [call.method for call in capillary.calls].count("is_redeemable") == 3


@pytest.mark.parametrize(
    ("counts", "bill", "known"),
    [
        ((1, 2), "B-0001", Known.CANNOT_TELL),  # one more, but the latest is another bill
        ((1, 1), "B-1182", Known.CANNOT_TELL),  # none more, yet the latest is our bill
        ((1, 3), None, Known.CANNOT_TELL),  # two more: someone else redeemed too
        ((1, 2), "B-1182", Known.HAPPENED),
    ],
)
async def test_counts_and_bill_numbers_that_disagree_cannot_tell(
    capillary: FakeCapillary, counts: tuple[int, int], bill: str | None, known: Known
) -> None:
    service = CouponService(capillary, now=lambda: NOW, recheck_after_seconds=0)
    capillary.checks.extend([redeemable(counts[0]), redeemable(counts[1])])
    capillary.redeems.append(unknown())
    capillary.gets.append(lookup(redeemed_coupon(bill, NOW)))

    outcome = await service.execute(Redeem("GOOD200", MOBILE, "B-1182"))

    assert isinstance(outcome, Unknown) and outcome.known is known


def refused(code: int, by_user: int) -> Redeemability:
    return Redeemability.model_validate(
        {
            "code": "GOOD200",
            "is_redeemable": False,
            "no_of_redemptions_by_user": by_user,
            "reason": explain_item(code),
        }
    )


@pytest.mark.parametrize(
    ("after", "shown", "known"),
    [
        # A refusal that found nothing may count 0 as a placeholder: it says nothing.
        (refused(701, 0), redeemed_coupon(None, NOW), Known.CANNOT_TELL),
        (refused(730, 0), redeemed_coupon(None, NOW), Known.CANNOT_TELL),
        # Used up, perhaps by our redeem: its count is the customer's, and it went up.
        (refused(716, 1), redeemed_coupon(None, NOW), Known.HAPPENED),
        (refused(736, 1), redeemed_coupon(None, NOW), Known.HAPPENED),
        # One more by the count, yet the coupon shows no redemption at all: they disagree.
        (redeemable(1), coupon("GOOD200"), Known.CANNOT_TELL),
        # Used up since the check before the call, yet not one more by this customer.
        (refused(716, 0), redeemed_coupon(None, NOW), Known.CANNOT_TELL),
        (refused(738, 0), coupon("GOOD200"), Known.CANNOT_TELL),
    ],
)
async def test_only_a_count_capillary_stands_behind_decides(
    capillary: FakeCapillary, after: Redeemability, shown: CouponDetails, known: Known
) -> None:
    service = CouponService(capillary, now=lambda: NOW, recheck_after_seconds=0)
    capillary.checks.extend([redeemable(0), after])
    capillary.redeems.append(unknown())
    capillary.gets.append(lookup(shown))

    outcome = await service.execute(Redeem("GOOD200", MOBILE))

    assert isinstance(outcome, Unknown) and outcome.known is known


@pytest.mark.parametrize("after", [None, CapillaryItemError(730, "Unknown error")])
async def test_without_a_count_after_the_call_only_the_bill_tells(
    capillary: FakeCapillary, after: Exception | None
) -> None:
    shown = redeemed_coupon(None, NOW)
    second: Redeemability | Exception = after if isinstance(after, Exception) else redeemable(None)
    outcome = await execute_lost_redeem(capillary, [lookup(shown)], [redeemable(0), second])

    assert outcome.known is Known.CANNOT_TELL


async def test_lost_redeem_showing_an_old_redemption_with_another_bill_cannot_tell(
    service: CouponService, capillary: FakeCapillary
) -> None:
    old = redeemed_coupon("B-0001", NOW - timedelta(hours=1, minutes=1))
    outcome = await run_lost_redeem(
        service, capillary, lookup(old), Redeem("GOOD200", MOBILE, "B-1182")
    )

    assert outcome.known is Known.CANNOT_TELL
    assert outcome.coupon == old


async def test_lost_redeem_showing_a_recent_redemption_with_another_bill_is_not_ours(
    service: CouponService, capillary: FakeCapillary
) -> None:
    someone_else = redeemed_coupon("B-9999", NOW - timedelta(minutes=2))
    outcome = await run_lost_redeem(
        service, capillary, lookup(someone_else), Redeem("GOOD200", MOBILE, "B-1182")
    )

    assert outcome.known is not Known.HAPPENED


async def test_lost_redeem_when_the_coupon_is_not_found_cannot_tell(
    service: CouponService, capillary: FakeCapillary
) -> None:
    gone = MissingCoupon(code="GOOD200", explanation=explain_item(702))
    outcome = await run_lost_redeem(
        service, capillary, lookup(missing=(gone,)), Redeem("GOOD200", MOBILE)
    )

    assert outcome.known is Known.CANNOT_TELL
    assert outcome.status is Status.UNKNOWN
    assert outcome.coupon is None


@pytest.mark.parametrize(
    "failure",
    [
        CapillaryTransportError(TransportFailure.TIMEOUT, sent=True),
        CapillaryItemError(730, "Unknown error"),
    ],
    ids=["transport", "item"],
)
async def test_lost_redeem_when_the_check_fails_cannot_tell(
    service: CouponService, capillary: FakeCapillary, failure: CapillaryError
) -> None:
    outcome = await run_lost_redeem(service, capillary, failure, Redeem("GOOD200", MOBILE))

    assert outcome.known is Known.CANNOT_TELL
    assert outcome.coupon is None
