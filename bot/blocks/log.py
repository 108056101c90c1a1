"""``/coupon log``: audit rows as a compact list, newest first, customers masked. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.audit import AuditEventKind, AuditFilter, AuditRow
from bot.blocks.format import chunks, escape, local_time, mention
from bot.blocks.messages import STATUS_EMOJI, ParentStatus
from bot.blocks.results import SlackMessage
from bot.capillary.identifiers import mask_customer

__all__ = ["LINKED_ROWS", "describe_filter", "log_message"]

EVERYTHING = "everything"  # the query in words when nothing narrows it
#: Rows shown (and linked to their threads); past it every row is attached as a CSV file.
LINKED_ROWS = 20
_WHAT = {
    "command": "asked",
    "refused": "refused",
    "capillary_call": "Capillary call",
    "outcome": "result",
    "approval_requested": "approval requested",
    "approved": "approved",
    "rejected": "rejected",
    "expired": "expired",
}


#: A bare word shaped like a Slack user id (U or W, then 8 or 10 letters and digits), which
#: /coupon log reads as a coupon code unless it starts U0/W0 (bot.logquery).
_LIKE_A_USER_ID = re.compile(r"[UW](?=[A-Z]*\d)[A-Z0-9]{8}(?:[A-Z0-9]{2})?")


def describe_filter(f: AuditFilter) -> str:
    """The query in words for people (mrkdwn), customers masked: ``••••3210 action=redeem``."""
    subject = f.code or (f.customer.masked() if f.customer else None) or f.series_id
    shown = escape(subject) if subject else (mention(f.actor) if f.actor else None)
    parts = [shown] if shown else []
    if f.verb:
        parts.append(f"action={f.verb}")
    if f.outcome:
        parts.append(f"status={f.outcome.value}")
    if f.since:
        parts.append(f"since {f.since.strftime('%-d %b %Y')}")
    return " ".join(parts) or EVERYTHING


def log_message(
    subject: str, rows: Sequence[AuditRow], links: Mapping[tuple[str, str], str]
) -> SlackMessage:
    """``subject`` names the query in mrkdwn (:func:`describe_filter`); ``links`` maps
    (channel, thread ts) to URLs. Every row shown is whole: as many sections as they take."""
    if not rows:
        about = "" if subject == EVERYTHING else f" for {subject}"
        text = (
            f"No results, refusals or approval steps{about}. "
            "(`coupon-bot audit` lists every row, with each command as received.)"
        )
        if _LIKE_A_USER_ID.fullmatch(subject):  # searched as the code it also could be
            text += (
                f" If {subject} is a person's user id, mention them instead: `/coupon log @name`."
            )
        return SlackMessage(text, (SectionBlock(text=MarkdownTextObject(text=text)),))
    shown = rows[:LINKED_ROWS]
    lines = [_line(row, links) for row in shown]
    head = f"*{subject}* — {len(rows)} event{'s' if len(rows) != 1 else ''}, newest first"
    blocks: list[SectionBlock | ContextBlock] = [
        SectionBlock(text=MarkdownTextObject(text=text)) for text in chunks([head, *lines])
    ]
    if len(rows) > LINKED_ROWS:
        more = f"…and {len(rows) - LINKED_ROWS} more. The full list is attached below as CSV."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return SlackMessage(f"Audit log for {subject}", tuple(blocks))


def _line(row: AuditRow, links: Mapping[tuple[str, str], str]) -> str:
    event = row.event
    when = local_time(event.at, "{date_short} {time}")  # the reader's time, as on the cards
    # A call names its endpoint: a redeem's pre-check (coupon/isredeemable) is no redeem.
    call = event.event is AuditEventKind.CAPILLARY_CALL and event.capillary_endpoint
    doing = call.removeprefix("/v1.1/") if call else None
    what = _subject(doing or event.verb, event.code, event.series_id)
    status = f" {STATUS_EMOJI[ParentStatus(event.outcome.value)]}" if event.outcome else ""
    parts = [f"{when}  {_WHAT.get(event.event.value, event.event.value)}: {escape(what)}{status}"]
    if event.actor:
        parts.append(f"by {mention(event.actor)}")
    if event.customer:
        parts.append(f"for {mask_customer(event.customer_kind, event.customer)}")
    if event.capillary_code:
        parts.append(f"code {escape(event.capillary_code)}")
    link = links.get((event.channel or "", event.thread_ts or ""))
    if link:
        parts.append(f"<{link}|view thread>")
    return " · ".join(parts)


def _subject(doing: str | None, code: str | None, series_id: str | None) -> str:
    """``redeem GOOD100``, ``issue 1001``; a row naming both a series and a code is an issue
    that made that coupon: ``issue from series 1001 → H6BFKX37`` (as its thread says it)."""
    if code and series_id:
        return f"{doing or ''} from series {series_id} → {code}".strip()
    return " ".join(x for x in (doing, code or series_id) if x)
