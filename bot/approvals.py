"""Approval requests: their states, who may decide them, and what makes two the same. Pure.

Every issue and redeem becomes a :class:`Request`, whether or not it needs a second person:
the stored state is what makes execution exactly-once and what survives a restart.

States (a compare-and-set on the stored state moves a request along one arrow at a time)::

    pending ──approve──▶ approved ──▶ executing ──▶ done | failed | unknown
       │
       ├──reject──▶ rejected
       └──time────▶ expired

A request that needs no approval is stored as ``approved`` and executed at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.capillary.identifiers import InvalidInputError, parse_customer
from bot.capillary.models import CustomerInfo
from bot.commands import Issue, Redeem, Verb
from bot.policy import Policy, Role

__all__ = [
    "DUPLICATE_WINDOW",
    "LIMIT_WINDOW",
    "LIVE",
    "Blocked",
    "PreCheck",
    "Request",
    "State",
    "Why",
    "dedup_key",
    "echoed_keys",
    "may_decide",
    "new_request_id",
    "why_approval",
]

#: The same issue/redeem is refused this long after an earlier one succeeded (DESIGN.md).
DUPLICATE_WINDOW = timedelta(minutes=10)
#: ``[limits]`` count a person's requests over this rolling window ("per day").
LIMIT_WINDOW = timedelta(hours=24)


class State(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXECUTING = "executing"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"
    REJECTED = "rejected"
    EXPIRED = "expired"


#: Requests still on their way: a duplicate of one of these is refused.
LIVE = frozenset({State.PENDING, State.APPROVED, State.EXECUTING})


class Why(StrEnum):
    """Why a request waits for a second person."""

    POLICY = "policy"  # the verb is in [approval].required_for
    APPROVER_OWN = "approver_own"  # approvers_need_approval: an approver's own request


@dataclass(frozen=True, slots=True)
class PreCheck:
    """What Capillary said at request time: would it work? ``ok`` None: it couldn't say."""

    ok: bool | None
    summary: str  # plain words: "redeemable now, 1 redemption left"


@dataclass(frozen=True, slots=True)
class Request:
    """One issue or redeem, as stored. ``why`` is None when it needs no approval."""

    id: str
    command: Issue | Redeem
    requester: str
    channel: str
    state: State
    created_at: datetime
    expires_at: datetime
    why: Why | None = None
    team: str | None = None
    thread_ts: str | None = None
    card_ts: str | None = None
    link: str | None = None  # permalink of the thread, for duplicate refusals and lists
    precheck: PreCheck | None = None
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    note: str | None = None  # the approver's note, or the reason for a rejection
    finished_at: datetime | None = None
    result: str | None = None  # one line: what happened

    @property
    def verb(self) -> Verb:
        return self.command.verb

    @property
    def needs_approval(self) -> bool:
        return self.why is not None

    @property
    def subject(self) -> str:
        """The coupon code or ``series 1001``: what the request is about."""
        if isinstance(self.command, Redeem):
            return self.command.code
        return f"series {self.command.series_id}"

    def timed_out(self, now: datetime) -> bool:
        """Still pending, but past its time (an expiry round may not have marked it yet)."""
        return self.state is State.PENDING and now >= self.expires_at


def new_request_id() -> str:
    """A short id people can quote (``R7F3A9C21``); it rides in button values."""
    return f"R{secrets.token_hex(4).upper()}"


def dedup_key(command: Issue | Redeem) -> str:
    """What makes two requests "the same": verb, series or code, and customer."""
    what = command.code if isinstance(command, Redeem) else command.series_id
    customer = command.customer
    return f"{command.verb.value}:{what}:{customer.kind.value}:{customer.key}"


def echoed_keys(command: Issue | Redeem, echoed: CustomerInfo | None) -> frozenset[str]:
    """The duplicate keys of the customer as Capillary echoed them once the request was
    done (mobile, email, external id, customer id): asked again for the same person typed
    another way (their email after their mobile), it is the same request. Its own key and
    anything unreadable are left out."""
    if echoed is None:
        return frozenset()
    typed = (
        echoed.mobile,
        echoed.email,
        f"ext:{echoed.external_id}" if echoed.external_id else None,
        f"id:{echoed.id}" if echoed.id else None,
    )
    keys = set()
    for text in filter(None, typed):
        try:
            customer = parse_customer(text)
        except InvalidInputError:
            continue
        keys.add(dedup_key(replace(command, customer=customer)))
    return frozenset(keys - {dedup_key(command)})


def why_approval(policy: Policy, verb: Verb, role: Role | None) -> Why | None:
    """Why ``verb`` asked by someone with ``role`` waits for an approver, or None."""
    if not policy.approval.needs_approval(verb, role):
        return None
    if role is not None and role >= Role.APPROVER:
        return Why.APPROVER_OWN
    return Why.POLICY


class Blocked(StrEnum):
    """Why a user may not decide a request (checked in this order)."""

    EXPIRED = "expired"
    DECIDED = "decided"  # someone already approved or rejected it, or it ran
    OWN_REQUEST = "own_request"
    NOT_APPROVER = "not_approver"
    # approve only: the policy no longer lets the requester ask for this (their role, or
    # this channel, was taken away while it waited); it can still be rejected
    REQUESTER_NOT_ALLOWED = "requester_not_allowed"


def may_decide(
    request: Request,
    user_id: str,
    role: Role | None,
    now: datetime,
    *,
    approve: bool = False,
    requester_allowed: bool = True,
) -> Blocked | None:
    """May this user approve (``approve``) or reject this request now? None when they may.
    ``requester_allowed``: does the policy still let the requester ask for it, here?"""
    if request.state is State.EXPIRED or request.timed_out(now):
        return Blocked.EXPIRED
    if request.state is not State.PENDING:
        return Blocked.DECIDED
    if user_id == request.requester:
        return Blocked.OWN_REQUEST
    if role is None or role < Role.APPROVER:
        return Blocked.NOT_APPROVER
    if approve and not requester_allowed:
        return Blocked.REQUESTER_NOT_ALLOWED
    return None
