"""The audit log's domain: what one audited event says, how rows are hash-chained, filters.

Pure: no SQLite, no Slack. :mod:`bot.storage.audit_log` stores these.

Tamper evidence: each row's ``hash`` is ``sha256(prev_hash + canonical JSON of the event)``
and its ``prev_hash`` is the hash of the row before it (:data:`GENESIS` for the first row).
Editing any stored value changes that row's hash; deleting a row breaks the next row's link.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any

from bot.capillary.identifiers import CustomerId, mask_text, scrub

__all__ = [
    "EVENT_FIELDS",
    "GENESIS",
    "MAX_LIMIT",
    "WHAT_HAPPENED",
    "AuditEvent",
    "AuditEventKind",
    "AuditFilter",
    "AuditOutcome",
    "AuditRow",
    "Scalar",
    "VerifyResult",
    "chain_hash",
    "event_fields",
    "format_time",
    "hash_fields",
]

GENESIS = "0" * 64
#: The most rows one query returns (``limit=`` goes up to it; an export reads page by page).
MAX_LIMIT = 1000
Scalar = str | int | float | None


class AuditEventKind(StrEnum):
    COMMAND = "command"
    REFUSED = "refused"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CAPILLARY_CALL = "capillary_call"
    OUTCOME = "outcome"


#: What happened, without the plumbing: how each command ended, refusals and each approval
#: step; not each command as received nor each Capillary call on its way (``/coupon log``).
WHAT_HAPPENED = frozenset(
    {
        AuditEventKind.OUTCOME,
        AuditEventKind.REFUSED,
        AuditEventKind.APPROVAL_REQUESTED,
        AuditEventKind.APPROVED,
        AuditEventKind.REJECTED,
        AuditEventKind.EXPIRED,
    }
)


class AuditOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    UNKNOWN = "unknown"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited event. ``at`` must be timezone-aware; it is kept in UTC."""

    event: AuditEventKind
    at: datetime
    actor: str | None = None  # Slack user id
    verb: str | None = None
    code: str | None = None  # coupon code (upper-case)
    series_id: str | None = None
    customer_kind: str | None = None  # a CustomerKind value
    customer: str | None = None  # normalised, as CustomerId.value; shown only masked
    outcome: AuditOutcome | None = None
    capillary_endpoint: str | None = None
    capillary_request_id: str | None = None
    http_status: int | None = None
    capillary_code: str | None = None
    capillary_message: str | None = None
    latency_ms: float | None = None
    approval_id: str | None = None
    team: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    detail: str | None = None  # short free text (a refusal reason); never a customer identifier

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("AuditEvent.at must be timezone-aware (UTC)")
        # Normalised here so the hash of the event equals the hash of the row read back.
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        if self.latency_ms is not None:
            latency = float(self.latency_ms)
            object.__setattr__(self, "latency_ms", latency if math.isfinite(latency) else None)


EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AuditEvent))


@dataclass(frozen=True, slots=True)
class AuditRow:
    """A stored event with its id and chain hashes."""

    id: int
    hash: str
    prev_hash: str
    event: AuditEvent

    def masked_customer(self) -> str | None:
        customer = self.event.customer
        return None if customer is None else mask_text(customer)

    def as_json(self) -> dict[str, Scalar]:
        """The row as ``coupon-bot audit --format json`` prints it: customer masked."""
        values: dict[str, Scalar] = {"id": self.id}
        values.update(event_fields(self.event))
        values["customer"] = self.masked_customer()
        message = self.event.capillary_message
        values["capillary_message"] = scrub(message) if message else message
        values["prev_hash"] = self.prev_hash
        values["hash"] = self.hash
        return values


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for; every field set narrows the result. A mobile ``customer`` matches
    however its number was typed (with or without the country code). ``limit`` is None when
    none was asked for: a query then returns every match up to :data:`MAX_LIMIT`."""

    code: str | None = None
    series_id: str | None = None
    customer: CustomerId | None = None
    actor: str | None = None
    verb: str | None = None
    event: AuditEventKind | None = None
    events: frozenset[AuditEventKind] | None = None  # only these kinds (:data:`WHAT_HAPPENED`)
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    reason: str | None = None


def format_time(at: datetime) -> str:
    """Fixed-width ISO 8601 in UTC, so stored times sort and compare as text."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a naive datetime is ambiguous here: give it a timezone (UTC)")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_fields(event: AuditEvent) -> dict[str, Scalar]:
    """The event as the plain values that are stored and hashed, keyed by field name.

    Each value gets its column's type (a series id given as a number becomes text), so what
    is hashed now is exactly what SQLite hands back when the row is verified later.
    """
    values: dict[str, Scalar] = {}
    for name, plain, convert in _RULES:
        value: Any = getattr(event, name)
        # Checked cheaply first: this runs for every row written and every row verified.
        if value is not None and type(value) is not plain:
            value = convert(value)
        values[name] = value
    return values


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _rule(name: str, annotation: object) -> tuple[str, type, Callable[[Any], Scalar]]:
    if name == "at":
        return name, type(None), format_time  # never taken as it is: always formatted
    if annotation == "int | None":
        return name, int, int
    if annotation == "float | None":
        return name, float, float
    # Enums are str subclasses, never exactly str, so they always go through _text.
    return name, str, _text


_RULES = tuple(_rule(f.name, f.type) for f in fields(AuditEvent))


def hash_fields(prev_hash: str, values: Mapping[str, Scalar]) -> str:
    """sha256 hex of ``prev_hash`` + canonical JSON (sorted keys, no spaces) of ``values``."""
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    """The hash of the row holding ``event`` after a row whose hash is ``prev_hash``."""
    return hash_fields(prev_hash, event_fields(event))
