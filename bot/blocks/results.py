"""Block Kit for what goes in the channel: the parent line, and each outcome in its thread.

Pure functions from domain data to :class:`SlackMessage`. Customer identifiers only ever
appear masked. Every result names what it is about (coupon code or series id) so that a
thread read on its own makes sense.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.blockkit import md, small
from bot.blocks.format import (
    day,
    discount,
    escape,
    is_not_absolute,
    is_percent,
    local_time,
    lower_first,
    mention,
    moment,
    money,
    short_id,
    truncate,
)
from bot.blocks.messages import (
    ASK_BEFORE_RESENDING,
    BUSY_CAPILLARY,
    MAYBE_RESENT,
    STATUS_EMOJI,
    ParentStatus,
)
from bot.capillary.catalogue import (
    Category,
    Explanation,
    TransportFailure,
    explain_lookup_miss,
)
from bot.capillary.identifiers import (
    CustomerKind,
    InvalidInputError,
    looks_like_customer,
    mask_customer,
    mask_text,
    parse_customer,
    scrub,
)
from bot.capillary.models import CouponDetails, MissingCoupon, Redeemability, Series
from bot.commands import Check, Command, Get, Issue, LogQuery, Redeem, Resend, SeriesInfo
from bot.grammar import join_phone_groups
from bot.logquery import mentioned_user
from bot.service import (
    Checked,
    Failed,
    Issued,
    Known,
    Looked,
    Outcome,
    Redeemed,
    Resent,
    SeriesFound,
    Unknown,
    is_transient,
)

__all__ = [
    "SlackMessage",
    "busy_text",
    "check_value",
    "describe",
    "parent_message",
    "redemptions_left",
    "result_message",
    "status_key",
]

_MAX_COUPONS_SHOWN = 20  # keeps a 100-code lookup under Slack's 50 blocks per message


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """``text`` (notification fallback) and blocks, ready for chat.postMessage / update."""

    text: str
    blocks: tuple[Block, ...] = ()

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [block.to_dict() for block in self.blocks]}


def describe(command: Command, currency: str = "₹") -> str:
    """One line naming a command: ``redeem GOOD200 for ••••3210 · bill B-1182 ₹1,450``."""
    match command:
        case Get(codes=codes, customer=customer):
            shown = ", ".join(codes[:5]) + (f" +{len(codes) - 5} more" if len(codes) > 5 else "")
            return f"get {shown}" + (f" for {customer.masked()}" if customer else "")
        case SeriesInfo(series_id=series_id):
            return f"series {series_id}"
        case Check() | Resend():
            return f"{command.verb.value} {command.code} for {command.customer.masked()}"
        case Issue(series_id=series_id, customer=customer):
            return f"issue from series {series_id} to {customer.masked()}"
        case Redeem():
            return f"redeem {command.code} for {command.customer.masked()}" + _bill(
                command, currency
            )
        case LogQuery(text=text) if text:
            return f"log {_typed_words(text, 200)}"
    return command.verb.value


def _typed_words(text: str, limit: int) -> str:
    """Free text a user typed (``log +91 98765 43210``) as mrkdwn: a customer identifier
    masked (its digit groups joined first), a user mention kept, everything else escaped;
    whole words up to about ``limit`` characters (cut after masking, never inside a word)."""
    shown: list[str] = []
    for word in map(_typed, join_phone_groups(text.split())):
        if sum(len(w) + 1 for w in shown) + len(word) > limit:
            shown.append("…")
            break
        shown.append(word)
    return " ".join(shown)


def _typed(word: str) -> str:
    user = mentioned_user(word)
    if user:
        return mention(user)
    if "=" in word or not looks_like_customer(word):  # an option (since=…) is no customer
        return escape(word)
    try:
        return escape(parse_customer(word).masked())
    except InvalidInputError:
        return escape(mask_text(word))


def _bill(command: Redeem, currency: str) -> str:
    parts = [f"bill {command.bill_number}" if command.bill_number else ""]
    if command.bill_amount is not None:
        parts.append(money(command.bill_amount, currency))
    text = " ".join(p for p in parts if p)
    return f" · {text}" if text else ""


def status_key(outcome: Outcome) -> ParentStatus:
    """The parent's status for how a command ended (Capillary down gets its own)."""
    if is_transient(outcome):
        return ParentStatus.TRANSIENT
    return ParentStatus(outcome.status.value)


def parent_message(
    actor_id: str, command: Command, status: ParentStatus, currency: str = "₹"
) -> SlackMessage:
    """The channel line every command gets: who, what, masked customer, status emoji."""
    line = f"🎟️ {mention(actor_id)} · {describe(command, currency)} · {STATUS_EMOJI[status]}"
    return SlackMessage(text=line, blocks=(md(line),))


def result_message(outcome: Outcome, currency: str = "₹") -> SlackMessage:
    """The thread reply for an outcome."""
    match outcome:
        case Looked():
            return _looked(outcome, currency)
        case SeriesFound(series=series):
            return _series(series, currency)
        case Checked():
            return _checked(outcome, currency)
        case Resent(command=command):
            text = f"📨 {command.code} was sent to {command.customer.masked()} again."
            return SlackMessage(text, (md(text), _request(None, outcome.result.request_id)))
        case Issued():
            return _issued(outcome, currency)
        case Redeemed():
            return _redeemed(outcome, currency)
        case Failed():
            return _failed(outcome)
        case Unknown():
            return _unknown(outcome)


_NOT_REACHED = "No request id: Capillary was not reached."
_NO_ANSWER = "No request id: Capillary's answer never arrived."


def _request(
    code: str | None,
    request_id: str | None,
    said: str | None = None,
    *,
    without: str = _NOT_REACHED,
) -> ContextBlock:
    """The small print for escalation: Capillary's code, request id and own words;
    ``without`` is said when there are none."""
    parts = [f"Capillary code {code}"] if code else []
    if request_id:
        parts.append(f"request id {short_id(request_id)}")
    if said:
        parts.append(f"Capillary said “{escape(truncate(scrub(said), 200))}”")
    return small(" · ".join(parts) or without)


def _coupon_value(coupon: CouponDetails, currency: str) -> str:
    return discount(coupon.value, percent=is_not_absolute(coupon.is_absolute), currency=currency)


def _validity(valid_till: date | None, as_of: date | None) -> str:
    """``24 Feb 2027``, with ``· expired`` once that day is over in every time zone: the
    org's zone isn't known, and a coupon still valid there must not be called expired."""
    shown = day(valid_till)
    if valid_till is None or as_of is None or valid_till >= as_of - timedelta(days=1):
        return shown
    return f"{shown} · expired"


def _coupon_fields(coupon: CouponDetails, as_of: date | None) -> list[MarkdownTextObject]:
    owner = coupon.customer
    who = "—"
    if owner and (owner.mobile or owner.email):
        who = mask_text(owner.mobile or owner.email or "")
    elif owner and owner.external_id:
        who = mask_customer(CustomerKind.EXTERNAL_ID.value, owner.external_id)
    store = coupon.issued_store.name if coupon.issued_store and coupon.issued_store.name else "—"
    pairs = [
        ("Valid till", _validity(coupon.valid_till, as_of)),
        ("Issued", f"{moment(coupon.issued_on)} at {store} to {who}"),
        ("Redeemed", _redemption_text(coupon)),
    ]
    return [
        MarkdownTextObject(text=f"*{label}*\n{truncate(value, 1900)}") for label, value in pairs
    ]


def _redemption_text(coupon: CouponDetails) -> str:
    redemption = coupon.redemption
    if redemption is None:
        return "Not redeemed yet"
    where = (
        redemption.store.name
        if redemption.store and redemption.store.name
        else redemption.redeemed_at
    )
    bill = f", bill {redemption.bill_number}" if redemption.bill_number else ""
    return f"Yes, {moment(redemption.redeemed_on)}" + (f" at {where}" if where else "") + bill


def _missing_line(missing: MissingCoupon) -> str:
    return f"• *{missing.code}*: {missing.explanation.sentence}"


def _looked(outcome: Looked, currency: str) -> SlackMessage:
    blocks: list[Block] = []
    for coupon in outcome.coupons[:_MAX_COUPONS_SHOWN]:
        value = _coupon_value(coupon, currency)
        headline = f"*{coupon.code}* — {value} · series {coupon.series_id or '—'}"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=headline),
                fields=_coupon_fields(coupon, outcome.as_of),
            )
        )
    hidden = len(outcome.coupons) - _MAX_COUPONS_SHOWN
    if hidden > 0:
        blocks.append(small(f"…and {hidden} more. Look them up in smaller groups to see all."))
    if outcome.missing:
        lines = "\n".join(_missing_line(m) for m in outcome.missing[:_MAX_COUPONS_SHOWN])
        unlisted = len(outcome.missing) - _MAX_COUPONS_SHOWN
        if unlisted > 0:
            lines += f"\n…and {unlisted} more not shown."
        blocks.append(md(f"Not shown for this lookup:\n{lines}"))  # unknown, or not theirs
        if not outcome.coupons:  # nothing to show at all: say what to do about it
            first = outcome.missing[0]
            next_step = _naming(first.explanation, first.code).next_step
            blocks.append(md(f"*Next step:* {escape(next_step)}"))
    elif not outcome.coupons:  # Capillary answered with no items at all
        recheck = explain_lookup_miss(None).next_step  # as for a code Capillary didn't know
        blocks.append(md(f"Capillary returned nothing for this lookup.\n*Next step:* {recheck}"))
    blocks.append(_request(None, outcome.request_id))
    found = ", ".join(c.code for c in outcome.coupons[:5]) or "no coupons"
    return SlackMessage(f"Coupon details: {found}", tuple(blocks))


def _series(series: Series, currency: str) -> SlackMessage:
    percent = is_percent(series.discount_type)
    value = discount(series.discount_value, percent=percent, currency=currency)
    pairs = [  # the headline names the series
        ("Value", value),
        ("Valid till", day(series.valid_till)),
        (
            "Issued / redeemed",
            f"{series.issued if series.issued is not None else '—'} / "
            f"{series.redeemed if series.redeemed is not None else '—'}",
        ),
        ("Issue limit", _issue_limit(series)),
        ("Validation code", "required" if series.is_validation_required else "not needed"),
    ]
    if series.min_bill_amount:  # a redeem with a smaller bill is refused (733)
        pairs.append(("Minimum bill", money(series.min_bill_amount, currency)))
    headline = f"*Series {series.id}* — {series.description or 'no description'}"
    fields = [MarkdownTextObject(text=f"*{label}*\n{text}") for label, text in pairs]
    blocks = (
        SectionBlock(text=MarkdownTextObject(text=truncate(headline, 3000)), fields=fields),
        _request(None, series.request_id),
    )
    return SlackMessage(f"Series {series.id}: {series.description or ''}".strip(), blocks)


def _issue_limit(series: Series) -> str:
    """``unlimited``, or the series' cap with what is left of it: ``3 (none left)``."""
    cap = series.max_create
    if cap is None or cap == -1:
        return "unlimited"
    if series.issued is None:
        return str(cap)
    left = cap - series.issued
    return f"{cap} ({left} left)" if left > 0 else f"{cap} (none left)"


def _checked(outcome: Checked, currency: str) -> SlackMessage:
    command, result = outcome.command, outcome.result
    who = command.customer.masked()
    if result.is_redeemable:
        left = redemptions_left(result)
        value = f" · {check_value(result, currency)}" if result.coupon_value else ""
        text = f"✅ {command.code} can be redeemed by {who} · {left}{value}"
        return SlackMessage(text, (md(text), _request("700", result.request_id)))
    reason = _naming(result.reason, command.code) if result.reason else None
    return _explained(f"{command.code} can't be redeemed by {who}", reason, result.request_id)


def check_value(result: Redeemability, currency: str) -> str:
    """What a check says the coupon is worth: ``₹200 off``, ``20% off``, as a lookup says it."""
    percent = is_percent(result.discount_type)
    return discount(result.coupon_value, percent=percent, currency=currency)


def redemptions_left(result: Redeemability) -> str:
    """``unlimited redemptions``, ``1 redemption left``, or ``redemptions left unknown``."""
    if result.unlimited:
        return "unlimited redemptions"
    count = result.redemptions_left
    if count is None:
        return "redemptions left unknown"
    return f"{count} redemption{'s' if count != 1 else ''} left"


def _issued(outcome: Issued, currency: str) -> SlackMessage:
    coupon, command = outcome.coupon, outcome.command
    percent = is_percent(coupon.discount_type)
    value = discount(coupon.discount_value, percent=percent, currency=currency)
    text = (
        f"✅ Issued *{coupon.code}* to {command.customer.masked()} · series {command.series_id}"
        f" · {value} · valid till {day(coupon.valid_till)}"
    )
    return SlackMessage(text, (md(text), _request("700", coupon.request_id)))


def _redeemed(outcome: Redeemed, currency: str) -> SlackMessage:
    redemption, command = outcome.redemption, outcome.command
    worth = f" · {_redemption_value(outcome, currency)}" if redemption.coupon_value else ""
    bill = f" bill {command.bill_number}" if command.bill_number else ""
    text = (
        f"✅ {command.code} redeemed for {command.customer.masked()}"
        f" · redemption id {redemption.redemption_id or '—'}{worth}{bill}"
    )
    return SlackMessage(text, (md(text), _request("700", redemption.request_id)))


def _redemption_value(outcome: Redeemed, currency: str) -> str:
    """What the redemption took off. Against a bill amount, a percentage coupon's
    ``coupon_value`` is the money taken off that bill (its share of the bill, capped by
    ``discount_upto``); without one it is the coupon's own value, a percentage."""
    percent = is_not_absolute(outcome.redemption.is_absolute)
    if percent and outcome.command.bill_amount is not None:
        percent = False
    return discount(outcome.redemption.coupon_value, percent=percent, currency=currency)


def _failed(outcome: Failed) -> SlackMessage:
    subject = _subject(outcome.command)
    explanation = _naming(outcome.explanation, _one_code(outcome.command))
    if outcome.maybe_done:
        headline = f"❓ {subject}: {MAYBE_RESENT}"
        return _with_next_step(
            headline, replace(explanation, next_step=ASK_BEFORE_RESENDING), outcome.request_id
        )
    if explanation.category is Category.TRANSIENT:
        headline = f"⚠️ {subject}: {busy_text(explanation)}"
        return _with_next_step(headline, explanation, outcome.request_id)
    return _explained(f"{subject} didn't work", explanation, outcome.request_id)


_GET_ANY = "/coupon get <code>"


def _one_code(command: Command) -> str | None:
    """The coupon a command is about, when it is about one."""
    match command:
        case Get(codes=(code,)) | Check(code=code) | Resend(code=code) | Redeem(code=code):
            return code
    return None


def _naming(explanation: Explanation, code: str | None) -> Explanation:
    """The next step with ``/coupon get <code>`` naming the coupon, ready to copy."""
    if code is None or _GET_ANY not in explanation.next_step:
        return explanation
    named = explanation.next_step.replace(_GET_ANY, f"/coupon get {code}")
    return replace(explanation, next_step=named)


def busy_text(explanation: Explanation) -> str:
    """A failure that trying later may fix. No answer came (timeout, connection, circuit
    open): Capillary isn't answering, and how we know when the breaker stopped the call.
    Capillary answered "later" (521: the customer's coupons being changed; 461; 429):
    what it said, in the catalogue's words."""
    if explanation.source != "transport" or explanation.code == TransportFailure.RATE_LIMITED:
        return f"{explanation.sentence} Nothing was changed."
    how = explanation.capillary_message
    if explanation.code != TransportFailure.CIRCUIT_OPEN or not how:
        return BUSY_CAPILLARY
    down, rest = BUSY_CAPILLARY.split(".", 1)
    return f"{down} ({truncate(how, 100)}).{rest}"  # the caller escapes the headline


def _subject(command: Command) -> str:
    match command:
        case Get(codes=codes):
            return f"Looking up {', '.join(codes[:3])}"
        case SeriesInfo(series_id=series_id):
            return f"Series {series_id}"
        case Issue(series_id=series_id):
            return f"Issuing from series {series_id}"
        case Check() | Resend() | Redeem():
            return f"{command.verb.value.capitalize()} {command.code}"
    return command.verb.value.capitalize()


def _explained(
    headline: str, explanation: Explanation | None, request_id: str | None
) -> SlackMessage:
    if explanation is None:
        return SlackMessage(f"❌ {headline}.", (md(f"❌ {headline}."), _request(None, request_id)))
    return _with_next_step(
        f"❌ {headline}: {lower_first(explanation.sentence)}", explanation, request_id
    )


def _with_next_step(
    headline: str, explanation: Explanation, request_id: str | None
) -> SlackMessage:
    from_capillary = explanation.source != "transport"
    code = explanation.code if from_capillary else None
    said = explanation.capillary_message if from_capillary else None
    blocks = (
        md(escape(headline)),
        md(f"*Next step:* {escape(explanation.next_step)}"),
        _request(code, request_id, said),
    )
    return SlackMessage(headline, blocks)


def _unknown(outcome: Unknown) -> SlackMessage:
    command, unknown = outcome.command, outcome.unknown
    verb = command.verb.value
    subject = command.code if isinstance(command, Redeem) else f"series {command.series_id}"
    if outcome.known is Known.DID_NOT_HAPPEN:  # checked: not done, as the parent's ❌ says
        first = (
            f"❌ Not done: the {verb} request for {subject} got no clear answer "
            f"({unknown.reason}), and checking shows it did not go through."
        )
    else:
        first = (
            f"❓ The {verb} request for {subject} got no clear answer ({unknown.reason}), "
            "so we don't know yet whether it went through."
        )
    small_print = _request(None, unknown.request_id, without=_NO_ANSWER)
    blocks = (md(first), md(_what_is_known(outcome, subject)), small_print)
    return SlackMessage(first, blocks)


def _what_is_known(outcome: Unknown, subject: str) -> str:
    # The bot's own clock, so each reader's time (Capillary's times name no zone: as sent).
    checked = local_time(outcome.checked_at) if outcome.checked_at else "just now"
    if outcome.known is Known.HAPPENED:
        suffix = _redemption_suffix(outcome.coupon)
        return (
            f"Checked again {checked}: {subject} shows as redeemed{suffix}. Don't redeem it again."
        )
    if outcome.known is Known.DID_NOT_HAPPEN:
        return (
            f"Checked again {checked}: {subject} is not redeemed, so it did not go through. "
            "It is safe to try again."
        )
    return (
        "Capillary can't tell us yet. Check the customer's coupons in Capillary before you "
        f"{outcome.command.verb.value} again, so nothing is done twice."
    )


def _redemption_suffix(coupon: CouponDetails | None) -> str:
    redemption = coupon.redemption if coupon else None
    if redemption is None:
        return ""
    return f" at {moment(redemption.redeemed_on)} (redemption id {redemption.id or '—'})"
