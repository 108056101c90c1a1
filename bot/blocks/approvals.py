"""Block Kit and words for approvals: the card, its modals, refusals, lists, the Home tab.

Pure functions of :class:`bot.approvals.Request`. Button values and ``private_metadata``
carry only the request id; customers appear masked; what people typed (notes, reasons) is
escaped and has any phone number or email in it masked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.approvals import Blocked, PreCheck, Request, State, Why
from bot.blocks.blockkit import md, small
from bot.blocks.format import chunks, day, escape, local_time, lower_first, mention, truncate
from bot.blocks.messages import VERB_DOING, people
from bot.blocks.results import (
    SlackMessage,
    busy_text,
    check_value,
    describe,
    redemptions_left,
)
from bot.capillary.catalogue import Category
from bot.capillary.identifiers import scrub
from bot.commands import Verb
from bot.ids import ActionId, BlockId, CallbackId
from bot.service import (
    Checked,
    Failed,
    Issued,
    Known,
    Outcome,
    Redeemed,
    SeriesFound,
    Unknown,
)

__all__ = [
    "CLICK_AGAIN",
    "GONE",
    "MAX_NOTE",
    "NEED_REASON",
    "NO_CARD",
    "NO_CHANNEL",
    "NO_THREAD",
    "SAME_CUSTOMER",
    "TOO_LATE",
    "approval_card",
    "approve_modal",
    "blocked_text",
    "carrying_out_text",
    "duplicate_text",
    "expired_notice",
    "home_view",
    "lost_race_text",
    "not_carried_out_text",
    "over_limit_text",
    "pending_message",
    "precheck_of",
    "read_request_id",
    "reject_modal",
    "rejected_notice",
    "result_line",
    "same_customer_notice",
    "too_late_notice",
    "undelivered_result",
]

GONE = "This request no longer exists: it may have been made on another copy of the bot."
CLICK_AGAIN = (
    "Slack took too long to hand me that click, so its form couldn't open. Nothing was "
    "decided: click the button again."
)
NEED_REASON = "Say why, so the agent knows what to tell the customer."
MAX_NOTE = 500  # characters of a note or reason kept
_REQUEST_ID = re.compile(r"R[0-9A-F]{8}")
_VERB_NOUN = {Verb.ISSUE: "issue", Verb.REDEEM: "redeem"}


# --- small pieces ------------------------------------------------------------------------


def quoted(text: str | None) -> str:
    """What a person typed, set off by a dash (`` — “…”``); see :func:`_in_quotes`."""
    said = _in_quotes(text)
    return f" — {said}" if said else ""


def _in_quotes(text: str | None) -> str:
    """What a person typed, safe to show: escaped, identifiers masked, one line, bounded."""
    if not text:
        return ""
    flat = " ".join(scrub(text).split())
    return f"“{escape(truncate(flat, 300))}”"


def read_request_id(raw: object) -> str | None:
    """A request id from a button value or ``private_metadata``; None when it isn't one."""
    return raw if isinstance(raw, str) and _REQUEST_ID.fullmatch(raw) else None


# --- the pre-check -----------------------------------------------------------------------


def precheck_of(outcome: Outcome, today: date, currency: str = "₹") -> PreCheck:
    """What the card says about Capillary's answer at request time."""
    match outcome:
        case Checked(result=result) if result.is_redeemable:
            worth = f", {check_value(result, currency)}" if result.coupon_value else ""
            left = f"redeemable now, {redemptions_left(result)}{worth}"
            return PreCheck(
                True, f"{left} (the bill and any validation code are checked when it runs)"
            )
        case Checked(result=result):
            sentence = result.reason.sentence if result.reason else "Capillary says no."
            return PreCheck(False, f"this would fail now: {_said(sentence)}")
        case SeriesFound(series=series):
            if series.valid_till is not None and series.valid_till < today:
                return PreCheck(
                    False, f"this would fail now: the series ended on {day(series.valid_till)}."
                )
            full = series.max_create not in (None, -1) and (series.issued or 0) >= (
                series.max_create or 0
            )
            if full:
                return PreCheck(
                    False, "this would fail now: every coupon of this series is issued."
                )
            name = f" “{escape(series.description)}”" if series.description else ""
            till = f", valid till {day(series.valid_till)}" if series.valid_till else ""
            return PreCheck(True, f"series {series.id}{name} exists{till}")
        case Failed(explanation=explanation) if explanation.category is Category.TRANSIENT:
            return PreCheck(None, f"couldn't check: {_said(busy_text(explanation))}")
        case Failed(explanation=explanation) if explanation.category is Category.UNKNOWN:
            # No verdict on the request (request code 500 without a reason, an unknown code).
            return PreCheck(None, f"couldn't check: {_said(explanation.sentence)}")
        case Failed(explanation=explanation):
            return PreCheck(False, f"this would fail now: {_said(explanation.sentence)}")
    return PreCheck(None, "couldn't check")


def _said(sentence: str) -> str:
    """An explanation inside a card line (mrkdwn): it may quote Capillary, so escaped."""
    return escape(lower_first(sentence))


def _precheck_line(precheck: PreCheck | None) -> str:
    if precheck is None:
        return "Pre-check: checking with Capillary…"
    mark = {True: "✅", False: "⚠️", None: "❔"}[precheck.ok]
    return f"{mark} Pre-check: {precheck.summary}"


# --- the card ----------------------------------------------------------------------------

_DOING = {Verb.ISSUE: "issuing", Verb.REDEEM: "redeeming"}
_WHY = {
    Why.POLICY: "{doing} needs a second person",
    Why.APPROVER_OWN: "an approver's own {verb} needs another approver",
}


def _why(request: Request) -> str:
    if request.why is None:
        return ""
    return _WHY[request.why].format(doing=_DOING[request.verb], verb=request.verb.value)


def decision_line(request: Request) -> str | None:
    """Who decided and when (with their note), or that nobody did in time; None if open."""
    if request.state is State.EXPIRED:
        at = local_time(request.finished_at or request.expires_at)
        return f"⌛ Expired {at}: nobody decided in time."
    if request.decided_at is None or request.decided_by is None:
        return None
    verdict = "🚫 Rejected" if request.state is State.REJECTED else "✅ Approved"
    by, at = mention(request.decided_by), local_time(request.decided_at)
    return f"{verdict} by {by} {at}{quoted(request.note)}"


def approval_card(request: Request, currency: str = "₹", approvers: str = "") -> SlackMessage:
    """The card in the thread: what, for whom, why, until when, the pre-check, and either
    the buttons (while pending) or who decided and what came of it. ``approvers``: their
    mentions (mrkdwn), named while it waits, so they hear of it."""
    what = describe(request.command, currency)
    headline = f"*Approval needed* — {what}"  # kept once decided, as UX.md's card shows
    asked = f"Asked by {mention(request.requester)} · {_why(request)}"
    if request.state is State.PENDING:  # once decided or over, there is no deadline to meet
        asked += f" · expires {local_time(request.expires_at)}"
        if approvers:
            asked += f" · for {approvers}"
    blocks: list[Block] = [md(headline), small(asked), small(_precheck_line(request.precheck))]
    decided = decision_line(request)
    if decided is None and request.state is State.PENDING:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.DECISION,
                elements=[
                    ButtonElement(
                        text="Approve",
                        action_id=ActionId.APPROVE,
                        value=request.id,
                        style="primary",
                    ),
                    ButtonElement(
                        text="Reject", action_id=ActionId.REJECT, value=request.id, style="danger"
                    ),
                ],
            )
        )
    if decided is not None:
        blocks.append(md(decided))
    progress = _progress(request)
    if progress:
        blocks.append(md(progress))
    blocks.append(small(f"Request {request.id}"))
    return SlackMessage(f"Approval needed: {what}", tuple(blocks))


def _progress(request: Request) -> str | None:
    match request.state:
        case State.APPROVED | State.EXECUTING:
            return f"⏳ {_VERB_NOUN[request.verb].capitalize()} in progress…"
        case State.DONE | State.FAILED | State.UNKNOWN:
            return request.result
    return None


def result_line(outcome: Outcome) -> str:
    """One line for the card (and the Home tab) once the action ran."""
    match outcome:
        case Redeemed(redemption=redemption):
            return f"✅ Redeemed · redemption id {escape(redemption.redemption_id or '—')}"
        case Issued(coupon=coupon):
            return f"✅ Issued coupon {escape(coupon.code)}"
        case Failed(explanation=explanation) if explanation.category is Category.TRANSIENT:
            return f"⚠️ Not done: {_said(busy_text(explanation))}"
        case Failed(explanation=explanation):
            return f"❌ Not done: {_said(explanation.sentence)}"
        case Unknown(known=Known.HAPPENED):
            return "❓ No clear answer from Capillary, but checking shows it went through."
        case Unknown(known=Known.DID_NOT_HAPPEN):
            return "❌ Not done: no clear answer, and checking shows it did not go through."
    # Also shown on the Home tab, where nothing is "below": the thread says what is known.
    return (
        "❓ No clear answer from Capillary, and checking can't tell whether it went through: "
        "see its thread."
    )


# --- the modals --------------------------------------------------------------------------


def _question(request: Request, currency: str) -> str:
    what = describe(request.command, currency)
    return f"*{what[:1].upper()}{what[1:]}?*"


def _note_input(block_id: BlockId, label: str, *, optional: bool, placeholder: str) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id=ActionId.INPUT,
            multiline=True,
            max_length=MAX_NOTE,
            placeholder=PlainTextObject(text=placeholder),
        ),
        optional=optional,
    )


def approve_modal(request: Request, currency: str = "₹") -> View:
    """Approve: the exact parameters, an optional note; submitting it is the decision. When
    the pre-check said it would fail, the button says "anyway"."""
    noun = _VERB_NOUN[request.verb]
    warned = request.precheck is not None and request.precheck.ok is False
    return View(
        type="modal",
        callback_id=CallbackId.APPROVE_FORM,
        title=PlainTextObject(text=f"Approve {noun}"),
        submit=PlainTextObject(text=noun.capitalize() + (" anyway" if warned else "")),
        close=PlainTextObject(text="Cancel"),
        private_metadata=request.id,
        blocks=[
            md(_question(request, currency)),
            small(f"Asked by {mention(request.requester)} · request {request.id}"),
            small(_precheck_line(request.precheck)),
            _note_input(
                BlockId.NOTE, "Note", optional=True, placeholder="Why it's fine (optional)"
            ),
        ],
    )


def reject_modal(request: Request, currency: str = "₹") -> View:
    """Reject: a reason is required, so the agent knows what to tell the customer."""
    return View(
        type="modal",
        callback_id=CallbackId.REJECT_FORM,
        title=PlainTextObject(text="Reject request"),
        submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=request.id,
        blocks=[
            md(f"Reject: {describe(request.command, currency)}"),
            small(f"Asked by {mention(request.requester)} · request {request.id}"),
            _note_input(
                BlockId.REASON, "Reason", optional=False, placeholder="What the agent should know"
            ),
        ],
    )


# --- refusals and notices ----------------------------------------------------------------


def blocked_text(blocked: Blocked, request: Request, approvers: Sequence[str]) -> str:
    """Only to the person who clicked (mrkdwn): why they can't decide this request."""
    match blocked:
        case Blocked.OWN_REQUEST:
            return (
                "You asked for this one, so someone else has to approve it "
                f"(approvers: {people(approvers, 'nobody yet')})."
            )
        case Blocked.NOT_APPROVER:
            return (
                "Only approvers can approve or reject requests "
                f"(approvers: {people(approvers, 'nobody yet')})."
            )
        case Blocked.EXPIRED:
            return (
                f"This request expired {local_time(request.expires_at)}. "
                f"Ask {mention(request.requester)} to ask again if it is still needed."
            )
        case Blocked.REQUESTER_NOT_ALLOWED:
            return (
                f"{mention(request.requester)} may no longer {VERB_DOING[request.verb]} here "
                "(their role or this channel was taken off policy.toml since they asked), "
                "so this can't be approved. Reject it, or approve it once an admin has "
                "given them back the access."
            )
    return lost_race_text(request, plain=False)


def lost_race_text(request: Request, *, plain: bool) -> str:
    """Someone decided first: who and when. ``plain`` for a modal's error (no mrkdwn)."""
    verdict = "rejected" if request.state is State.REJECTED else "approved"
    if request.state in (State.EXPIRED, State.PENDING):  # still pending: the time ran out
        return (
            "This request has expired."
            if plain
            else f"This request expired {local_time(request.expires_at)}."
        )
    if request.decided_at is None:
        return f"This request was already {verdict}."
    if plain:
        who = request.decided_by_name or "someone else"
        return f"Already {verdict} by {who} at {request.decided_at.strftime('%H:%M UTC')}."
    who = mention(request.decided_by) if request.decided_by else "someone else"
    return f"Already {verdict} by {who} {local_time(request.decided_at)}."


def duplicate_text(first: Request) -> str:
    """The same request is live or just succeeded: refuse, and point at the first thread."""
    where = f"<{first.link}|this thread>" if first.link else "the first request's thread"
    at = local_time(first.finished_at or first.created_at)
    if first.state is State.UNKNOWN:  # it may have happened: asking again may do it twice
        return (
            f"The same {first.verb.value} was just tried ({at}) and it isn't clear whether it "
            f"went through: see {where} for what the bot found. Don't ask again until a lead "
            "has checked it in Capillary."
        )
    if first.state is State.DONE:
        return (
            f"The same {first.verb.value} was just done ({at}): see {where}. "
            "If it really must happen twice, wait 10 minutes and ask again."
        )
    waiting = first.state is State.PENDING and first.needs_approval
    way_out = (
        " If that one is wrong, ask an approver to reject it, then ask again." if waiting else ""
    )
    return (
        f"The same {first.verb.value} is already requested by {mention(first.requester)} "
        f"and not finished: see {where}.{way_out}"
    )


def over_limit_text(verb: Verb, used: int, limit: int, admins: Sequence[str]) -> str:
    noun = ("issue" if verb is Verb.ISSUE else "redeem") + ("" if used == 1 else "s")
    return (
        f"You've reached your limit: {used} {noun} in the last 24 hours (the limit is {limit}). "
        f"Ask an admin ({people(admins)}) if more are needed today."
    )


def rejected_notice(request: Request) -> str:
    """A thread reply that tells the requester (a mention notifies them) who rejected it,
    why, and what to do now."""
    who = mention(request.decided_by) if request.decided_by else "an approver"
    why = _in_quotes(request.note)
    return (
        f"{mention(request.requester)}: {who} rejected {_this(request)}"
        f"{f': {why}' if why else ''}. "
        f"Nothing was sent to Capillary. *Next step:* {_AFTER_REJECTION}"
    )


_AFTER_REJECTION = "tell the customer, or change the request and ask again."


def _this(request: Request) -> str:
    """What a notice is about, so the thread reads on its own: ``this redeem of GOOD100``."""
    joint = "of" if request.verb is Verb.REDEEM else "from"
    return f"this {request.verb.value} {joint} {escape(request.subject)}"


NO_THREAD = "❌ Not started: Slack didn't take its thread. Nothing was sent to Capillary."
NO_CARD = "❌ Not started: Slack didn't take its approval card. Nothing was sent to Capillary."
TOO_LATE = "❌ Not carried out: the bot was down until its time ran out. Nothing was sent."
SAME_CUSTOMER = (
    "❌ Not carried out: the same customer just got this through another request. "
    "Nothing was sent to Capillary."
)


def same_customer_notice(request: Request, earlier: Request) -> str:
    """Approved, but another request for the same thing was just done for the same person,
    typed another way (Capillary's answer to it named them both): not sent."""
    where = f"<{earlier.link}|request {earlier.id}>" if earlier.link else f"request {earlier.id}"
    return (
        f"{mention(request.requester)} {_this(request)} was not carried out: {where} did the "
        f"same {local_time(earlier.finished_at or earlier.created_at)} for the same customer "
        f"(Capillary's answer to it names {escape(request.command.customer.masked())} too). "
        "Nothing was sent to Capillary. If it really must happen twice, wait 10 minutes "
        "and ask again."
    )


NO_CHANNEL = (
    "❌ Not carried out: the bot can no longer post in this channel. Nothing was sent to Capillary."
)


def carrying_out_text(request: Request) -> str:
    """Only to the approver, in the thread, just before the call: their approval is being
    carried out. (Slack refusing it is how the bot learns it can't post there any more.)"""
    return (
        f"You approved {_this(request)}: it is being carried out now (checked with Capillary "
        "first), and the result will be posted in this thread."
    )


def not_carried_out_text(request: Request, reason: str, currency: str = "₹") -> str:
    """A direct message to the approver: the bot can't post in the request's channel any
    more (removed from it, or it was archived), so the approval was not carried out."""
    return (
        f"❌ You approved {_request_named(request, currency)}, but it was *not carried out*: "
        f"the bot can no longer post in <#{request.channel}> (Slack: `{escape(reason)}`; it "
        "was removed from the channel, or the channel was archived), so nothing was sent to "
        f"Capillary. *Next step:* tell {mention(request.requester)}; they can ask again in a "
        "channel the bot is in (`/invite @coupon-bot` adds it back to a channel that isn't "
        "archived)."
    )


def undelivered_result(
    request: Request, result: SlackMessage, reason: str, *, to: str, currency: str = "₹"
) -> SlackMessage:
    """A direct message to ``to`` when a request's result couldn't be posted in its thread:
    which request, why it isn't there, then the result itself (customers masked, as ever)."""
    passed_on = "" if to == request.requester else f" Please tell {mention(request.requester)}."
    head = (
        f"📬 The result of {_request_named(request, currency)} could not be posted in its "
        f"thread in <#{request.channel}> (Slack: `{escape(reason)}`), so here it is.{passed_on}"
    )
    blocks: list[Block] = [md(head), *result.blocks[:_RESULT_BLOCKS]]
    if request.link:
        blocks.append(small(f"<{request.link}|View the request's thread>"))
    return SlackMessage(f"Result of request {request.id}: {result.text}", tuple(blocks))


_RESULT_BLOCKS = 45  # of the result's blocks, in a direct message (Slack allows 50)


def _request_named(request: Request, currency: str) -> str:
    """``request R… (redeem GOOD100 for ••••3210, asked by @asha)``: a request, named fully."""
    what = escape(describe(request.command, currency))
    return f"request {request.id} ({what}, asked by {mention(request.requester)})"


def too_late_notice(request: Request) -> str:
    """After a restart: an approved request whose time ran out while the bot was down."""
    return (
        f"{mention(request.requester)} {_this(request)} was approved, but the bot stopped "
        "before carrying it out and was back only after the request's time ran out, so "
        f"nothing was sent to Capillary. Ask again (`/coupon {request.verb.value} …`) if it "
        "is still needed."
    )


def expired_notice(request: Request) -> str:
    return (
        f"{mention(request.requester)} nobody approved {_this(request)} in time, so it "
        "expired and nothing was sent to Capillary. Ask again "
        f"(`/coupon {request.verb.value} …`) if it is still needed."
    )


# --- lists -------------------------------------------------------------------------------


def _list_line(request: Request, currency: str) -> str:
    link = f" · <{request.link}|view thread>" if request.link else ""
    return (
        f"• {escape(describe(request.command, currency))} · asked by "
        f"{mention(request.requester)} · expires {local_time(request.expires_at)}{link}"
    )


def pending_message(requests: Sequence[Request], currency: str = "₹") -> SlackMessage:
    """``/coupon pending``: open requests in this channel, longest waiting first."""
    if not requests:
        text = "No requests are waiting for approval in this channel."
        return SlackMessage(text, (md(text),))
    count = len(requests)
    head = f"*{count} request{'s' if count != 1 else ''} waiting for approval*"
    shown = [_list_line(r, currency) for r in requests[:_LISTED]]
    blocks: list[Block] = [md(head), *(md(chunk) for chunk in chunks(shown))]
    if count > _LISTED:
        blocks.append(small(f"…and {count - _LISTED} more, newer than these."))
    return SlackMessage(f"{count} waiting for approval", tuple(blocks))


_LISTED = 30  # requests listed by /coupon pending (Slack allows 50 blocks in a message)


def _decided_line(request: Request, currency: str) -> str:
    verdict = "Rejected" if request.state is State.REJECTED else "Approved"
    at = local_time(request.decided_at) if request.decided_at else ""
    link = f" · <{request.link}|view thread>" if request.link else ""
    outcome = f" · {request.result}" if request.result else ""
    return f"• {verdict} {at}: {escape(describe(request.command, currency))}{outcome}{link}"


def _own_line(request: Request, currency: str) -> str:
    link = f" · <{request.link}|view thread>" if request.link else ""
    return f"• {escape(describe(request.command, currency))} · {request.state.value}{link}"


def _section(title: str, lines: Sequence[str], empty: str) -> list[Block]:
    return [md(f"*{title}*"), md("\n".join(lines)) if lines else small(empty)]


def home_view(
    *,
    may_approve: bool,
    waiting: Sequence[Request],
    decided: Sequence[Request],
    own: Sequence[Request],
    currency: str = "₹",
    may_request: bool = True,
    admins: Sequence[str] = (),
) -> View:
    """The App Home tab: for approvers, what waits for them and what they decided lately;
    for everyone, their own latest requests (or, for whom may not ask, who grants that)."""
    blocks: list[Block] = [HeaderBlock(text="Coupon approvals")]
    if may_approve:
        blocks.append(md(f"*Waiting for you* ({len(waiting)})"))
        if not waiting:
            blocks.append(small("Nothing is waiting for approval."))
        for request in waiting[:20]:
            blocks.append(md(_list_line(request, currency)))
            blocks.append(small(_precheck_line(request.precheck)))
        if len(waiting) > 20:
            blocks.append(small(f"…and {len(waiting) - 20} more, newer than these."))
        blocks.append(DividerBlock())
        decisions = [_decided_line(r, currency) for r in decided]
        blocks += _section(
            "Your recent decisions", decisions, "You haven't decided any requests yet."
        )
        blocks.append(DividerBlock())
    requests = [_own_line(r, currency) for r in own]
    none_yet = (  # the agent role: policy.MINIMUM_ROLE for issue and redeem
        "You haven't asked for any issue or redeem yet."
        if may_request
        else "Asking for an issue or a redeem needs the agent role: ask an admin "
        f"({people(admins)})."
    )
    blocks += _section("Your recent requests", requests, none_yet)
    if may_approve:
        blocks.append(
            small("Approve or reject from the request's thread (its card has the buttons).")
        )
    return View(type="home", blocks=blocks[:100])
