"""Capillary's coupon codes, as sentences a support agent can act on.

Capillary answers in two levels (see capillary-v1.1.md): a request-level ``status.code``
(200, 201, 500, 401, …) and a per-coupon ``item_status.code`` (700 success, 7xx errors).
When nothing comes back at all, the failure is on the transport. Each of the three has
its own table here, as data:

- :data:`ITEM_CODES` — every item error code on Capillary's code page, plus 629, 660, 683
  and 696 from the wider docs.
- :data:`REQUEST_CODES` — the request-level codes other than 200.
- :data:`TRANSPORT` — one entry per :class:`TransportFailure`.

An :class:`Entry` holds *our* wording (never Capillary's), one next step and whether
trying again later can help. :func:`explain_item`, :func:`explain_request` and
:func:`explain_transport` turn a code into an :class:`Explanation` that also keeps
Capillary's own message verbatim for escalation; a code missing from the tables still
gets a useful :class:`Explanation` with ``known=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from bot.capillary.identifiers import scrub

__all__ = [
    "ITEM_CODES",
    "LOOKUP_MISS",
    "REQUEST_CODES",
    "TRANSPORT",
    "Category",
    "Entry",
    "Explanation",
    "TransportFailure",
    "explain_item",
    "explain_lookup_miss",
    "explain_request",
    "explain_transport",
    "is_retryable_item_code",
    "is_retryable_request_code",
]


class Category(StrEnum):
    """What kind of problem a code points at; decides how the bot frames it."""

    CUSTOMER = "customer"
    COUPON = "coupon"
    REDEMPTION_RULE = "redemption_rule"
    LIMIT = "limit"
    BLOCKED = "blocked"
    TRANSIENT = "transient"
    CONFIGURATION = "configuration"
    UNKNOWN = "unknown"


class TransportFailure(StrEnum):
    """Failures where Capillary gave no usable answer."""

    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection_refused"
    MALFORMED_BODY = "malformed_body"
    # Capillary documents no 429, but gateways (and our sandbox) send one.
    RATE_LIMITED = "rate_limited"
    # Not sent: Capillary failed repeatedly just before (bot.capillary.breaker).
    CIRCUIT_OPEN = "circuit_open"


@dataclass(frozen=True, slots=True)
class Entry:
    """Our wording for one code: the answer, one next step, and whether waiting helps."""

    category: Category
    sentence: str
    next_step: str
    retry_later_helps: bool = False


@dataclass(frozen=True, slots=True)
class Explanation:
    """A code explained for an agent, with Capillary's own text kept for escalation."""

    source: Literal["item", "request", "transport"]
    code: str
    category: Category
    sentence: str
    next_step: str
    retry_later_helps: bool
    capillary_message: str | None
    known: bool


_ISSUE_OTHER = (
    "Offer the customer a coupon from an active series (/coupon issue <series> <customer>)."
)
_ESCALATE = "Escalate to Capillary support, quoting the code and the request id."
_TELL_ADMIN = "Tell the bot admin; this is a setup problem, not something the customer did."
_WAIT_A_MINUTE = "Wait a minute and try again."

_TRY_LATER = Entry(
    Category.TRANSIENT, "Capillary is busy and couldn't process this coupon.", _WAIT_A_MINUTE, True
)
_TOO_MANY_REQUESTS = Entry(
    Category.TRANSIENT, "Capillary is getting too many requests right now.", _WAIT_A_MINUTE, True
)
_BROKEN_SETUP = Entry(
    Category.CONFIGURATION,
    "Capillary's setup for this coupon is broken on their side.",
    "Report it to Capillary support, quoting the code and the request id.",
)
_FRAUD = Entry(
    Category.BLOCKED,
    "This customer is flagged for fraud, so their coupons can't be used.",
    "Don't work around this; pass the case to your team lead.",
)

ITEM_CODES: Mapping[int, Entry] = MappingProxyType(
    {
        629: Entry(
            Category.CONFIGURATION,
            "The bot asked about too many coupons at once.",
            "Try again with fewer coupons (at most 100 in one command).",
        ),
        660: Entry(Category.COUPON, "This coupon has been cancelled.", _ISSUE_OTHER),
        683: Entry(
            Category.UNKNOWN,
            "The redemption may have gone through, but a follow-up step at Capillary failed.",
            "Check with /coupon get <code> whether it shows as redeemed before trying again.",
        ),
        696: Entry(
            Category.LIMIT,
            "This coupon code has already been redeemed as many times as it allows.",
            _ISSUE_OTHER,
        ),
        701: Entry(
            Category.CUSTOMER,
            "We couldn't find this customer in Capillary.",
            "Ask the customer for the mobile number on their loyalty account and try again.",
        ),
        702: Entry(
            Category.COUPON,
            "That isn't a valid coupon code.",
            "Check the code with the customer character by character and try again.",
        ),
        703: Entry(
            Category.CUSTOMER,
            "This coupon was given to a different customer.",
            "Ask the customer for the mobile number the coupon was sent to and try again.",
        ),
        704: Entry(
            Category.CUSTOMER,
            "The text message with the coupon couldn't be delivered to the customer's phone.",
            "Read the code out to the customer instead (/coupon get <code>).",
        ),
        705: Entry(
            Category.REDEMPTION_RULE,
            "The coupon code and validation code don't match.",
            "Ask the customer for the validation code that came with this coupon and try again.",
        ),
        706: Entry(
            Category.COUPON,
            "Capillary says this coupon can't be redeemed, without saying why.",
            "Run /coupon get <code> to see its dates and status.",
        ),
        707: Entry(
            Category.COUPON,
            "There is no coupon series with that number.",
            "Check the series number with your team lead, then try again.",
        ),
        709: Entry(
            Category.COUPON,
            "Capillary couldn't complete the redemption.",
            "Run /coupon get <code> to see whether it was redeemed before trying again.",
        ),
        710: Entry(
            Category.CUSTOMER,
            "This customer isn't allowed to redeem this coupon.",
            "Check you have the right customer: only the one it was issued to can use it.",
        ),
        711: Entry(
            Category.COUPON,
            "This coupon has already been used.",
            "Run /coupon get <code> to see when and where it was redeemed.",
        ),
        712: Entry(Category.COUPON, "The campaign behind this coupon has ended.", _ISSUE_OTHER),
        713: Entry(Category.COUPON, "This coupon has expired.", _ISSUE_OTHER),
        714: Entry(
            Category.LIMIT,
            "This campaign has run out of redemptions.",
            _ISSUE_OTHER,
        ),
        715: Entry(
            Category.COUPON,
            "This coupon belongs to another brand, not ours.",
            "Check with the customer where the coupon came from.",
        ),
        716: Entry(
            Category.COUPON,
            "This coupon can only be redeemed once.",
            "Run /coupon get <code> to see when it was redeemed.",
        ),
        718: Entry(
            Category.REDEMPTION_RULE,
            "A bill number is needed to redeem this coupon.",
            "Add the bill number from the receipt (txn=<bill no>) and try again.",
        ),
        719: Entry(
            Category.COUPON,
            "No coupon with this code exists.",
            "Check the code with the customer for look-alikes (0 and O, 1 and I) and try again.",
        ),
        720: Entry(
            Category.COUPON, "This is a test coupon, so it can't be redeemed.", _ISSUE_OTHER
        ),
        721: Entry(
            Category.CUSTOMER,
            "This customer's account can't receive or use coupons.",
            "Ask the customer for the mobile number on their loyalty account and try again.",
        ),
        722: Entry(
            Category.COUPON,
            "Capillary couldn't issue a coupon from this series.",
            "Check with /coupon series <series_id> that the series is active and has coupons left.",
        ),
        723: Entry(
            Category.CUSTOMER,
            "This customer isn't eligible for this coupon.",
            _ISSUE_OTHER,
        ),
        724: Entry(
            Category.CUSTOMER,
            "The message to the customer couldn't be sent.",
            "Read the code out to the customer instead (/coupon get <code>).",
        ),
        725: Entry(
            Category.REDEMPTION_RULE,
            "This coupon needs a validation code to be redeemed.",
            "Ask the customer for the validation code and add it (validation=<code>).",
        ),
        726: Entry(
            Category.REDEMPTION_RULE,
            "This coupon doesn't need a validation code.",
            "Try again without the validation code.",
        ),
        728: Entry(
            Category.LIMIT,
            "This coupon series has reached its maximum number of redemptions.",
            _ISSUE_OTHER,
        ),
        729: Entry(
            Category.REDEMPTION_RULE,
            "This coupon series can't be redeemed on this date.",
            "Run /coupon get <code> to see its valid dates and tell the customer.",
        ),
        730: Entry(
            Category.UNKNOWN,
            "Capillary hit an unexpected problem and didn't say what.",
            _ESCALATE,
        ),
        732: Entry(
            Category.REDEMPTION_RULE,
            "This coupon needs a missed call from the customer first, and none has arrived.",
            "Ask the customer to give the missed call from their coupon message, then try again.",
        ),
        733: Entry(
            Category.REDEMPTION_RULE,
            "Capillary didn't accept the bill amount.",
            "Check the amount on the receipt (numbers only, amount=<bill amount>) and the "
            "series' minimum bill (/coupon series shows it), then try again.",
        ),
        735: Entry(
            Category.REDEMPTION_RULE,
            "This coupon can't be redeemed at this store.",
            "Tell the customer to use it at a store where the offer runs.",
        ),
        736: Entry(
            Category.LIMIT,
            "The customer has used up all the redemptions they're allowed for this coupon.",
            _ISSUE_OTHER,
        ),
        738: Entry(
            Category.LIMIT,
            "The customer has to wait before redeeming this coupon again.",
            "Tell the customer when they can use it again.",
        ),
        739: Entry(
            Category.REDEMPTION_RULE,
            "The redemption date isn't valid for this coupon.",
            "Check the date is not in the future and falls within the coupon's dates.",
        ),
        740: _FRAUD,
        742: Entry(
            Category.BLOCKED,
            "Coupons are blocked for this customer.",
            "Pass the case to your team lead; only they can ask for the block to be reviewed.",
        ),
        750: _FRAUD,
        **dict.fromkeys((786, 787, *range(789, 795), 796, 797, 798), _TRY_LATER),
        **dict.fromkeys((788, 795, 799), _BROKEN_SETUP),
    }
)

# Codes whose Capillary message carries a detail our sentence lacks (738: the days to wait).
_QUOTE_CAPILLARY = frozenset({738})

REQUEST_CODES: Mapping[int, Entry] = MappingProxyType(
    {
        201: Entry(
            Category.COUPON,
            "Capillary handled only some of the coupons in this request.",
            "Look at each coupon's result to see which ones failed and why.",
        ),
        400: Entry(
            Category.UNKNOWN,
            "Capillary didn't accept the details in this request.",
            "Check the coupon code, customer and bill details for typos, then try again.",
        ),
        401: Entry(Category.CONFIGURATION, "Capillary didn't accept the bot's login.", _TELL_ADMIN),
        402: Entry(
            Category.CONFIGURATION,
            "Capillary doesn't support this kind of request in the version the bot uses.",
            _TELL_ADMIN,
        ),
        403: Entry(
            Category.CONFIGURATION,
            "Capillary didn't let the bot's account do this.",
            _TELL_ADMIN,
        ),
        404: Entry(
            Category.CONFIGURATION,
            "Capillary didn't recognise the address the bot called.",
            _TELL_ADMIN,
        ),
        405: Entry(
            Category.CONFIGURATION,
            "Capillary didn't accept the way the bot made this request.",
            _TELL_ADMIN,
        ),
        406: Entry(
            Category.CONFIGURATION,
            "Capillary doesn't allow this action for our account.",
            _TELL_ADMIN,
        ),
        407: Entry(
            Category.UNKNOWN, "Capillary hit an unknown problem with this request.", _ESCALATE
        ),
        408: Entry(
            Category.CONFIGURATION,
            "Capillary didn't recognise the machine the bot is calling from.",
            _TELL_ADMIN,
        ),
        415: Entry(
            Category.CONFIGURATION,
            "Capillary couldn't read the format of the bot's request.",
            _TELL_ADMIN,
        ),
        429: _TOO_MANY_REQUESTS,
        461: Entry(
            Category.TRANSIENT, "Capillary's search is busy right now.", _WAIT_A_MINUTE, True
        ),
        500: Entry(  # "all items failed": with no item to say why, often Capillary's own fault
            Category.UNKNOWN,
            "Capillary failed this request without saying why.",
            "Try again in a minute; if it fails again, escalate to Capillary support, quoting "
            "the code and the request id.",
        ),
        503: Entry(
            Category.TRANSIENT,
            "Capillary couldn't check the bot's access just now.",
            _WAIT_A_MINUTE,
            True,
        ),
        521: Entry(
            Category.TRANSIENT,
            "Someone else is changing this customer's coupons at the same moment.",
            "Wait a few seconds and try again.",
            True,
        ),
    }
)

TRANSPORT: Mapping[TransportFailure, Entry] = MappingProxyType(
    {
        TransportFailure.TIMEOUT: Entry(
            Category.TRANSIENT,
            "Capillary didn't answer in time.",
            _WAIT_A_MINUTE,
            True,
        ),
        TransportFailure.CONNECTION_REFUSED: Entry(
            Category.TRANSIENT,
            "Capillary isn't answering right now. Nothing was changed.",
            _WAIT_A_MINUTE,
            True,
        ),
        TransportFailure.MALFORMED_BODY: Entry(
            Category.UNKNOWN,
            "Capillary sent back an answer the bot couldn't read.",
            "Check with /coupon get <code> whether anything changed, then tell the bot admin.",
        ),
        TransportFailure.RATE_LIMITED: _TOO_MANY_REQUESTS,
        TransportFailure.CIRCUIT_OPEN: Entry(
            Category.TRANSIENT,
            "Capillary isn't answering right now, so the bot didn't ask it. Nothing was changed.",
            "Try again in a minute; lookups will work as soon as Capillary is back.",
            True,
        ),
    }
)


def explain_item(code: int, capillary_message: str | None = None) -> Explanation:
    """Explain a per-coupon code (``item_status.code``)."""
    entry = ITEM_CODES.get(code)
    if entry is None:
        return _unknown("item", code, capillary_message)
    sentence = entry.sentence
    if code in _QUOTE_CAPILLARY and capillary_message:  # shown: an identifier in it masked
        sentence = f"{sentence} Capillary says: \u201c{scrub(capillary_message)}\u201d."
    return _explanation("item", str(code), entry, capillary_message, sentence)


#: What ``coupon/get`` answers for a code it doesn't have (an item with ``id: -1``).
LOOKUP_MISS = 705


def explain_lookup_miss(code: int | None, capillary_message: str | None = None) -> Explanation:
    """Why ``coupon/get`` found nothing for a code. Capillary says 705 ("both coupon code and
    validation code are invalid") for an unknown code, though a lookup sends no validation
    code: that is 719's meaning, "no coupon with this code", kept under Capillary's code."""
    if code is not None and code != LOOKUP_MISS:
        return explain_item(code, capillary_message)
    return replace(explain_item(719, capillary_message), code=str(LOOKUP_MISS))


def explain_request(code: int, capillary_message: str | None = None) -> Explanation:
    """Explain a request-level code (``status.code``)."""
    entry = REQUEST_CODES.get(code)
    if entry is None:
        return _unknown("request", code, capillary_message)
    return _explanation("request", str(code), entry, capillary_message, entry.sentence)


def explain_transport(failure: TransportFailure, detail: str | None = None) -> Explanation:
    """Explain a failure where Capillary gave no usable answer; ``detail`` is kept verbatim."""
    entry = TRANSPORT[failure]
    return _explanation("transport", failure.value, entry, detail, entry.sentence)


def is_retryable_item_code(code: int) -> bool:
    """True when trying the same coupon again later may succeed."""
    entry = ITEM_CODES.get(code)
    return entry is not None and entry.retry_later_helps


def is_retryable_request_code(code: int) -> bool:
    """True when sending the same request again later may succeed."""
    entry = REQUEST_CODES.get(code)
    return entry is not None and entry.retry_later_helps


def _explanation(
    source: Literal["item", "request", "transport"],
    code: str,
    entry: Entry,
    message: str | None,
    sentence: str,
) -> Explanation:
    return Explanation(
        source=source,
        code=code,
        category=entry.category,
        sentence=sentence,
        next_step=entry.next_step,
        retry_later_helps=entry.retry_later_helps,
        capillary_message=message,
        known=True,
    )


def _unknown(source: Literal["item", "request"], code: int, message: str | None) -> Explanation:
    if message:  # shown: an identifier in it masked
        sentence = f"Capillary refused this with code {code}: \u201c{scrub(message)}\u201d."
    else:
        sentence = f"Capillary refused this with code {code} and gave no reason."
    return Explanation(
        source=source,
        code=str(code),
        category=Category.UNKNOWN,
        sentence=sentence,
        next_step=_ESCALATE,
        retry_later_helps=False,
        capillary_message=message,
        known=False,
    )
