"""Formatting values for people: money, dates, masked customers, Slack mentions. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "chunks",
    "day",
    "discount",
    "escape",
    "is_not_absolute",
    "is_percent",
    "local_time",
    "lower_first",
    "mention",
    "moment",
    "money",
    "plain",
    "short_id",
    "truncate",
]


def money(amount: Decimal | None, currency: str) -> str:
    """``₹1,450`` / ``₹1,450.50``; ``—`` when unknown."""
    if amount is None:
        return "—"
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"{currency}{text}"


def discount(value: Decimal | None, *, percent: bool | None, currency: str) -> str:
    """``₹100 off`` or ``20% off`` (never ``20.00%``); ``—`` when unknown. ``percent`` None:
    Capillary didn't say which, so the bare number (``20 off``), never a guessed currency."""
    if value is None:
        return "—"
    if percent is None:
        return f"{money(value, '')} off"
    return f"{value.normalize():f}% off" if percent else f"{money(value, currency)} off"


_PERCENT = {"PERC": True, "ABS": False}


def is_percent(discount_type: str | None) -> bool | None:
    """Capillary's ``discount_type`` as :func:`discount`'s ``percent``: ``PERC`` → True,
    ``ABS`` → False, missing or unheard of → None."""
    return _PERCENT.get((discount_type or "").strip().upper())


def is_not_absolute(is_absolute: bool | None) -> bool | None:
    """Capillary's ``is_absolute`` flag as :func:`discount`'s ``percent`` (None stays None)."""
    return None if is_absolute is None else not is_absolute


def day(value: date | None) -> str:
    """``31 Dec 2026``."""
    return value.strftime("%-d %b %Y") if value else "—"


def moment(value: datetime | None) -> str:
    """``20 Nov 2026, 14:02``."""
    return value.strftime("%-d %b %Y, %H:%M") if value else "—"


def local_time(at: datetime, shown: str = "{date_short_pretty} at {time}") -> str:
    """A time every reader sees in their own timezone (Slack's date token, formatted as
    ``shown``), in UTC where a client can't (the fallback)."""
    fallback = at.strftime("%-d %b %Y, %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{shown}|{fallback}>"


def escape(text: str) -> str:
    """Slack mrkdwn control characters as entities: ``<code>`` shows as <code>, not a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(mrkdwn: str) -> str:
    """A refusal shown as a modal's error, which is plain text: mentions, channels and links
    as readable words, escaped characters as themselves."""
    text = re.sub(r"<([@#])([A-Z0-9]+)>", r"\1\2", mrkdwn)
    text = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mention(user_id: str) -> str:
    """A Slack user mention that renders as @name."""
    return f"<@{user_id}>"


def short_id(request_id: str | None) -> str:
    """Capillary request ids are long; show enough to quote: ``5f2c…91``."""
    if not request_id:
        return "—"
    return request_id if len(request_id) <= 12 else f"{request_id[:6]}…{request_id[-4:]}"


def chunks(lines: Sequence[str], budget: int = 2900) -> list[str]:
    """Whole lines joined into texts that each fit a section block (never cut mid-line)."""
    found: list[str] = []
    for line in lines:
        if found and len(found[-1]) + 1 + len(line) <= budget:
            found[-1] += "\n" + line
        else:
            found.append(line[:budget])
    return found


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PROPER_NOUNS = ("Capillary", "Slack")


def lower_first(sentence: str) -> str:
    """``This coupon has expired.`` → ``this coupon has expired.`` (names and acronyms stay),
    for a sentence that continues another: ``GOOD100 didn't work: this coupon has expired.``"""
    first_word = sentence.split(" ", 1)[0]
    acronym = len(first_word) > 1 and first_word[:2].isupper()  # OTP, GOOD100, I'm; not "A"
    if acronym or first_word == "I" or sentence.startswith(_PROPER_NOUNS):
        return sentence
    return sentence[:1].lower() + sentence[1:]
