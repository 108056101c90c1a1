"""What an agent asked for, as plain data: the result of parsing ``/coupon …`` or a modal.

No Slack and no I/O here. :mod:`bot.grammar` turns text into these; the service runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.capillary.identifiers import CustomerId

__all__ = [
    "Check",
    "Command",
    "Get",
    "Help",
    "Issue",
    "LogQuery",
    "OpenForm",
    "Pending",
    "Redeem",
    "Resend",
    "SeriesInfo",
    "UsageError",
    "Verb",
]


class Verb(StrEnum):
    """The sub-verbs of ``/coupon`` (aliases are resolved by the grammar)."""

    HELP = "help"
    GET = "get"
    SERIES = "series"
    CHECK = "check"
    RESEND = "resend"
    ISSUE = "issue"
    REDEEM = "redeem"
    LOG = "log"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Help:
    topic: Verb | None = None
    verb = Verb.HELP


@dataclass(frozen=True, slots=True)
class Get:
    codes: tuple[str, ...]
    customer: CustomerId | None = None
    verb = Verb.GET


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    series_id: str
    verb = Verb.SERIES


@dataclass(frozen=True, slots=True)
class Check:
    code: str
    customer: CustomerId
    verb = Verb.CHECK


@dataclass(frozen=True, slots=True)
class Resend:
    code: str
    customer: CustomerId
    verb = Verb.RESEND


@dataclass(frozen=True, slots=True)
class Issue:
    series_id: str
    customer: CustomerId
    verb = Verb.ISSUE


@dataclass(frozen=True, slots=True)
class Redeem:
    code: str
    customer: CustomerId
    bill_number: str | None = None
    bill_amount: Decimal | None = None
    validation_code: str | None = None
    verb = Verb.REDEEM


@dataclass(frozen=True, slots=True)
class LogQuery:
    """``/coupon log …``: ``text`` holds its filters, parsed by :mod:`bot.logquery`."""

    text: str = ""
    verb = Verb.LOG


@dataclass(frozen=True, slots=True)
class Pending:
    verb = Verb.PENDING


Command = Help | Get | SeriesInfo | Check | Resend | Issue | Redeem | LogQuery | Pending


@dataclass(frozen=True, slots=True)
class OpenForm:
    """Arguments are missing: open the verb's modal (or the action menu when ``verb`` is None)
    prefilled with what was given, keyed by :class:`bot.ids.BlockId` values."""

    verb: Verb | None
    prefill: Mapping[str, str] = field(default_factory=dict)


class UsageError(ValueError):
    """The text can't be a command. ``str(error)`` is the specific problem, for the agent;
    ``verb`` (when known) lets the reply add that verb's usage line."""

    def __init__(self, message: str, verb: Verb | None = None):
        super().__init__(message)
        self.verb = verb
