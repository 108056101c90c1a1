"""Capillary item-level (7xx) codes and their messages, as the sandbox reports them.

This is the sandbox's own copy of the catalogue: it must not share code with the client.
"""

from __future__ import annotations

SUCCESS = 700

CUSTOMER_NOT_FOUND = 701
INVALID_CODE = 702
NOT_ISSUED = 703
INVALID_VALIDATION_CODE = 705
INVALID_SERIES = 707
ALREADY_REDEEMED = 711
SERIES_EXPIRED = 712
COUPON_EXPIRED = 713
SERIES_MAX_REDEMPTIONS = 714
SAME_COUPON_MULTIPLE_TIMES = 716
TRANSACTION_NUMBER_REQUIRED = 718
UNABLE_TO_ISSUE = 722
VALIDATION_CODE_REQUIRED = 725
INVALID_AMOUNT = 733
WRONG_STORE = 735
CUSTOMER_FRAUD = 740
CUSTOMER_BLOCKED = 742
TRY_AGAIN_LATER = 791

_TRY_LATER = "Unable to process coupon. Please try again later"
_BAD_CONFIG = "Configuration is invalid. Please report to Capillary Support"

MESSAGES: dict[int, str] = {
    701: "Unable to find the customer. Please enter correct mobile number/email id/external id",
    702: "Coupon code is invalid",
    703: "Coupon not issued to this customer",
    704: "Unable to send coupon to the customer's mobile number",
    705: "Invalid coupon code and validation code",
    706: "Unable to redeem coupon",
    707: "Coupon series id is invalid",
    709: "Unable to redeem coupon",
    710: "Coupon cannot be redeemed by this customer",
    711: "Coupon is redeemed already",
    712: "Unable to redeem. Either coupon series or campaign might have expired",
    713: "Coupon has expired",
    714: "Unable to redeem. Maximum redemptions allowed for this campaign are already reached",
    715: "Unable to redeem. The coupon is not valid for this organization",
    716: "Unable to redeem. Cannot redeem same coupon multiple times",
    718: "Unable to redeem. Please enter transaction number must be entered to redeem",
    719: "Coupon code does not exist",
    720: "Unable to redeem. This is just a trial coupon and cannot be redeemed",
    721: "Unable to issue/redeem coupon. Customer is invalid",
    722: "Unable to issue coupon",
    723: "Unable to redeem. The coupon cannot be used by this customer",
    724: "Unable to send message",
    725: "Unable to redeem coupon. Please provide validation code to redeem",
    726: "Validation not required",
    728: "Unable to redeem. Maximum number of coupon redemptions allowed has already been reached",
    729: "Invalid redemption date range for the coupon series",
    730: "Unknown error",
    732: "No Missed call received from the customer",
    733: "Transaction amount invalid",
    735: "Unable to redeem coupon. The coupon cannot be redeemed at this store",
    736: "Unable to redeem coupon. Maximum number of coupon redemptions allowed has already "
    "been reached",
    739: "Unable to redeem. Make sure that the redemption date you have entered is valid",
    740: "Unable to process. Customer is marked as fraud",
    742: "Coupon issual or redemption is blocked for this customer",
    750: "Unable to process. Customer is marked as fraud",
    786: _TRY_LATER,
    787: _TRY_LATER,
    788: _BAD_CONFIG,
    789: _TRY_LATER,
    790: _TRY_LATER,
    791: _TRY_LATER,
    792: _TRY_LATER,
    793: _TRY_LATER,
    794: _TRY_LATER,
    795: _BAD_CONFIG,
    796: _TRY_LATER,
    797: _TRY_LATER,
    798: _TRY_LATER,
    799: _BAD_CONFIG,
}


def message_for(code: int) -> str:
    """Return Capillary's message for an item code (a generic text for unknown codes)."""
    return MESSAGES.get(code, "Unable to process coupon")
