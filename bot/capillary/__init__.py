"""Capillary Coupon V1.1: the client, its typed results and errors, and the code catalogue.

Domain code: nothing here knows about Slack or SQLite.
"""

from bot.capillary.catalogue import Category, Explanation, TransportFailure
from bot.capillary.client import CallObserver, CallRecord, CapillaryClient, auth_from_settings
from bot.capillary.errors import (
    CapillaryError,
    CapillaryItemError,
    CapillaryProtocolError,
    CapillaryRequestError,
    CapillaryTransportError,
)
from bot.capillary.identifiers import (
    CustomerId,
    CustomerKind,
    InvalidInputError,
    parse_coupon_code,
    parse_customer,
    parse_series_id,
)
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

__all__ = [
    "CallObserver",
    "CallRecord",
    "CapillaryClient",
    "CapillaryError",
    "CapillaryItemError",
    "CapillaryProtocolError",
    "CapillaryRequestError",
    "CapillaryTransportError",
    "Category",
    "CouponDetails",
    "CouponLookup",
    "CustomerId",
    "CustomerKind",
    "Explanation",
    "InvalidInputError",
    "IssuedCoupon",
    "MissingCoupon",
    "OutcomeUnknown",
    "Redeemability",
    "RedeemedCoupon",
    "ResentCoupon",
    "Series",
    "TransportFailure",
    "auth_from_settings",
    "parse_coupon_code",
    "parse_customer",
    "parse_series_id",
]
