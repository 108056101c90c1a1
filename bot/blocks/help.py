"""``/coupon help``: only what the caller may do, one example each, their role, who grants more."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.audit import MAX_LIMIT, AuditOutcome
from bot.blocks.format import escape
from bot.blocks.messages import channel_list, people
from bot.blocks.results import SlackMessage
from bot.commands import Verb
from bot.grammar import example, summary, usage

__all__ = ["help_message"]


def help_message(
    role: str | None,
    verbs: Sequence[Verb],
    admins: Sequence[str],
    topic: Verb | None = None,
    limits: Sequence[tuple[Verb, int, int]] = (),
    elsewhere: Iterable[str] | None = None,
    approved_first: Collection[Verb] = (),
) -> SlackMessage:
    """The help text for one user. With ``topic``, just that verb, and what its options take.
    ``limits``: (verb, used in the last 24 hours, daily limit) for the verbs with a limit.
    ``elsewhere``: asked in a channel the bot doesn't work in, the channels it does.
    ``approved_first``: the verbs that wait for an approver when this user asks."""
    shown = [topic] if topic is not None else [v for v in verbs if v is not Verb.HELP]
    lines = [_entry(v, v in approved_first, detailed=topic is not None) for v in shown]
    if topic is not None and topic not in verbs:
        lines.append(f"_You can't use `{topic.value}` yet._")
    if not lines:
        lines = ["You can't use any coupon commands yet."]
    article = "an" if role and role[0] in "aeiou" else "a"
    you = f"You are {article} *{role}*." if role else "You have no role yet."
    granters = people(admins, "whoever runs the bot")
    more = f"For more access, ask an admin ({granters}) to add you to a role in policy.toml."
    if elsewhere is not None:
        listed = channel_list(elsewhere)
        lines = [f"Coupon commands aren't answered in this channel. Use them in {listed}."]
        more = f"To use them here, ask an admin ({granters}) to add this channel to policy.toml."
    footer = [MarkdownTextObject(text=f"{you} {more}")]
    shown_limits = [(v, used, cap) for v, used, cap in limits if topic in (None, v)]
    if shown_limits:
        counts = ", ".join(f"{v.value} {used} of {cap}" for v, used, cap in shown_limits)
        footer.append(MarkdownTextObject(text=f"Your daily limits (last 24 hours): {counts}."))
    blocks = (
        SectionBlock(text=MarkdownTextObject(text="\n\n".join(lines)[:3000])),
        ContextBlock(elements=footer),
    )
    return SlackMessage(text="How to use /coupon", blocks=blocks)


def _entry(verb: Verb, approved_first: bool, *, detailed: bool) -> str:
    """One verb: what it does, its usage and an example; whether it waits for an approver;
    with ``detailed`` (``/coupon help <verb>``), what its options take."""
    lines = [f"*{summary(verb).capitalize()}*", f"`{escape(usage(verb))}`"]
    lines.append(f"for example `{escape(example(verb))}`")
    if approved_first:
        lines.append("_Waits for an approver's OK in its thread before it runs._")
    if detailed and verb in _OPTIONS:
        lines.append(_OPTIONS[verb])
    return "\n".join(lines)


_STATUSES = ", ".join(f"`{outcome.value}`" for outcome in AuditOutcome)
_OPTIONS = {
    Verb.LOG: (
        "One subject: a code, a customer or an @person; `action=` a verb (`redeem`); "
        f"`status=` {_STATUSES}; `since=` `7d` or a date (`2026-11-01`); "
        f"`limit=` up to {MAX_LIMIT}. Longer lists also come as a CSV file."
    ),
    Verb.GET: "Several codes at once: separate them with commas (`GOOD100,GOOD200`).",
    Verb.REDEEM: (
        "`txn=` the bill number, `amount=` the bill amount (numbers only), `validation=` the "
        "code the customer was sent, for coupons that need one."
    ),
    Verb.PENDING: (
        "Approvers approve or reject with the buttons on a request's card, in its thread "
        "(`pending` links each one); a modal then asks them to confirm. Nobody can approve "
        "their own request."
    ),
}
