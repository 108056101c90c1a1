"""``/coupon help``: only what the caller may do, one example each, their role, who grants more."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

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
) -> SlackMessage:
    """The help text for one user. With ``topic``, just that verb. ``limits``: (verb, used
    in the last 24 hours, daily limit) for the verbs with a limit. ``elsewhere``: asked in a
    channel the bot doesn't work in, the channels it does."""
    shown = [topic] if topic is not None else [v for v in verbs if v is not Verb.HELP]
    lines = [
        f"*{summary(v).capitalize()}*\n`{escape(usage(v))}`\nfor example `{escape(example(v))}`"
        for v in shown
    ]
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
