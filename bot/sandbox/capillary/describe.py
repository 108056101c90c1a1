"""The text the sandbox prints at startup: where it is, how to log in, what data it holds."""

from __future__ import annotations

from bot.sandbox.capillary.auth import (
    SANDBOX_OAUTH_KEY,
    SANDBOX_OAUTH_SECRET,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
)
from bot.sandbox.capillary.faults import Faults
from bot.sandbox.capillary.fixture import UNKNOWN_MOBILE
from bot.sandbox.capillary.models import Coupon, Customer, Series
from bot.sandbox.capillary.state import SandboxState


def describe(state: SandboxState, base_url: str) -> str:
    """Multi-line description: URL, credentials, series, customers, coupons, admin usage."""
    sections = [
        _header(state, base_url),
        _series(state),
        _customers(state),
        _coupons(state),
        _admin(base_url),
    ]
    return "\n\n".join(sections) + "\n"


def _header(state: SandboxState, base_url: str) -> str:
    return "\n".join(
        [
            "Capillary V1.1 coupon sandbox",
            f"  URL:        {base_url}   (endpoints under {base_url}/v1.1/coupon/)",
            f'  Basic auth: username "{SANDBOX_USERNAME}", password "{SANDBOX_PASSWORD}" '
            "(sent as base64(username + ':' + md5_hex(password)))",
            f"  OAuth:      POST {base_url}/v3/oauth/token/generate "
            f'{{"key": "{SANDBOX_OAUTH_KEY}", "secret": "{SANDBOX_OAUTH_SECRET}"}}, '
            "then header X-CAP-API-OAUTH-TOKEN",
            f"  Till:       {state.store.till} at store {state.store.code}",
        ]
    )


def _series(state: SandboxState) -> str:
    lines = ["Series (GET /v1.1/coupon/series lists them all):"]
    for series in state.all_series():
        discount = f"{series.discount_type} {series.discount_value}"
        lines.append(
            f"  {series.id}  {series.description:<38} {discount:<9} "
            f"valid till {series.valid_till}  issued {series.issued}, "
            f"redeemed {series.redeemed}{_series_notes(state, series)}"
        )
    return "\n".join(lines)


def _series_notes(state: SandboxState, series: Series) -> str:
    notes = []
    if series.valid_till < state.clock().date():
        notes.append("EXPIRED: issue -> 712")
    if series.is_validation_required:
        notes.append(f"validation code {series.validation_code} required")
    if series.transaction_number_required:
        notes.append("transaction number required")
    if series.min_bill_amount:
        notes.append(f"min bill {series.min_bill_amount}")
    if series.max_create >= 0 or series.max_redeem >= 0:
        notes.append(f"max_create {series.max_create}, max_redeem {series.max_redeem}")
    if series.redeem_at_store_ids:
        notes.append(f"redeemable only at store ids {list(series.redeem_at_store_ids)}")
    if series.multiple_use:
        notes.append("multi-use, any customer, once per customer")
    return f"  [{'; '.join(notes)}]" if notes else ""


def _customers(state: SandboxState) -> str:
    lines = ["Customers:"]
    for customer in state.customers:
        flag = " [FRAUD -> 740]" if customer.fraud else ""
        flag += " [BLOCKED -> 742]" if customer.blocked else ""
        lines.append(
            f"  {customer.id}  {customer.name:<13} mobile {customer.mobile}  "
            f"{customer.email}  external_id {customer.external_id}{flag}"
        )
    lines.append(f"  (any other mobile, e.g. {UNKNOWN_MOBILE}, is unknown -> 701)")
    return "\n".join(lines)


def _coupons(state: SandboxState) -> str:
    lines = ["Coupons:"]
    for coupon in state.coupons.values():
        owner = state.customer_by_id(coupon.customer_id)
        lines.append(
            f"  {coupon.code:<12} series {coupon.series_id}  {_owner(owner):<28} "
            f"{_coupon_state(state, coupon)}"
        )
    return "\n".join(lines)


def _owner(customer: Customer | None) -> str:
    return f"{customer.name} ({customer.mobile})" if customer else "?"


def _coupon_state(state: SandboxState, coupon: Coupon) -> str:
    series = state.series[coupon.series_id]
    if coupon.valid_till < state.clock().date():
        return f"EXPIRED on {coupon.valid_till}"
    if coupon.redemptions and not series.multiple_use:
        last = coupon.redemptions[-1]
        return f"REDEEMED {last.redeemed_on:%Y-%m-%d} at {last.store.code}"
    used = f", used {len(coupon.redemptions)}x" if coupon.redemptions else ""
    code = f", validation code {coupon.validation_code}" if coupon.validation_code else ""
    return f"active, valid till {coupon.valid_till}{used}{code}"


def _admin(base_url: str) -> str:
    keys = ", ".join(Faults.keys())
    return "\n".join(
        [
            "Admin (no auth; faults apply to /v1.1 calls only):",
            f"  curl {base_url}/__sandbox/faults                  current fault settings",
            f"  curl -X POST {base_url}/__sandbox/faults -d '{{\"http_500_next\": 1}}'",
            f"       keys: {keys}",
            f"  curl -X POST {base_url}/__sandbox/reset           data and faults back to seed",
            f"  curl {base_url}/__sandbox/calls                   recorded API calls",
        ]
    )
