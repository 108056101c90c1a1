"""``/coupon log …`` and ``coupon-bot audit …`` filters → an :class:`AuditFilter`. Pure.

Grammar (DESIGN.md)::

    log [<code>|<customer>|<@user>] [action=<verb>] [status=<s>] [since=<7d|YYYY-MM-DD>] [limit=<n>]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.audit import MAX_LIMIT, AuditFilter, AuditOutcome
from bot.capillary.identifiers import (
    InvalidInputError,
    looks_like_customer,
    parse_coupon_code,
    parse_customer,
    scrub,
)
from bot.commands import UsageError, Verb
from bot.grammar import VERB_ALIASES, join_phone_groups

__all__ = ["mentioned_user", "parse_log_filters"]

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")  # as Slack sends one in text
# A bare user id, as the CLI takes one: Slack's start U0 or W0. A looser pattern would read
# codes like WELCOME50 or UPGRADE10 as people and find nothing for them.
_USER_ID = re.compile(r"^[UW]0[A-Z0-9]{6,}$")
_RELATIVE = re.compile(r"^(\d{1,4})([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_log_filters(text: str, *, now: datetime | None = None) -> AuditFilter:
    """The filters in ``text``; raises :class:`UsageError` naming what is wrong. ``limit`` is
    None when ``limit=`` wasn't given (the reader decides what "every match" means)."""
    words = join_phone_groups(text.split())  # ``+91 98765 43210`` is one customer
    options: dict[str, str] = {}
    for key, value in (_option(w) for w in words if "=" in w and not w.startswith("<")):
        if key in options:
            raise UsageError(f"{key}= is given twice; give it once.", Verb.LOG)
        options[key] = value
    subjects = [w for w in words if "=" not in w or w.startswith("<")]
    if len(subjects) > 1:
        extra = scrub(subjects[1])[:40]  # it may be a customer's number: never echoed whole
        raise UsageError(
            f"`log` takes one coupon code, customer or @user; “{extra}” is one too many.",
            Verb.LOG,
        )
    found = _subject(subjects[0]) if subjects else AuditFilter()
    return _options(found, options, now or datetime.now(UTC))


def mentioned_user(word: str) -> str | None:
    """The user id of a mention as Slack sends it (``<@U03AGENT|asha>``), else None."""
    found = _MENTION.fullmatch(word)
    return found[1] if found else None


def _option(word: str) -> tuple[str, str]:
    key, _, value = word.partition("=")
    return key.lower(), value


def _subject(word: str) -> AuditFilter:
    """The one positional: ``<@U…>`` (or a bare user id), a customer, else a coupon code."""
    try:
        if actor := mentioned_user(word) or (word if _USER_ID.match(word) else None):
            return AuditFilter(actor=actor)
        if word.startswith("@"):
            raise UsageError(
                f"“{word[:40]}” isn't a Slack mention: type @ and pick the person from Slack's "
                "list, or give their user id (U…).",
                Verb.LOG,
            )
        if looks_like_customer(word):
            return AuditFilter(customer=parse_customer(word))
        return AuditFilter(code=parse_coupon_code(word))
    except InvalidInputError as error:
        raise UsageError(str(error), Verb.LOG) from None


def _options(found: AuditFilter, options: dict[str, str], now: datetime) -> AuditFilter:
    unknown = sorted(set(options) - {"action", "status", "since", "limit"})
    if unknown:
        raise UsageError(
            f"`log` options are action=, status=, since= and limit=; “{unknown[0]}=” isn't one.",
            Verb.LOG,
        )
    found = replace(found, limit=_limit(options.get("limit")))
    if "action" in options:
        found = replace(found, verb=_action(options["action"]))
    if "status" in options:
        found = replace(found, outcome=_status(options["status"]))
    if "since" in options:
        found = replace(found, since=_since(options["since"], now))
    return found


def _action(value: str) -> str:
    verb = VERB_ALIASES.get(value.lower())
    if verb is None:
        raise UsageError(
            f"action= takes a verb like redeem or issue, not “{value[:24]}”.", Verb.LOG
        )
    return verb.value


def _status(value: str) -> AuditOutcome:
    try:
        return AuditOutcome(value.lower())
    except ValueError:
        choices = _listing([o.value for o in AuditOutcome])
        raise UsageError(f"status= is one of {choices}.", Verb.LOG) from None


def _since(value: str, now: datetime) -> datetime:
    relative = _RELATIVE.match(value.lower())
    if relative:
        amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
        return now - timedelta(**{unit: amount})
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(
            "since= is a period like 7d, 24h or 2w, or a date like 2026-11-01.", Verb.LOG
        ) from None


def _limit(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise UsageError(f"limit= is a number from 1 to {MAX_LIMIT}.", Verb.LOG)
    return int(value)


def _listing(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + f" or {items[-1]}"
