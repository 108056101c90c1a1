"""The one service handlers call: run a parsed command against Capillary, return an outcome.

Domain code: no Slack, no SQLite, no Block Kit. Every Capillary failure becomes a
:class:`Failed` outcome carrying the catalogue's explanation; a write whose outcome is
unknown is checked again at once (``get`` / ``isredeemable``) and reported as
:class:`Unknown` with what that check could tell.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from bot.capillary.catalogue import Category, Explanation, explain_item
from bot.capillary.client import is_ambiguous
from bot.capillary.errors import CapillaryError
from bot.capillary.identifiers import CustomerId, CustomerKind
from bot.capillary.models import (
    CouponDetails,
    CouponLookup,
    CustomerInfo,
    IssuedCoupon,
    MissingCoupon,
    OutcomeUnknown,
    Redeemability,
    RedeemedCoupon,
    ResentCoupon,
    Series,
)
from bot.commands import Check, Command, Get, Issue, Redeem, Resend, SeriesInfo

__all__ = [
    "Checked",
    "CouponApi",
    "CouponService",
    "Failed",
    "Issued",
    "Known",
    "Looked",
    "Outcome",
    "Redeemed",
    "Resent",
    "SeriesFound",
    "Status",
    "Unknown",
    "echoed_customer",
    "is_transient",
]

#: How long after a lost redeem's first "not redeemed" the coupon is looked up again.
RECHECK_AFTER_SECONDS = 3.0

NOT_ISSUED_TO_CUSTOMER = 703


class CouponApi(Protocol):
    """What the service needs from Capillary (:class:`bot.capillary.CapillaryClient`)."""

    async def get(
        self, codes: str | Sequence[str], *, issued_to_id: str | None = None
    ) -> CouponLookup: ...
    async def series(self, series_id: str) -> Series: ...
    async def is_redeemable(self, code: str, customer: CustomerId) -> Redeemability: ...
    async def resend(self, code: str, customer: CustomerId) -> ResentCoupon: ...
    async def issue(
        self, series_id: str, customer: CustomerId
    ) -> IssuedCoupon | OutcomeUnknown: ...
    async def redeem(
        self,
        code: str,
        customer: CustomerId,
        *,
        bill_number: str | None = None,
        bill_amount: Decimal | None = None,
        validation_code: str | None = None,
    ) -> RedeemedCoupon | OutcomeUnknown: ...


class Status(StrEnum):
    """How a command ended; drives the parent message's emoji and the audit outcome."""

    OK = "ok"
    FAILED = "failed"
    UNKNOWN = "unknown"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Looked:
    command: Get
    coupons: tuple[CouponDetails, ...]
    missing: tuple[MissingCoupon, ...]
    request_id: str | None
    as_of: date | None = None  # the UTC day of the lookup, for "expired" beside a date

    @property
    def status(self) -> Status:
        """Failed when not one code was found: ❌, and ``failed`` in the audit."""
        return Status.OK if self.coupons else Status.FAILED


@dataclass(frozen=True, slots=True)
class SeriesFound:
    command: SeriesInfo
    series: Series
    status = Status.OK


@dataclass(frozen=True, slots=True)
class Checked:
    command: Check
    result: Redeemability

    @property
    def status(self) -> Status:
        return Status.OK if self.result.is_redeemable else Status.FAILED


@dataclass(frozen=True, slots=True)
class Resent:
    command: Resend
    result: ResentCoupon
    status = Status.OK


@dataclass(frozen=True, slots=True)
class Issued:
    command: Issue
    coupon: IssuedCoupon
    status = Status.OK


@dataclass(frozen=True, slots=True)
class Redeemed:
    command: Redeem
    redemption: RedeemedCoupon
    status = Status.OK


@dataclass(frozen=True, slots=True)
class Failed:
    """Capillary said no, or could not be asked. ``explanation`` says why and what to do."""

    command: Command
    explanation: Explanation
    request_id: str | None = None
    #: A resend sent with no answer back: the SMS may have gone out all the same.
    maybe_done: bool = False
    status = Status.FAILED


class Known(StrEnum):
    """What a follow-up check could tell about a write whose answer was lost."""

    HAPPENED = "happened"
    DID_NOT_HAPPEN = "did_not_happen"
    CANNOT_TELL = "cannot_tell"


@dataclass(frozen=True, slots=True)
class Unknown:
    """A write sent once whose answer was lost, and what checking again showed."""

    command: Issue | Redeem
    unknown: OutcomeUnknown
    known: Known
    checked_at: datetime | None = None  # aware (UTC)
    coupon: CouponDetails | None = None

    @property
    def status(self) -> Status:
        """Failed when checking showed it did not go through: the parent shows ❌, the audit
        says ``failed``, and asking again is neither a duplicate nor counted as done."""
        return Status.FAILED if self.known is Known.DID_NOT_HAPPEN else Status.UNKNOWN


Outcome = Looked | SeriesFound | Checked | Resent | Issued | Redeemed | Failed | Unknown


class CouponService:
    """Runs commands against Capillary. Handlers call :meth:`run` and render its outcome."""

    def __init__(
        self,
        capillary: CouponApi,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        recheck_after_seconds: float = RECHECK_AFTER_SECONDS,
    ):
        self._capillary = capillary
        self._now = now
        self._recheck_after = recheck_after_seconds

    async def run(
        self,
        command: Get | SeriesInfo | Check | Resend | Issue | Redeem,
        *,
        before: Redeemability | None = None,
    ) -> Outcome:
        """Carry out one command. Capillary's refusals and failures come back as outcomes.
        ``before``: for a redeem, the check made just before it (see :meth:`execute`)."""
        try:
            if isinstance(command, Redeem):
                return await self._redeem(command, before)
            return await self._dispatch(command)
        except CapillaryError as error:
            maybe_done = isinstance(command, Resend) and is_ambiguous(error)
            return Failed(command, error.explanation, error.request_id, maybe_done)

    async def precheck(self, command: Issue | Redeem) -> Outcome:
        """Would this work now? For a redeem, is the coupon redeemable by the customer; for
        an issue, the series (whether it is usable is for the reader to judge by its dates)."""
        if isinstance(command, Redeem):
            return await self.run(Check(command.code, command.customer))
        return await self.run(SeriesInfo(command.series_id))

    async def execute(self, command: Issue | Redeem) -> Outcome:
        """Carry out an approved issue or redeem. A redeem is checked again first: if the
        coupon can no longer be redeemed by this customer, it fails without being sent."""
        if isinstance(command, Redeem):
            check = await self.run(Check(command.code, command.customer))
            if isinstance(check, Failed):
                return Failed(command, check.explanation, check.request_id)
            if isinstance(check, Checked) and not check.result.is_redeemable:
                reason = check.result.reason or explain_item(0)  # the parser always sets one
                return Failed(command, reason, check.result.request_id)
            before = check.result if isinstance(check, Checked) else None
            return await self.run(command, before=before)
        return await self.run(command)

    async def reconcile(self, command: Issue | Redeem, unknown: OutcomeUnknown) -> Unknown:
        """A write whose answer was lost (the bot stopped mid-call): what can be known now."""
        if isinstance(command, Redeem):
            return await self._reconcile_redeem(command, unknown)
        return Unknown(command, unknown, Known.CANNOT_TELL, self._now())

    async def _dispatch(self, command: Get | SeriesInfo | Check | Resend | Issue) -> Outcome:
        match command:
            case Get():
                return await self._get(command)
            case SeriesInfo():
                return SeriesFound(command, await self._capillary.series(command.series_id))
            case Check():
                result = await self._capillary.is_redeemable(command.code, command.customer)
                return Checked(command, result)
            case Resend():
                return Resent(command, await self._capillary.resend(command.code, command.customer))
            case Issue():
                return await self._issue(command)

    async def _get(self, command: Get) -> Outcome:
        by_id = command.customer and command.customer.kind is CustomerKind.ID
        issued_to = command.customer.value if by_id and command.customer else None
        lookup = await self._capillary.get(command.codes, issued_to_id=issued_to)
        coupons, others = _split_by_owner(lookup.coupons, command.customer)
        missing = lookup.missing + others
        return Looked(command, coupons, missing, lookup.request_id, self._now().date())

    async def _issue(self, command: Issue) -> Outcome:
        result = await self._capillary.issue(command.series_id, command.customer)
        if isinstance(result, OutcomeUnknown):
            # No v1.1 coupon call lists a customer's new coupons, so this one cannot be checked.
            return Unknown(command, result, Known.CANNOT_TELL, self._now())
        return Issued(command, result)

    async def _redeem(self, command: Redeem, before: Redeemability | None) -> Outcome:
        result = await self._capillary.redeem(
            command.code,
            command.customer,
            bill_number=command.bill_number,
            bill_amount=command.bill_amount,
            validation_code=command.validation_code,
        )
        if isinstance(result, OutcomeUnknown):
            return await self._reconcile_redeem(command, result, before)
        return Redeemed(command, result)

    async def _reconcile_redeem(
        self, command: Redeem, unknown: OutcomeUnknown, before: Redeemability | None = None
    ) -> Unknown:
        """Ask Capillary whether the coupon now shows our redemption. "Not redeemed" is
        asked again after ``recheck_after_seconds`` before it counts: it tells the agent to
        try again, and a redeem that outlived our timeout may still be in Capillary's hands."""
        found = await self._redemption_now(command, unknown, before)
        if found.known is Known.DID_NOT_HAPPEN and self._recheck_after > 0:
            await asyncio.sleep(self._recheck_after)
            found = await self._redemption_now(command, unknown, before)
        return found

    async def _redemption_now(
        self, command: Redeem, unknown: OutcomeUnknown, before: Redeemability | None
    ) -> Unknown:
        """``coupon/get`` (what the thread shows), and with the check made before the call,
        ``isredeemable`` again: has this customer's count of redemptions gone up by one?"""
        try:
            lookup = await self._capillary.get(command.code)
        except CapillaryError:
            return Unknown(command, unknown, Known.CANNOT_TELL, self._now())
        coupon = lookup.coupons[0] if lookup.coupons else None
        counts = None
        if before is not None and before.redemptions_by_user is not None:
            try:
                after = await self._capillary.is_redeemable(command.code, command.customer)
            except CapillaryError:
                after = None
            now_count = _trusted_count(after) if after is not None else None
            if now_count is not None:
                counts = (before.redemptions_by_user, now_count)
            if (
                after is not None
                and after.reason is not None
                and now_count == before.redemptions_by_user
            ):
                # Redeemable before the call and used up now, yet this customer has not one
                # redemption more: the answer contradicts itself, so it can't settle this.
                return Unknown(command, unknown, Known.CANNOT_TELL, self._now(), coupon)
        known = _redemption_verdict(coupon, command, counts)
        return Unknown(command, unknown, known, self._now(), coupon)


def _redemption_verdict(
    coupon: CouponDetails | None, command: Redeem, counts: tuple[int, int] | None
) -> Known:
    """What a lost redeem did, from the coupon now and (``counts``) this customer's
    redemptions of it before the call and now.

    - The count went up by one: it did. Unchanged: it did not. Where the coupon says
      otherwise (no redemption at all, or another bill), the two disagree: nobody can tell.
    - Without counts, a coupon showing no redemption at all: it did not happen.
    - Without counts, only our bill number on the latest redemption says it was ours.

    Capillary's redemption time is never used: it names no time zone, so "just now" could
    be hours off, and a redemption by someone else could pass for ours.
    """
    redemption = coupon.redemption if coupon is not None else None
    unredeemed = coupon is not None and redemption is None
    bills = (command.bill_number, redemption.bill_number if redemption else None)
    same_bill = bool(bills[0] and bills[1] and bills[0] == bills[1])
    other_bill = bool(bills[0] and bills[1] and bills[0] != bills[1])
    if counts is not None:
        earlier, now = counts
        if now == earlier + 1:
            return Known.CANNOT_TELL if other_bill or unredeemed else Known.HAPPENED
        if now == earlier:
            return Known.CANNOT_TELL if same_bill else Known.DID_NOT_HAPPEN
        return Known.CANNOT_TELL
    if unredeemed:
        return Known.DID_NOT_HAPPEN
    return Known.HAPPENED if same_bill else Known.CANNOT_TELL


#: ``isredeemable`` refusals that still count the customer's redemptions: the coupon was
#: found, and (perhaps by our redeem) used up. Any other refusal's count (no such coupon, not
#: this customer, an unexplained error) may be a placeholder 0, so it tells nothing.
_USED_UP = frozenset({"696", "711", "714", "716", "728", "736", "738"})


def _trusted_count(after: Redeemability) -> int | None:
    """This customer's redemptions of the coupon, when the answer can be taken at its word."""
    if after.reason is not None and after.reason.code not in _USED_UP:
        return None
    return after.redemptions_by_user


def _split_by_owner(
    coupons: tuple[CouponDetails, ...], customer: CustomerId | None
) -> tuple[tuple[CouponDetails, ...], tuple[MissingCoupon, ...]]:
    """With a customer given, coupons issued to someone else are reported as not theirs."""
    if customer is None or customer.kind is CustomerKind.ID:
        return coupons, ()
    mine = tuple(c for c in coupons if _belongs_to(c, customer))
    others = tuple(
        MissingCoupon(code=c.code, explanation=explain_item(NOT_ISSUED_TO_CUSTOMER))
        for c in coupons
        if c not in mine
    )
    return mine, others


def _belongs_to(coupon: CouponDetails, customer: CustomerId) -> bool:
    owner = coupon.customer
    echoed = {
        CustomerKind.MOBILE: owner.mobile if owner else None,
        CustomerKind.EMAIL: owner.email if owner else None,
        CustomerKind.EXTERNAL_ID: owner.external_id if owner else None,
    }.get(customer.kind)
    if echoed is None:
        return True  # Capillary did not say: don't hide the coupon
    if customer.kind is CustomerKind.MOBILE:
        # Capillary adds the country code; agents may leave it out: one ends the other.
        digits = "".join(ch for ch in echoed if ch.isdigit())
        return digits.endswith(customer.value) or customer.value.endswith(digits)
    return echoed.lower() == customer.value.lower()


def echoed_customer(outcome: Outcome) -> CustomerInfo | None:
    """The customer as Capillary echoed them in the answer to an issue or redeem that was
    done (mobile, email, external id: the person, however the agent typed them)."""
    match outcome:
        case Issued():
            return outcome.coupon.customer
        case Redeemed():
            return outcome.redemption.customer
    return None


def is_transient(outcome: Outcome) -> bool:
    """Capillary was unreachable or busy: nothing was changed and trying later may work."""
    return isinstance(outcome, Failed) and outcome.explanation.category is Category.TRANSIENT
