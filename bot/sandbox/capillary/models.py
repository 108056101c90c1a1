"""Plain data records held by the sandbox state (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

DiscountType = Literal["ABS", "PERC"]


@dataclass(frozen=True)
class Store:
    """A store (and its till) where coupons are issued or redeemed."""

    id: int
    code: str
    name: str
    till: str


@dataclass(frozen=True)
class Customer:
    """A loyalty customer; ``fraud``/``blocked`` trigger codes 740 and 742."""

    id: int
    firstname: str
    lastname: str
    mobile: str
    email: str | None
    external_id: str | None
    card_number: str | None = None
    fraud: bool = False
    blocked: bool = False

    @property
    def name(self) -> str:
        """Full display name."""
        return f"{self.firstname} {self.lastname}"


@dataclass
class Series:
    """A coupon series (campaign offer) and its counters."""

    id: int
    description: str
    discount_code: str
    discount_type: DiscountType
    discount_value: int
    valid_till: date
    series_code: str
    campaign_id: int
    discount_upto: int = 0
    max_create: int = -1
    max_redeem: int = -1
    multiple_use: bool = False
    any_user: bool = False
    same_user_multiple_redeem: bool = False
    is_validation_required: bool = False
    validation_code: str | None = None
    transaction_number_required: bool = False
    min_bill_amount: int = 0
    redeem_at_store_ids: tuple[int, ...] = ()
    issued: int = 0
    redeemed: int = 0

    @property
    def is_absolute(self) -> bool:
        """True for a flat (ABS) discount, False for a percentage."""
        return self.discount_type == "ABS"


@dataclass(frozen=True)
class Redemption:
    """One redemption of a coupon."""

    id: int
    customer_id: int
    redeemed_on: datetime
    store: Store
    bill_number: str
    amount: Decimal | None


@dataclass
class Coupon:
    """An issued coupon; ``code`` is stored upper-case."""

    id: int
    code: str
    series_id: int
    customer_id: int
    issued_on: datetime
    valid_till: date
    issued_store: Store
    validation_code: str | None = None
    redemptions: list[Redemption] = field(default_factory=list)
