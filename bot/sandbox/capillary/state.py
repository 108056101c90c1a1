"""In-memory sandbox state and Capillary's business rules (pure: no aiohttp, no I/O).

Every operation returns an :class:`Outcome` whose ``code`` is Capillary's item code
(700 on success, 7xx otherwise); the envelope module turns it into JSON.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from bot.sandbox.capillary import codes
from bot.sandbox.capillary.fixture import SANDBOX_STORE, build_fixture
from bot.sandbox.capillary.models import Coupon, Customer, Redemption, Series, Store

CUSTOMER_KEYS = (
    "mobile",
    "email",
    "external_id",
    "id",
    "user_id",
    "card_number",
    "card_external_id",
)
_CODE_ALPHABET = string.ascii_uppercase + string.digits
_CODE_LENGTH = 8


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def normalise_mobile(raw: str) -> str:
    """Digits only, with India's country code added to bare 10-digit numbers."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    return "91" + digits if len(digits) == 10 else digits


@dataclass(frozen=True)
class CustomerRef:
    """The customer identifiers a request gave (empty values already dropped)."""

    identifiers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> CustomerRef:
        """Keep the known identifier keys whose values are non-empty."""
        found = {k: str(raw[k]).strip() for k in CUSTOMER_KEYS if raw.get(k) not in (None, "")}
        return cls({k: v for k, v in found.items() if v})

    def __bool__(self) -> bool:
        return bool(self.identifiers)

    def get(self, key: str) -> str | None:
        """One identifier as given, or None."""
        return self.identifiers.get(key)


@dataclass(frozen=True)
class Outcome:
    """Result of one business operation: the item code and the records involved."""

    code: int
    customer: Customer | None = None
    coupon: Coupon | None = None
    series: Series | None = None
    redemption: Redemption | None = None

    @property
    def ok(self) -> bool:
        """True when the item code is 700."""
        return self.code == codes.SUCCESS


@dataclass(frozen=True)
class RedeemRequest:
    """One coupon of a redeem call, as sent (amount kept raw for validation)."""

    code: str
    customer: CustomerRef
    validation_code: str | None = None
    bill_number: str | None = None
    amount: str | None = None


class SandboxState:
    """Customers, series and coupons, with the rules that issue/check/redeem/resend them."""

    def __init__(self, clock: Callable[[], datetime] = _now, store: Store = SANDBOX_STORE):
        self.clock = clock
        self.store = store
        self.customers: list[Customer] = []
        self.series: dict[int, Series] = {}
        self.coupons: dict[str, Coupon] = {}
        self._next_coupon_id = 0
        self._next_redemption_id = 0
        self.reset()

    def reset(self) -> None:
        """Drop every change and reload the seed fixture (in place)."""
        fixture = build_fixture(self.clock())
        self.customers = list(fixture.customers)
        self.series = {s.id: s for s in fixture.series}
        self.coupons = {c.code: c for c in fixture.coupons}
        self._next_coupon_id = max(c.id for c in fixture.coupons) + 1
        redemptions = [r.id for c in fixture.coupons for r in c.redemptions]
        self._next_redemption_id = max(redemptions, default=4000000) + 1

    # ---- lookups -------------------------------------------------------------------------

    def find_customer(self, ref: CustomerRef) -> Customer | None:
        """The customer matching any of the given identifiers, or None."""
        for customer in self.customers:
            if any(_matches(customer, k, v) for k, v in ref.identifiers.items()):
                return customer
        return None

    def customer_by_id(self, customer_id: int) -> Customer | None:
        """The customer with this Capillary id, or None."""
        return next((c for c in self.customers if c.id == customer_id), None)

    def find_coupon(self, code: str) -> Coupon | None:
        """Case-insensitive coupon lookup."""
        return self.coupons.get(code.strip().upper())

    def find_series(self, raw_id: object) -> Series | None:
        """The series for an id given as int or numeric string, or None."""
        try:
            return self.series.get(int(str(raw_id).strip()))
        except ValueError:
            return None

    def all_series(self) -> list[Series]:
        """Every series, by id."""
        return sorted(self.series.values(), key=lambda s: s.id)

    def lookup(self, asked: Iterable[str], issued_to: set[int] | None) -> list[Coupon | None]:
        """coupon/get: one entry per asked code, None when unknown or not issued to them."""
        found = [self.find_coupon(code) for code in asked]
        if issued_to is None:
            return found
        return [c if c is not None and c.customer_id in issued_to else None for c in found]

    # ---- issue ---------------------------------------------------------------------------

    def issue(self, series_id: object, ref: CustomerRef) -> Outcome:
        """Issue a new coupon of a series to a customer (707/701/740/742/712/722)."""
        series = self.find_series(series_id)
        if series is None:
            return Outcome(codes.INVALID_SERIES)
        customer = self.find_customer(ref)
        code = self._issue_block(series, customer)
        if code != codes.SUCCESS or customer is None:
            return Outcome(code, customer=customer, series=series)
        coupon = self._new_coupon(series, customer)
        return Outcome(codes.SUCCESS, customer=customer, coupon=coupon, series=series)

    def _issue_block(self, series: Series, customer: Customer | None) -> int:
        if customer is None:
            return codes.CUSTOMER_NOT_FOUND
        if (blocked := _customer_block(customer)) != codes.SUCCESS:
            return blocked
        if series.valid_till < self.clock().date():
            return codes.SERIES_EXPIRED
        if 0 <= series.max_create <= series.issued:
            return codes.UNABLE_TO_ISSUE
        return codes.SUCCESS

    def _new_coupon(self, series: Series, customer: Customer) -> Coupon:
        coupon = Coupon(
            id=self._next_coupon_id,
            code=self._unique_code(),
            series_id=series.id,
            customer_id=customer.id,
            issued_on=self.clock(),
            valid_till=series.valid_till,
            issued_store=self.store,
            validation_code=series.validation_code,
        )
        self._next_coupon_id += 1
        self.coupons[coupon.code] = coupon
        series.issued += 1
        return coupon

    def _unique_code(self) -> str:
        while True:
            code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
            if code not in self.coupons:
                return code

    # ---- is redeemable / redeem ----------------------------------------------------------

    def check(self, code: str, ref: CustomerRef, validation_code: str | None = None) -> Outcome:
        """isredeemable: can this customer redeem the coupon here and now?"""
        outcome = self._resolve(code, ref, blocks=True)
        if not outcome.ok:
            return outcome
        return self._with_code(outcome, self._eligibility(outcome, validation_code, strict=False))

    def redeem(self, request: RedeemRequest) -> Outcome:
        """Redeem a coupon against a transaction at the sandbox till."""
        outcome = self._resolve(request.code, request.customer, blocks=True)
        if not outcome.ok:
            return outcome
        code = self._eligibility(outcome, request.validation_code, strict=True)
        if code == codes.SUCCESS:
            code = self._transaction_block(outcome, request)
        if code != codes.SUCCESS:
            return self._with_code(outcome, code)
        return self._record_redemption(outcome, request)

    def _resolve(self, code: str, ref: CustomerRef, *, blocks: bool) -> Outcome:
        """Find customer then coupon (701, then 740/742 when ``blocks``, then 702)."""
        customer = self.find_customer(ref)
        if customer is None:
            return Outcome(codes.CUSTOMER_NOT_FOUND)
        if blocks and (blocked := _customer_block(customer)) != codes.SUCCESS:
            return Outcome(blocked, customer=customer)
        coupon = self.find_coupon(code)
        if coupon is None:
            return Outcome(codes.INVALID_CODE, customer=customer)
        series = self.series[coupon.series_id]
        return Outcome(codes.SUCCESS, customer=customer, coupon=coupon, series=series)

    def _eligibility(self, outcome: Outcome, validation_code: str | None, *, strict: bool) -> int:
        """The first rule the coupon breaks (703/713/712/711/716/714/735/725/705), else 700."""
        customer, coupon, series = _parts(outcome)
        today = self.clock().date()
        checks = (
            (not series.any_user and coupon.customer_id != customer.id, codes.NOT_ISSUED),
            (coupon.valid_till < today, codes.COUPON_EXPIRED),
            (series.valid_till < today, codes.SERIES_EXPIRED),
            (bool(coupon.redemptions) and not series.multiple_use, codes.ALREADY_REDEEMED),
            (
                _redeemed_by(coupon, customer) > 0 and not series.same_user_multiple_redeem,
                codes.SAME_COUPON_MULTIPLE_TIMES,
            ),
            (0 <= series.max_redeem <= series.redeemed, codes.SERIES_MAX_REDEMPTIONS),
            (_wrong_store(series, self.store), codes.WRONG_STORE),
        )
        for failed, code in checks:
            if failed:
                return code
        return _validation_block(coupon, series, validation_code, strict)

    def _transaction_block(self, outcome: Outcome, request: RedeemRequest) -> int:
        series = _parts(outcome)[2]
        if series.transaction_number_required and not request.bill_number:
            return codes.TRANSACTION_NUMBER_REQUIRED
        try:
            amount = parse_amount(request.amount)
        except ValueError:
            return codes.INVALID_AMOUNT
        if series.min_bill_amount > 0 and (amount is None or amount < series.min_bill_amount):
            return codes.INVALID_AMOUNT
        return codes.SUCCESS

    def _record_redemption(self, outcome: Outcome, request: RedeemRequest) -> Outcome:
        customer, coupon, series = _parts(outcome)
        redemption = Redemption(
            id=self._next_redemption_id,
            customer_id=customer.id,
            redeemed_on=self.clock(),
            store=self.store,
            bill_number=request.bill_number or "",
            amount=parse_amount(request.amount),
        )
        self._next_redemption_id += 1
        coupon.redemptions.append(redemption)
        series.redeemed += 1
        return Outcome(codes.SUCCESS, customer, coupon, series, redemption)

    @staticmethod
    def _with_code(outcome: Outcome, code: int) -> Outcome:
        return Outcome(code, outcome.customer, outcome.coupon, outcome.series, outcome.redemption)

    # ---- resend --------------------------------------------------------------------------

    def resend(self, code: str, ref: CustomerRef) -> Outcome:
        """Resend a coupon to its customer (701/702/703/711/713)."""
        outcome = self._resolve(code, ref, blocks=False)
        if not outcome.ok:
            return outcome
        customer, coupon, series = _parts(outcome)
        if coupon.customer_id != customer.id:
            return self._with_code(outcome, codes.NOT_ISSUED)
        if coupon.redemptions and not series.multiple_use:
            return self._with_code(outcome, codes.ALREADY_REDEEMED)
        if coupon.valid_till < self.clock().date():
            return self._with_code(outcome, codes.COUPON_EXPIRED)
        return outcome


def redemptions_left(coupon: Coupon, series: Series) -> int:
    """Redemptions still possible for this coupon (-1 = unlimited)."""
    per_coupon = -1 if series.multiple_use else max(0, 1 - len(coupon.redemptions))
    per_series = -1 if series.max_redeem < 0 else max(0, series.max_redeem - series.redeemed)
    limits = [n for n in (per_coupon, per_series) if n >= 0]
    return min(limits) if limits else -1


def redemptions_by(coupon: Coupon, customer: Customer | None) -> int:
    """How many times this customer redeemed this coupon."""
    return 0 if customer is None else _redeemed_by(coupon, customer)


def coupon_value(series: Series, amount: Decimal | None = None) -> Decimal:
    """Discount granted: the flat value, or the percentage of the bill capped by discount_upto."""
    if series.is_absolute or amount is None:
        return Decimal(series.discount_value)
    value = (amount * series.discount_value / 100).quantize(Decimal("0.01"))
    if series.discount_upto > 0:
        value = min(value, Decimal(series.discount_upto))
    return value


def parse_amount(raw: str | None) -> Decimal | None:
    """A bill amount as Decimal (None when absent); ValueError when non-numeric or negative."""
    if raw is None or raw.strip() == "":
        return None
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise ValueError(f"invalid amount {raw!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"invalid amount {raw!r}")
    return amount


def _parts(outcome: Outcome) -> tuple[Customer, Coupon, Series]:
    if outcome.customer is None or outcome.coupon is None or outcome.series is None:
        raise ValueError("outcome is missing its customer, coupon or series")
    return outcome.customer, outcome.coupon, outcome.series


def _matches(customer: Customer, key: str, value: str) -> bool:
    if key == "mobile":
        return customer.mobile == normalise_mobile(value)
    if key == "email":
        return (customer.email or "").lower() == value.lower()
    if key in ("id", "user_id"):
        return str(customer.id) == value
    actual = {"external_id": customer.external_id, "card_number": customer.card_number}
    return actual.get(key) == value


def _customer_block(customer: Customer) -> int:
    if customer.fraud:
        return codes.CUSTOMER_FRAUD
    if customer.blocked:
        return codes.CUSTOMER_BLOCKED
    return codes.SUCCESS


def _redeemed_by(coupon: Coupon, customer: Customer) -> int:
    return sum(1 for r in coupon.redemptions if r.customer_id == customer.id)


def _wrong_store(series: Series, store: Store) -> bool:
    return bool(series.redeem_at_store_ids) and store.id not in series.redeem_at_store_ids


def _validation_block(
    coupon: Coupon, series: Series, validation_code: str | None, strict: bool
) -> int:
    """725 when required but missing (redeem only), 705 when wrong."""
    if not series.is_validation_required:
        return codes.SUCCESS
    if not validation_code:
        return codes.VALIDATION_CODE_REQUIRED if strict else codes.SUCCESS
    if validation_code.strip() != (coupon.validation_code or ""):
        return codes.INVALID_VALIDATION_CODE
    return codes.SUCCESS


def seed_state() -> SandboxState:
    """A fresh sandbox state loaded from the seed fixture."""
    return SandboxState()
