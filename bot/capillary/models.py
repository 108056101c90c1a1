"""Typed results of the Capillary client.

Capillary's v1.1 bodies disagree with themselves: ``"true"`` / ``true`` / ``1``, ``"200"`` /
``200``, ``"NULL"`` / ``""`` / ``null``, dates as ``YYYY-MM-DD`` on issue and ``DD-MM-YYYY``
on get. The ``Loose*`` annotated types below absorb that once, so every model field has
one honest Python type, and a value that cannot be read becomes ``None`` instead of
failing the whole answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.capillary.catalogue import Explanation

__all__ = [
    "CouponDetails",
    "CouponLookup",
    "CustomerInfo",
    "IssuedCoupon",
    "ItemStatus",
    "MissingCoupon",
    "OutcomeUnknown",
    "Redeemability",
    "RedeemedCoupon",
    "Redemption",
    "ResentCoupon",
    "Series",
    "Store",
]

_NULLS = frozenset({"", "null", "none", "nil"})
_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%Y/%m/%d", "%d/%m/%Y")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d-%m-%Y %H:%M:%S")


def _scalar_text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return None if text.lower() in _NULLS else text


def to_bool(value: object) -> bool | None:
    """``true``/``"true"``/``1``/``"1"`` → True; the false forms → False; anything else → None."""
    if isinstance(value, bool):
        return value
    text = _scalar_text(value)
    if text is None:
        return None
    lowered = text.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else None


def to_int(value: object) -> int | None:
    """``200``/``"200"``/``"200.0"`` → 200; anything else → None."""
    number = to_decimal(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def to_text(value: object) -> str | None:
    return _scalar_text(value)


_MAX_EXPONENT = 30  # "1e9999999" would stall int() and arithmetic; no real field needs it


def to_decimal(value: object) -> Decimal | None:
    """``"5000.00"``/``100`` → Decimal; non-numbers and absurd magnitudes → None."""
    text = _scalar_text(value)
    if text is None or len(text) > 64:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number.adjusted()) > _MAX_EXPONENT:
        return None
    return number


def to_datetime(value: object) -> datetime | None:
    text = _scalar_text(value)
    for fmt in _DATETIME_FORMATS + _DATE_FORMATS:
        try:
            return datetime.strptime(text or "", fmt)
        except ValueError:
            continue
    return None


def to_date(value: object) -> date | None:
    moment = to_datetime(value)
    return moment.date() if moment else None


LooseBool = Annotated[bool | None, BeforeValidator(to_bool)]
LooseInt = Annotated[int | None, BeforeValidator(to_int)]
LooseText = Annotated[str | None, BeforeValidator(to_text)]
LooseDecimal = Annotated[Decimal | None, BeforeValidator(to_decimal)]
LooseDate = Annotated[date | None, BeforeValidator(to_date)]
LooseDateTime = Annotated[datetime | None, BeforeValidator(to_datetime)]


def _mapping_or_none(value: object) -> object:
    return value if isinstance(value, dict) else None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class ItemStatus(_Model):
    """Capillary's per-item verdict: ``item_status`` (``success`` or ``status``, ``code``)."""

    success: LooseBool = None
    code: LooseInt = None
    message: LooseText = None

    @model_validator(mode="before")
    @classmethod
    def _status_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "success" not in data and "status" in data:
            return {**data, "success": data["status"]}
        return data

    @property
    def ok(self) -> bool:
        """The code decides when present (700, or 731 on newer clusters); else the flag."""
        if self.code is not None:
            return self.code in (700, 731)
        return bool(self.success)


class CustomerInfo(_Model):
    """The customer as Capillary echoes it. Raw values: mask before showing anyone."""

    id: LooseText = None
    name: LooseText = None
    mobile: LooseText = None
    email: LooseText = None
    external_id: LooseText = None


class Store(_Model):
    code: LooseText = None
    name: LooseText = None


Customer = Annotated[CustomerInfo | None, BeforeValidator(_mapping_or_none)]
OptStore = Annotated[Store | None, BeforeValidator(_mapping_or_none)]


class _Result(_Model):
    """Every result carries the ``X-Cap-Requestid`` of the call that produced it."""

    request_id: str | None = None
    item_status: Annotated[
        ItemStatus, BeforeValidator(lambda v: v if isinstance(v, dict) else {})
    ] = Field(default_factory=ItemStatus)


class IssuedCoupon(_Result):
    """``POST coupon/issue``: the new coupon. Older clusters nest series data in ``series_info``."""

    # Issued only when Capillary names the coupon: "" or "NULL" is no code (unreadable).
    code: Annotated[str, BeforeValidator(to_text)]
    series_id: LooseText = None
    description: LooseText = None
    discount_code: LooseText = None
    valid_till: LooseDate = None
    discount_type: LooseText = None
    discount_value: LooseDecimal = None
    discount_upto: LooseDecimal = None
    discount_on: LooseText = None
    customer: Customer = None

    @model_validator(mode="before")
    @classmethod
    def _lift_series_info(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("series_info"), dict):
            return data
        info = {("series_id" if k == "id" else k): v for k, v in data["series_info"].items()}
        return {**info, **{k: v for k, v in data.items() if v not in (None, "", [])}}


class Redemption(_Model):
    """How a coupon was redeemed (``redemption_info``, or top-level fields on old clusters)."""

    id: LooseText = None
    redeemed_on: LooseDateTime = None
    redeemed_at: LooseText = None
    store: OptStore = None
    bill_number: LooseText = None


class CouponDetails(_Result):
    """``GET coupon/get``: one coupon."""

    id: LooseText = None
    code: str
    series_id: LooseText = None
    valid_till: LooseDate = None
    valid_from: LooseDateTime = None
    issued_on: LooseDateTime = None
    is_absolute: LooseBool = None
    value: LooseDecimal = None
    discount_upto: LooseDecimal = None
    customer: Customer = None
    issued_store: OptStore = None
    redemption: Redemption | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_redemption(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {**data, "redemption": _redemption_from(data)}

    @property
    def redeemed(self) -> bool:
        return self.redemption is not None


def _redemption_from(item: dict[str, Any]) -> dict[str, Any] | None:
    """``redemption_info`` (current), or top-level fields (old clusters); None if not redeemed.

    Only real evidence counts: an explicit ``redeemed: true``, or a redemption id or date.
    Empty objects, ``[]``, ``"NULL"`` and null fields are not a redemption.
    """
    info = item.get("redemption_info")
    source = info if isinstance(info, dict) else item
    flag = to_bool(source.get("redeemed"))
    when = to_text(source.get("redeemed_on"))
    ident = to_text(source.get("id") if source is info else source.get("redemption_id"))
    if flag is False or not (flag or when or (ident and source is info)):
        return None
    txn = source.get("transaction")
    bill = (txn.get("bill_number") or txn.get("number")) if isinstance(txn, dict) else None
    return {
        "id": ident,
        "redeemed_on": source.get("redeemed_on"),
        "redeemed_at": source.get("redeemed_at"),
        "store": source.get("store"),
        "bill_number": bill,
    }


class MissingCoupon(_Model):
    """A code that ``coupon/get`` could not match (an ``id: -1`` item)."""

    code: str
    explanation: Explanation


class CouponLookup(_Model):
    """``GET coupon/get`` for one or several codes, in the order Capillary answered."""

    request_id: str | None = None
    coupons: tuple[CouponDetails, ...] = ()
    missing: tuple[MissingCoupon, ...] = ()


class Series(_Result):
    """``GET coupon/series``. Capillary sends every value as a string; ``-1`` means unlimited."""

    id: str
    description: LooseText = None
    series_type: LooseText = None
    discount_code: LooseText = None
    discount_type: LooseText = None
    discount_value: LooseDecimal = None
    discount_upto: LooseDecimal = None
    discount_on: LooseText = None
    valid_till: LooseDate = Field(default=None, validation_alias="valid_till_date")
    max_create: LooseInt = None
    max_redeem: LooseInt = None
    is_validation_required: LooseBool = None
    same_user_multiple_redeem: LooseBool = None
    min_bill_amount: LooseDecimal = None
    issued: LooseInt = None
    redeemed: LooseInt = None

    @model_validator(mode="before")
    @classmethod
    def _lift_counts(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("coupons"), dict):
            counts = data["coupons"]
            return {**data, "issued": counts.get("issued"), "redeemed": counts.get("redeemed")}
        return data


class Redeemability(_Result):
    """``GET coupon/isredeemable``. When not redeemable, ``reason`` says why.

    ``discount_type`` (``ABS``/``PERC``) says what ``coupon_value`` is; Capillary sends it
    only inside ``series_info`` (documented with ``details=extended``), else it is None.
    """

    code: str
    is_redeemable: bool
    redemptions_left: LooseInt = None
    redemptions_by_user: LooseInt = Field(
        default=None, validation_alias="no_of_redemptions_by_user"
    )
    coupon_value: LooseDecimal = None
    discount_type: LooseText = None
    reason: Explanation | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_discount_type(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("series_info"), dict):
            return data
        return {"discount_type": data["series_info"].get("discount_type"), **data}

    @property
    def unlimited(self) -> bool:
        return self.redemptions_left is not None and self.redemptions_left < 0


class RedeemedCoupon(_Result):
    """``POST coupon/redeem``: the redemption Capillary recorded."""

    code: str
    redemption_id: LooseText = None
    discount_code: LooseText = None
    series_code: LooseText = None
    is_absolute: LooseBool = None
    coupon_value: LooseDecimal = None
    bill_number: LooseText = None
    bill_amount: LooseDecimal = None
    customer: Customer = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        txn = data.get("transaction")
        txn = txn[0] if isinstance(txn, list) and txn else txn
        txn = txn if isinstance(txn, dict) else {}
        return {
            **data,
            "redemption_id": data.get("redemption_id") or data.get("redemptionId"),
            "bill_number": txn.get("number"),
            "bill_amount": txn.get("amount"),
        }


class ResentCoupon(_Result):
    """``GET coupon/resend``: the coupon was sent to the customer again."""

    code: str
    id: LooseText = None


@dataclass(frozen=True, slots=True)
class OutcomeUnknown:
    """A POST (issue or redeem) whose outcome cannot be known: it may or may not have happened.

    Never retried automatically. Callers must check with ``get``/``is_redeemable`` and say
    plainly what is known; this is neither a success nor a failure.
    """

    endpoint: str
    reason: str
    request_id: str | None = None
