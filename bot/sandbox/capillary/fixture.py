"""Seed data for the sandbox: small, readable and deterministic.

Codes, ids and mobiles are fixed; dates are relative to "now" so the fixture never rots
(valid = today + 90 days, expired = today - 30 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.sandbox.capillary.models import Coupon, Customer, Redemption, Series, Store

SANDBOX_STORE = Store(id=70001, code="STORE-SANDBOX", name="Sandbox Store", till="sandbox.till")
MUMBAI_STORE = Store(id=70002, code="STORE-MUMBAI-01", name="Mumbai Flagship", till="mumbai.till")
STORES = (SANDBOX_STORE, MUMBAI_STORE)

VALIDATION_CODE = "4321"
UNKNOWN_MOBILE = "919999999999"

RIYA = Customer(
    5001,
    "Riya",
    "Sharma",
    "919876543210",
    "riya.sharma@example.com",
    "EXT-5001",
    card_number="CARD5001",
)
ARJUN = Customer(
    5002,
    "Arjun",
    "Mehta",
    "919812345678",
    "arjun.mehta@example.com",
    "EXT-5002",
    card_number="CARD5002",
)
VIKRAM = Customer(
    5003, "Vikram", "Rao", "919800000003", "vikram.rao@example.com", "EXT-5003", fraud=True
)
NEHA = Customer(
    5004, "Neha", "Kapoor", "919800000004", "neha.kapoor@example.com", "EXT-5004", blocked=True
)
CUSTOMERS = (RIYA, ARJUN, VIKRAM, NEHA)


@dataclass(frozen=True)
class Fixture:
    """Everything the sandbox starts with."""

    customers: tuple[Customer, ...]
    series: list[Series]
    coupons: list[Coupon]


def build_fixture(now: datetime) -> Fixture:
    """Build fresh seed data with dates relative to ``now``."""
    series = _series(now)
    coupons = _coupons(now)
    for item in series:
        mine = [c for c in coupons if c.series_id == item.id]
        item.issued = len(mine)
        item.redeemed = sum(len(c.redemptions) for c in mine)
    return Fixture(customers=CUSTOMERS, series=series, coupons=coupons)


def _series(now: datetime) -> list[Series]:
    valid = now.date() + timedelta(days=90)
    expired = now.date() - timedelta(days=30)
    return [
        Series(1001, "Diwali welcome ₹100 off", "DIWALI100", "ABS", 100, valid, "SER1001", 501),
        Series(
            1002,
            "Festive 20% off (validation code)",
            "FEST20",
            "PERC",
            20,
            valid,
            "SER1002",
            502,
            discount_upto=500,
            is_validation_required=True,
            validation_code=VALIDATION_CODE,
        ),
        Series(
            1003,
            "Big bill ₹250 off",
            "BIGBILL250",
            "ABS",
            250,
            valid,
            "SER1003",
            503,
            min_bill_amount=1000,
            transaction_number_required=True,
        ),
        Series(
            1004, "Summer sale ₹50 off (expired)", "SUMMER50", "ABS", 50, expired, "SER1004", 504
        ),
        Series(
            1005,
            "Launch week ₹75 off (limited)",
            "LAUNCH75",
            "ABS",
            75,
            valid,
            "SER1005",
            505,
            max_create=3,
            max_redeem=2,
        ),
        Series(
            1006,
            "Mumbai flagship ₹300 off",
            "MUMBAI300",
            "ABS",
            300,
            valid,
            "SER1006",
            506,
            redeem_at_store_ids=(MUMBAI_STORE.id,),
        ),
        Series(
            1007,
            "Café ₹150 off (shareable, multi-use)",
            "SHARE150",
            "ABS",
            150,
            valid,
            "SER1007",
            507,
            multiple_use=True,
            any_user=True,
        ),
    ]


def _coupons(now: datetime) -> list[Coupon]:
    valid = now.date() + timedelta(days=90)
    issued = (now - timedelta(days=10)).replace(microsecond=0)
    old = (now - timedelta(days=120)).replace(microsecond=0)
    used = (now - timedelta(days=2)).replace(microsecond=0)

    def coupon(cid: int, code: str, series_id: int, customer: Customer) -> Coupon:
        return Coupon(cid, code, series_id, customer.id, issued, valid, SANDBOX_STORE)

    def redeemed(cid: int, code: str, series_id: int, customer: Customer, rid: int) -> Coupon:
        item = coupon(cid, code, series_id, customer)
        bill = f"BILL-{rid}"
        item.redemptions.append(
            Redemption(rid, customer.id, used, SANDBOX_STORE, bill, Decimal("1500.00"))
        )
        return item

    expired = Coupon(
        9000006, "EXPIRED50", 1004, RIYA.id, old, now.date() - timedelta(days=30), SANDBOX_STORE
    )
    validation = coupon(9000004, "VALID20", 1002, RIYA)
    validation.validation_code = VALIDATION_CODE
    return [
        coupon(9000001, "GOOD100", 1001, RIYA),
        redeemed(9000002, "REDEEMED100", 1001, RIYA, 4000001),
        coupon(9000003, "ARJUN100", 1001, ARJUN),
        validation,
        coupon(9000005, "BILL250", 1003, RIYA),
        expired,
        coupon(9000007, "LIMIT75", 1005, RIYA),
        redeemed(9000008, "SOLD75A", 1005, ARJUN, 4000002),
        redeemed(9000009, "SOLD75B", 1005, ARJUN, 4000003),
        coupon(9000010, "STORE300", 1006, RIYA),
        redeemed(9000011, "SHARE150", 1007, RIYA, 4000004),
    ]
