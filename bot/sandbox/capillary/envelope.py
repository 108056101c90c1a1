"""JSON bodies per endpoint, built by hand with each endpoint's real quirks.

Quirks kept on purpose (see capillary-v1.1.md): issue uses booleans/ints, resend and series
use strings everywhere, get/isredeemable/redeem mix string ``success`` with int ``code``;
issue answers under ``response.coupon``, the others under ``response.coupons.*``;
get's ``valid_till`` is DD-MM-YYYY while issue's is YYYY-MM-DD.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from bot.sandbox.capillary import codes
from bot.sandbox.capillary.models import Coupon, Customer, Redemption, Series
from bot.sandbox.capillary.state import (
    CustomerRef,
    Outcome,
    SandboxState,
    coupon_value,
    redemptions_by,
    redemptions_left,
)

JSON = dict[str, Any]
CodeCase = Literal["UPPER", "LOWER", "AS_IT_IS"]
Details = Literal["", "true", "extended"]

ALL_FAILED = "All requests have failed due to errors"
SOME_FAILED = "Some requests have failed due to errors"
GET_UNMATCHED = "Both coupon code and validation code are invalid"
SUCCESS_MESSAGES = {
    "issue": "Coupon processing successful",
    "redeem": "Coupon processing successful",
    "get": "Coupon processing successful",
    "resend": "Coupon Resent",
    "series": "Coupon series fetched successfully",
    "isredeemable": "Coupon isRedeem successful",
}


# ---- shared helpers --------------------------------------------------------------------


def request_error(code: int, message: str) -> JSON:
    """Request-level error with no item (400/401/404/405/429/500)."""
    return {"response": {"status": {"success": False, "code": code, "message": message}}}


def request_code(outcomes: Sequence[Outcome]) -> int:
    """200 when every item succeeded, 500 when none did, 201 otherwise."""
    ok = sum(1 for o in outcomes if o.ok)
    if ok == len(outcomes):
        return 200
    return 500 if ok == 0 else 201


def _status_message(code: int, success: str = "Success") -> str:
    return {200: success, 201: SOME_FAILED}.get(code, ALL_FAILED)


def _one_or_many(items: list[JSON]) -> JSON | list[JSON]:
    return items[0] if len(items) == 1 else items


def _item_message(outcome: Outcome, endpoint: str) -> str:
    return SUCCESS_MESSAGES[endpoint] if outcome.ok else codes.message_for(outcome.code)


def _num(value: Decimal | int) -> int | float:
    as_decimal = Decimal(value)
    return int(as_decimal) if as_decimal == as_decimal.to_integral_value() else float(as_decimal)


def _text(value: Decimal | int) -> str:
    return str(_num(value))


def _ymd(day: date) -> str:
    return day.strftime("%Y-%m-%d")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _flag(value: bool) -> str:
    return "1" if value else "0"


def apply_case(code: str, case: CodeCase) -> str:
    """Output case for coupon codes (codes are stored upper-case, so AS_IT_IS keeps that)."""
    return code.lower() if case == "LOWER" else code.upper() if case == "UPPER" else code


def customer_echo(customer: Customer | None, ref: CustomerRef) -> JSON:
    """The ``customer{mobile,email,external_id}`` block: the record, else what was asked."""
    if customer is not None:
        return {
            "mobile": customer.mobile,
            "email": customer.email,
            "external_id": customer.external_id,
        }
    return {k: ref.get(k) for k in ("mobile", "email", "external_id")}


# ---- issue -----------------------------------------------------------------------------


def issue(outcomes: Sequence[Outcome], asked: Sequence[tuple[object, CustomerRef]]) -> JSON:
    """POST coupon/issue: ``response.coupon`` (object), native bool/int types."""
    code = request_code(outcomes)
    status = {"success": code != 500, "code": code, "message": _status_message(code)}
    items = [_issue_item(o, sid, ref) for o, (sid, ref) in zip(outcomes, asked, strict=True)]
    return {"response": {"status": status, "coupon": _one_or_many(items)}}


def _issue_item(outcome: Outcome, series_id: object, ref: CustomerRef) -> JSON:
    item_status = {
        "success": outcome.ok,
        "code": outcome.code,
        "message": _item_message(outcome, "issue"),
    }
    customer = customer_echo(outcome.customer, ref)
    coupon, series = outcome.coupon, outcome.series
    if coupon is None or series is None:
        return {
            "series_id": _int_or_raw(series_id),
            "customer": customer,
            "item_status": item_status,
        }
    return {
        "code": coupon.code,
        "series_id": series.id,
        "description": series.description,
        "discount_code": series.discount_code,
        "valid_till": _ymd(coupon.valid_till),
        "discount_type": series.discount_type,
        "discount_value": series.discount_value,
        "discount_upto": series.discount_upto,
        "discount_on": "BILL",
        "detailed_info": "",
        "customer": customer,
        "item_status": item_status,
    }


def _int_or_raw(value: object) -> object:
    try:
        return int(str(value))
    except ValueError:
        return value


# ---- resend ----------------------------------------------------------------------------


def resend(outcome: Outcome, asked_code: str) -> JSON:
    """GET coupon/resend: strings everywhere, ``coupons.coupon`` is an array."""
    code = request_code([outcome])
    status = {
        "success": str(code != 500).lower(),
        "code": str(code),
        "message": _status_message(code, "SUCCESS"),
    }
    coupon = outcome.coupon
    item = {
        "id": str(coupon.id) if coupon else "-1",
        "code": coupon.code if coupon else asked_code,
        "item_status": {
            "success": str(outcome.ok).lower(),
            "code": str(outcome.code),
            "message": _item_message(outcome, "resend"),
        },
    }
    return {"response": {"status": status, "coupons": {"coupon": [item]}}}


# ---- get -------------------------------------------------------------------------------


def get(
    state: SandboxState,
    asked: Sequence[str],
    found: Sequence[Coupon | None],
    case: CodeCase,
    failure: int | None = None,
) -> JSON:
    """GET coupon/get: array of coupons; unmatched codes become ``id: -1`` items (705).

    ``failure`` forces every item to fail with that code (transient fault injection).
    """
    status = {"success": "true", "status": "true", "code": 200, "message": "Success"}
    items = [
        _get_item(state, coupon, case)
        if coupon and failure is None
        else _get_unmatched(code, failure or codes.INVALID_VALIDATION_CODE)
        for code, coupon in zip(asked, found, strict=True)
    ]
    return {"response": {"status": status, "coupons": {"coupon": items}}}


def _get_item(state: SandboxState, coupon: Coupon, case: CodeCase) -> JSON:
    series = state.series[coupon.series_id]
    item: JSON = {
        "id": str(coupon.id),
        "code": apply_case(coupon.code, case),
        "valid_till": coupon.valid_till.strftime("%d-%m-%Y"),
        "issued_on": _stamp(coupon.issued_on),
        "valid_from": _stamp(coupon.issued_on),
        "purpose": "",
        "custom_properties": {"custom_property": []},
        "series_id": series.id,
        "is_absolute": series.is_absolute,
        "value": series.discount_value,
        "discount_upto": series.discount_upto,
        "customer": _get_customer(state.customer_by_id(coupon.customer_id)),
        "pincode": "NULL",
        "issued_store": {"code": coupon.issued_store.code, "name": coupon.issued_store.name},
    }
    if coupon.redemptions:
        item["redemption_info"] = _redemption_info(state, coupon.redemptions[-1])
    item["item_status"] = {
        "success": "true",
        "status": "true",
        "code": codes.SUCCESS,
        "message": SUCCESS_MESSAGES["get"],
    }
    return item


def _get_customer(customer: Customer | None) -> JSON:
    if customer is None:
        return {"id": None, "name": None, "mobile": None, "email": None, "external_id": None}
    return {
        "id": str(customer.id),
        "name": customer.name,
        "mobile": customer.mobile,
        "email": customer.email,
        "external_id": customer.external_id,
    }


def _redemption_info(state: SandboxState, redemption: Redemption) -> JSON:
    who = state.customer_by_id(redemption.customer_id)
    return {
        "redeemed": "true",
        "id": redemption.id,
        "redeemed_on": _stamp(redemption.redeemed_on),
        "redeemed_at": redemption.store.till,
        "redeemed_by": {
            "firstname": who.firstname if who else None,
            "lastname": who.lastname if who else None,
            "email": who.email if who else None,
            "mobile": who.mobile if who else None,
        },
        "store": {"code": redemption.store.code, "name": redemption.store.name},
        "transaction": {"id": None, "bill_number": redemption.bill_number},
    }


def _get_unmatched(asked_code: str, code: int) -> JSON:
    message = GET_UNMATCHED if code == codes.INVALID_VALIDATION_CODE else codes.message_for(code)
    return {
        "id": -1,
        "code": asked_code,
        "valid_till": None,
        "issued_on": None,
        "valid_from": None,
        "series_id": None,
        "is_absolute": False,
        "value": None,
        "discount_upto": None,
        "pincode": "NULL",
        "item_status": {"success": "false", "code": code, "message": message},
    }


# ---- series ----------------------------------------------------------------------------


def series_one(series: Series) -> JSON:
    """GET coupon/series?id=N: ``items.item`` is an OBJECT, every value a string."""
    return _series_envelope(200, series_item(series))


def series_all(all_series: Sequence[Series]) -> JSON:
    """GET coupon/series (no id): ``items.item`` is an ARRAY of every series."""
    return _series_envelope(200, [series_item(s) for s in all_series])


def series_failure(asked_id: str, code: int) -> JSON:
    """Unknown series id (707) or an injected failure: one item carrying the code."""
    item = {
        "id": asked_id,
        "item_status": {"success": "false", "code": str(code), "message": codes.message_for(code)},
    }
    return _series_envelope(500, item)


def _series_envelope(code: int, items: JSON | list[JSON]) -> JSON:
    status = {
        "success": str(code == 200).lower(),
        "code": str(code),
        "message": _status_message(code),
    }
    return {"response": {"status": status, "series": {"items": {"item": items}}}}


def series_item(series: Series) -> JSON:
    """One series with every value as a string ("0"/"1" flags, "-1" unlimited)."""
    stores = json.dumps(list(series.redeem_at_store_ids)) if series.redeem_at_store_ids else None
    return {
        "id": str(series.id),
        "description": series.description,
        "series_type": "CAMPAIGN",
        "client_handling_type": "DISC_CODE",
        "discount_code": series.discount_code,
        "valid_till_date": _ymd(series.valid_till),
        "valid_days_from_create": "-1",
        "expiry_strategy_type": "SERIES_EXPIRY",
        "expiry_strategy_value": "-1",
        "max_create": str(series.max_create),
        "max_redeem": str(series.max_redeem),
        "transferrable": "0",
        "any_user": _flag(series.any_user),
        "same_user_multiple_redeem": _flag(series.same_user_multiple_redeem),
        "multiple_use": _flag(series.multiple_use),
        "is_validation_required": _flag(series.is_validation_required),
        "valid_with_discounted_item": "false",
        "series_code": series.series_code,
        "allow_multiple_vouchers_per_user": "1",
        "do_not_resend_existing_voucher": "0",
        "max_vouchers_per_user": "-1",
        "min_days_between_vouchers": "-1",
        "discount_on": "BILL",
        "discount_type": series.discount_type,
        "discount_value": str(series.discount_value),
        "discount_upto": str(series.discount_upto),
        "redemption_range": '{"dom":["-1"],"dow":["-1"],"hours":["-1"]}',
        "min_bill_amount": str(series.min_bill_amount),
        "max_bill_amount": "0",
        "redeem_at_store": stores or "[-1]",
        "campaign_id": str(series.campaign_id),
        "max_redemptions_in_series_per_user": "-1",
        "redemption_valid_from": "",
        "coupons": {"issued": str(series.issued), "redeemed": str(series.redeemed)},
        "offline_redemption_enabled": "true",
        "valid_redemption_org_entities": {
            "concepts": None,
            "zones": None,
            "stores": stores,
            "tills": None,
        },
        "products": "",
        "brands": "",
        "categories": "",
        "item_status": {"success": "true", "code": "700", "message": SUCCESS_MESSAGES["series"]},
    }


# ---- isredeemable ----------------------------------------------------------------------


def isredeemable(items: list[JSON]) -> JSON:
    """GET coupon/isredeemable: request status always 200; one code → object, several → array."""
    status = {"success": "true", "code": 200, "message": "Success"}
    return {"response": {"status": status, "coupons": {"redeemable": _one_or_many(items)}}}


def redeemable_item(
    state: SandboxState,
    outcome: Outcome,
    asked: tuple[str, CustomerRef],
    case: CodeCase,
    details: Details,
) -> JSON:
    """One ``redeemable`` object (is_redeemable "true"/"false" plus the item code)."""
    asked_code, ref = asked
    coupon, series, customer = outcome.coupon, outcome.series, outcome.customer
    item: JSON = {
        "mobile": customer.mobile if customer else ref.get("mobile"),
        "code": apply_case(coupon.code if coupon else asked_code, case),
        "is_redeemable": str(outcome.ok).lower(),
        "redemptions_left": redemptions_left(coupon, series) if coupon and series else 0,
        "no_of_redemptions_by_user": redemptions_by(coupon, customer) if coupon else 0,
        "coupon_value": _text(coupon_value(series)) if series else "0",
        "customer": customer_echo(customer, ref),
        "item_status": {
            "success": str(outcome.ok).lower(),
            "status": str(outcome.ok).lower(),
            "code": outcome.code,
            "message": _item_message(outcome, "isredeemable"),
        },
    }
    if details and series is not None:
        item["series_info"] = series_info(series, extended=details == "extended")
    return item


def series_info(series: Series, *, extended: bool) -> JSON:
    """isredeemable's nested ``series_info`` (details=true; more with details=extended)."""
    info: JSON = {
        "id": str(series.id),
        "description": series.description,
        "discount_code": series.discount_code,
        "valid_till": _ymd(series.valid_till),
        "discount_type": series.discount_type,
        "discount_value": str(series.discount_value),
        "detailed_info": "",
    }
    if extended:
        info |= {
            "series_code": series.series_code,
            "discount_on": "BILL",
            "discount_upto": str(series.discount_upto),
            "min_bill_amount": str(series.min_bill_amount),
            "valid_with_discounted_item": "false",
            "categories": {"category": []},
            "brands": {"brand": []},
            "product_sku": {"sku": []},
        }
    return info


# ---- redeem ----------------------------------------------------------------------------


def redeem(items: list[JSON], outcomes: Sequence[Outcome]) -> JSON:
    """POST coupon/redeem: string ``success``, int ``code``; one coupon → object."""
    code = request_code(outcomes)
    status = {"success": str(code != 500).lower(), "code": code, "message": _status_message(code)}
    return {"response": {"status": status, "coupons": {"coupon": _one_or_many(items)}}}


def redeem_item(
    outcome: Outcome, asked: tuple[str, CustomerRef], transaction: tuple[str | None, Decimal | None]
) -> JSON:
    """One redeemed (or refused) coupon, echoing the customer and the transaction."""
    asked_code, ref = asked
    number, amount = transaction
    coupon, series, redemption = outcome.coupon, outcome.series, outcome.redemption
    item: JSON = {"customer": customer_echo(outcome.customer, ref)}
    if outcome.ok and coupon and series and redemption:
        item |= {
            "redemption_id": str(redemption.id),
            "code": coupon.code,
            "discount_code": series.discount_code,
            "series_code": series.series_code,
            "series_info": [],
            "is_absolute": str(series.is_absolute).lower(),
            "coupon_value": _text(coupon_value(series, amount)),
        }
    else:
        item["code"] = coupon.code if coupon else asked_code.upper()
        item["is_absolute"] = str(series.is_absolute if series else False).lower()
    return item | {
        "transaction": {"amount": f"{amount or Decimal(0):.2f}", "number": number or ""},
        "side_effects": [],
        "item_status": {
            "success": str(outcome.ok).lower(),
            "code": outcome.code,
            "message": _item_message(outcome, "redeem"),
        },
    }
