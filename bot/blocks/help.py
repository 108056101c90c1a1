"""``/coupon help``: only what the caller may do, one example each, their role, who grants more."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.format import escape
from bot.blocks.messages import people
from bot.blocks.results import SlackMessage
from bot.commands import Verb
from bot.grammar import example, summary, usage

__all__ = ["help_message"]


def help_message(
    role: str | None, verbs: Sequence[Verb], admins: Sequence[str], topic: Verb | None = None
) -> SlackMessage:
    """The help text for one user. With ``topic``, just that verb."""
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
    blocks = (
        SectionBlock(text=MarkdownTextObject(text="\n\n".join(lines)[:3000])),
        ContextBlock(elements=[MarkdownTextObject(text=f"{you} {more}")]),
    )
    return SlackMessage(text="How to use /coupon", blocks=blocks)
