"""Identifiers an agent types: customers, coupon codes, series ids. Parsing, validation, masking.

Capillary accepts any one identifier per call (``mobile``, ``email``, ``external_id``,
``id``, ``card_number``). An agent types one token; :func:`parse_customer` maps it by the
grammar in DESIGN.md:

- ``+919876543210`` or bare digits → mobile
- anything with ``@`` → email
- ``ext:<id>`` → external_id, ``id:<n>`` → Capillary customer id, ``card:<no>`` → card_number

The raw value never leaves this module in display form: use :meth:`CustomerId.masked`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "NATIONAL_DIGITS",
    "CustomerId",
    "CustomerKind",
    "InvalidInputError",
    "coupon_code",
    "looks_like_customer",
    "mask_customer",
    "mask_text",
    "parse_coupon_code",
    "parse_customer",
    "parse_series_id",
    "scrub",
]


class CustomerKind(StrEnum):
    """The identifier kinds Capillary's v1.1 coupon endpoints accept (their query/body keys)."""

    MOBILE = "mobile"
    EMAIL = "email"
    EXTERNAL_ID = "external_id"
    ID = "id"
    CARD_NUMBER = "card_number"


class InvalidInputError(ValueError):
    """The text is not a valid identifier; the message says why, in words for an agent."""


_PREFIXES = {
    "ext:": CustomerKind.EXTERNAL_ID,
    "id:": CustomerKind.ID,
    "card:": CustomerKind.CARD_NUMBER,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOKEN = re.compile(r"^[A-Za-z0-9._\-/]+$")
_MOBILE_DIGITS = (8, 15)  # E.164 allows at most 15 digits including the country code
_MAX_TOKEN = 64
_MASK = "••••"
#: A mobile number's national part: agents type it with or without the country code
#: (Capillary matches either way), so only these last digits tell two customers apart.
NATIONAL_DIGITS = 10


@dataclass(frozen=True, slots=True)
class CustomerId:
    """One validated customer identifier. ``value`` is normalised (mobile: digits only)."""

    kind: CustomerKind
    value: str

    def __post_init__(self) -> None:
        _VALIDATORS[self.kind](self.value)

    @property
    def key(self) -> str:
        """What tells two customers apart: a mobile's last :data:`NATIONAL_DIGITS` digits
        (``+919876543210`` and ``9876543210`` are one customer), else the value."""
        return self.value[-NATIONAL_DIGITS:] if self.kind is CustomerKind.MOBILE else self.value

    def as_params(self) -> dict[str, str]:
        """The query parameters / body ``customer`` object Capillary expects."""
        return {self.kind.value: self.value}

    def masked(self) -> str:
        """The identifier as shown to people: ``••••3210``, ``r•••@example.com``, and the
        other kinds named, so none reads as a mobile: ``ext ••••5001``, ``card ••••5001``,
        ``customer id ••••2653``."""
        return mask_customer(self.kind.value, self.value)

    def __str__(self) -> str:
        return f"{self.kind.value} {mask_text(self.value)}"

    def __repr__(self) -> str:  # never the raw value, even in a traceback or debug log
        return f"CustomerId({self.kind.value}, {mask_text(self.value)!r})"


# How a masked identifier names its kind; mobiles and emails are recognisable as they are.
_LABELS: dict[str, str] = {
    CustomerKind.EXTERNAL_ID.value: "ext",
    CustomerKind.CARD_NUMBER.value: "card",
    CustomerKind.ID.value: "customer id",
}


def mask_customer(kind: str | None, value: str) -> str:
    """A stored identifier as :meth:`CustomerId.masked` shows it, from its kind's name (an
    audit row's ``customer_kind``); an unknown kind is just masked."""
    label = _LABELS.get(kind or "")
    return f"{label} {mask_text(value)}" if label else mask_text(value)


def parse_customer(text: str) -> CustomerId:
    """Parse one identifier as an agent types it; raises :class:`InvalidInputError`."""
    token = text.strip()
    if not token:
        raise InvalidInputError(
            "A customer is needed: a mobile number, an email, or ext:/id:/card:."
        )
    _refuse_masked(token)
    for prefix, kind in _PREFIXES.items():
        if token.lower().startswith(prefix):
            value = token[len(prefix) :].strip()
            if kind is CustomerKind.ID and value.isascii() and value.isdigit():
                value = value.lstrip("0") or "0"  # a number: 0098662653 is 98662653
            return CustomerId(kind, value)
    if "@" in token:
        return CustomerId(CustomerKind.EMAIL, token.lower())
    digits = token.removeprefix("+").replace("-", "").replace(" ", "")
    if digits.isdigit():
        return CustomerId(CustomerKind.MOBILE, digits)
    raise InvalidInputError(
        f"“{_shorten(token)}” is not a customer: use a mobile number (+919876543210), "
        "an email, or ext:<external id>, id:<customer id>, card:<card number>."
    )


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_mobile(value: str) -> None:
    low, high = _MOBILE_DIGITS
    if not (value.isascii() and value.isdigit() and low <= len(value) <= high):
        raise InvalidInputError(
            f"A mobile number has {low}–{high} digits with the country code, like +919876543210."
        )


def _check_email(value: str) -> None:
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInputError("That email address doesn't look complete, like name@example.com.")


def _check_token(value: str) -> None:
    if not value or len(value) > _MAX_TOKEN or not _TOKEN.match(value):
        raise InvalidInputError(
            f"An external id or card number is 1–{_MAX_TOKEN} letters, digits or . _ - /"
        )


def _check_id(value: str) -> None:
    if not (value.isascii() and value.isdigit() and 0 < len(value) <= 19 and int(value) > 0):
        raise InvalidInputError("A Capillary customer id is a positive number, like id:98662653.")


_VALIDATORS = {
    CustomerKind.MOBILE: _check_mobile,
    CustomerKind.EMAIL: _check_email,
    CustomerKind.EXTERNAL_ID: _check_token,
    CustomerKind.ID: _check_id,
    CustomerKind.CARD_NUMBER: _check_token,
}


_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


def parse_coupon_code(text: str) -> str:
    """A coupon code as an agent types it: 1–40 letters, digits, ``-`` or ``_``; Capillary
    ignores case. Digits only, as many as a mobile number has, are refused: such a code is
    shown and audited as it is, and it is far more likely a customer's number typed first.
    ``code:`` before it says it really is a code (vouchers can be numbers)."""
    code = text.strip()
    _refuse_masked(code)
    if code[:5].lower() == _CODE_PREFIX:
        return coupon_code(code[5:])
    if _looks_like_mobile(code):
        raise InvalidInputError(
            f"“{mask_text(code)}” looks like a mobile number, not a coupon code (numbers that "
            "long are never shown, to keep customers' numbers out of the channel). The code "
            "comes first, then the customer: GOOD100 +919876543210. If it really is a coupon "
            "code, type code: before it, with no space (code:12345678)."
        )
    return coupon_code(code)


def coupon_code(text: str) -> str:
    """A coupon code's form (1–40 letters, digits, ``-`` or ``_``), upper-cased."""
    code = text.strip()
    if not _CODE.match(code):
        raise InvalidInputError(
            f"“{_shorten(code)}” is not a coupon code: codes are letters and digits, like GOOD100."
        )
    return code.upper()


_CODE_PREFIX = "code:"


def parse_series_id(text: str) -> str:
    """A coupon series id: a positive number, without leading zeros (``01001`` is 1001)."""
    series = text.strip()
    if not (series.isascii() and series.isdigit() and len(series) <= 18 and int(series) > 0):
        raise InvalidInputError(
            f"“{_shorten(series)}” is not a series id: series ids are numbers, like 1001."
        )
    return str(int(series))


def _looks_like_mobile(token: str) -> bool:
    digits = token.removeprefix("+")
    return digits.isascii() and digits.isdigit() and len(digits) >= _MOBILE_DIGITS[0]


def _refuse_masked(token: str) -> None:
    """A value copied from one of the bot's own masked displays (``••••3210``)."""
    if "•" in token:
        raise InvalidInputError(
            "That is a masked value, as the bot shows customers (••••3210, r•••@example.com): "
            "type the customer's full mobile number or email, or the coupon code itself."
        )


def mask_text(value: str) -> str:
    """Mask a raw identifier Capillary echoed back (mobile, email, external id) for display."""
    text = value.strip()
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}•••@{domain}"
    return _MASK + text[-4:] if len(text) > 4 else _MASK


# An email, or a run of digits that may be split by dashes, dots or single spaces
# ("+91 98765 43210", "98765-43210").
_EMBEDDED = re.compile(
    r"[^\s@\"'<>()]+@[^\s@\"'<>()]+\.[A-Za-z]{2,}|\+?\d(?:[\d\-.]|\s(?=\d)){6,}\d"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}")
# Fewer digits than this is an amount or a count, not a phone number (more are needed when
# the digits are split by spaces: "bill 1450 500" is two numbers).
_PHONE_DIGITS, _SPACED_PHONE_DIGITS = 7, 8


def scrub(text: str) -> str:
    """Free text from elsewhere (Capillary's messages, an approver's note) with any email or
    phone-like number masked, so an identifier it happens to repeat is never shown or
    exported. Dates and short numbers (amounts) stay as they are."""
    return _EMBEDDED.sub(_mask_found, text)


def _mask_found(found: re.Match[str]) -> str:
    text = found.group(0)
    if "@" in text:
        return mask_text(text)
    digits = "".join(ch for ch in text if ch.isdigit())
    needed = _SPACED_PHONE_DIGITS if any(ch.isspace() for ch in text) else _PHONE_DIGITS
    if _DATE.fullmatch(text) or len(digits) < needed:
        return text
    return mask_text(digits)


_CUSTOMER_SHAPE = re.compile(
    r"^(\+\d.*|\d[\d\-]{6,}|[^@<\s]+@[^@\s]+|(ext|id|card):.+)$", re.IGNORECASE
)


def looks_like_customer(token: str) -> bool:
    """Whether a typed word is meant as a customer (a phone, an email, ext:/id:/card:),
    whether or not it is a valid one: such words are parsed as customers, and masked."""
    return bool(_CUSTOMER_SHAPE.match(token))
