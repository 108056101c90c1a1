"""The two Block Kit pieces most builders are made of, cut to fit Slack's limits. Pure."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.format import truncate

__all__ = ["md", "small"]


def md(text: str) -> SectionBlock:
    """A section of mrkdwn text (Slack takes at most 3,000 characters)."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def small(*lines: str) -> ContextBlock:
    """Small print: a context block, one element a line (each at most 2,000 characters)."""
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(line, 2000)) for line in lines])
