"""Who may do what, and where: roles, channels, approvals and limits from ``policy.toml``.

Pure rules (DESIGN.md "Roles and policy"): no Slack, no SQLite. Resolving a user's Slack
user groups is the caller's job (:mod:`bot.access`); :meth:`Policy.role_of` is handed them.

- Roles, lowest first: viewer < agent < approver < admin; each can do what those below can.
- :data:`MINIMUM_ROLE` says which role each verb needs; ``help`` needs none.
- ``[audit] retention_days`` (optional) becomes :attr:`Policy.audit_retention`; absent, the
  audit log keeps every row (:mod:`bot.retention` prunes the older ones when it is set).
- :meth:`Policy.check` refuses, in this order: a channel not on the allow-list (every verb but
  ``help``), then a user with no role (:data:`NO_POLICY` when nobody is configured at all),
  then a role below the verb's minimum.

A policy file that is wrong in any way is refused whole with a :class:`PolicyError` that names
the file, the key and the problem: a typo must not quietly grant or withhold access.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.commands import Verb

__all__ = [
    "APPROVABLE",
    "EVERYONE",
    "MAX_RETENTION_DAYS",
    "MINIMUM_ROLE",
    "NO_POLICY",
    "ApprovalRules",
    "Decision",
    "Limits",
    "Policy",
    "PolicyError",
    "RefusalReason",
    "Role",
    "load_policy",
    "parse_duration",
    "parse_policy",
]

EVERYONE = "*"  # a member entry that matches every user


class PolicyError(ValueError):
    """The policy file can't be used; the message names the file, the key and what is wrong."""


class Role(StrEnum):
    """A user's role, ordered by rank (``Role.VIEWER < Role.ADMIN``), not alphabetically."""

    VIEWER = "viewer"
    AGENT = "agent"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer up to 3 for admin."""
        return list(Role).index(self)

    def __lt__(self, other: str) -> bool:
        return self.rank < other.rank if isinstance(other, Role) else NotImplemented

    def __le__(self, other: str) -> bool:
        return self.rank <= other.rank if isinstance(other, Role) else NotImplemented

    def __gt__(self, other: str) -> bool:
        return self.rank > other.rank if isinstance(other, Role) else NotImplemented

    def __ge__(self, other: str) -> bool:
        return self.rank >= other.rank if isinstance(other, Role) else NotImplemented


#: The lowest role that may use each verb; None means anyone, even with no role.
MINIMUM_ROLE: Mapping[Verb, Role | None] = MappingProxyType(
    {
        Verb.HELP: None,
        Verb.GET: Role.VIEWER,
        Verb.SERIES: Role.VIEWER,
        Verb.CHECK: Role.VIEWER,
        Verb.LOG: Role.VIEWER,
        Verb.PENDING: Role.VIEWER,
        Verb.RESEND: Role.AGENT,
        Verb.ISSUE: Role.AGENT,
        Verb.REDEEM: Role.AGENT,
    }
)


class RefusalReason(StrEnum):
    """Why :meth:`Policy.check` said no."""

    NO_POLICY = "no_policy"  # nobody has any role: no policy file (or one that names nobody)
    NO_ROLE = "no_role"  # the policy names people, but not this user
    ROLE_TOO_LOW = "role_too_low"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this role use this verb here?"; ``needed`` is the verb's minimum."""

    allowed: bool
    reason: RefusalReason | None = None
    needed: Role | None = None


#: The verbs that can wait for an approver: the ones that move money.
APPROVABLE = frozenset({Verb.ISSUE, Verb.REDEEM})


@dataclass(frozen=True, slots=True)
class ApprovalRules:
    """``[approval]``: which verbs wait for a second person, and for how long."""

    required_for: frozenset[Verb] = APPROVABLE
    expires_after: timedelta = timedelta(hours=4)
    approvers_need_approval: bool = True

    def __post_init__(self) -> None:
        if not self.required_for <= APPROVABLE:  # nothing else goes through approvals
            raise ValueError(
                f"only issue and redeem can wait for approval, not {self.required_for}"
            )

    def needs_approval(self, verb: Verb, role: Role | None) -> bool:
        """Whether ``verb`` asked for by someone with ``role`` must wait for an approver."""
        if verb not in self.required_for:
            return False
        return self.approvers_need_approval or role is None or role < Role.APPROVER


@dataclass(frozen=True, slots=True)
class Limits:
    """``[limits]``: per-agent daily caps; None means no limit."""

    issue_per_agent_per_day: int | None = None
    redeem_per_agent_per_day: int | None = None

    def per_day(self, verb: Verb) -> int | None:
        """The daily cap on ``verb`` for one agent, or None."""
        caps = {
            Verb.ISSUE: self.issue_per_agent_per_day,
            Verb.REDEEM: self.redeem_per_agent_per_day,
        }
        return caps.get(verb)


@dataclass(frozen=True)
class Policy:
    """A loaded ``policy.toml``; ``members`` as written: ``U…`` ids, ``@handle`` groups, ``*``."""

    members: Mapping[Role, tuple[str, ...]] = field(default_factory=dict)
    allowed_channels: frozenset[str] = frozenset()  # empty: any channel
    approval: ApprovalRules = field(default_factory=ApprovalRules)
    limits: Limits = field(default_factory=Limits)
    audit_retention: timedelta | None = None  # ``[audit] retention_days``; None: keep forever

    @property
    def configured(self) -> bool:
        """Whether anyone at all has a role (False for :data:`NO_POLICY`)."""
        return any(self.members.values())

    def groups(self) -> frozenset[str]:
        """Every user-group handle the policy mentions, without the ``@``."""
        return frozenset(m[1:] for ms in self.members.values() for m in ms if m.startswith("@"))

    def role_of(self, user_id: str, groups_of_user: Collection[str]) -> Role | None:
        """The highest role listing the user's id, one of their group handles, or ``*``."""
        names = {user_id, EVERYONE, *(f"@{g.removeprefix('@').lower()}" for g in groups_of_user)}
        listed = (role for role, members in self.members.items() if names.intersection(members))
        return max(listed, default=None)

    def channel_allowed(self, channel_id: str) -> bool:
        """Whether the bot answers in this channel (any channel when no allow-list is set)."""
        return not self.allowed_channels or channel_id in self.allowed_channels

    def check(self, role: Role | None, verb: Verb, channel_id: str) -> Decision:
        """May someone with ``role`` use ``verb`` in this channel?"""
        needed = MINIMUM_ROLE[verb]
        if needed is None:
            return Decision(allowed=True)
        reason = self._refusal(role, needed, channel_id)
        return Decision(reason is None, reason, needed)

    def _refusal(self, role: Role | None, needed: Role, channel_id: str) -> RefusalReason | None:
        if not self.channel_allowed(channel_id):
            return RefusalReason.CHANNEL_NOT_ALLOWED
        if role is None:
            return RefusalReason.NO_ROLE if self.configured else RefusalReason.NO_POLICY
        return RefusalReason.ROLE_TOO_LOW if role < needed else None

    def admins(self) -> tuple[str, ...]:
        """Who grants access, as written in ``[roles].admin``."""
        return tuple(self.members.get(Role.ADMIN, ()))

    def approvers(self) -> tuple[str, ...]:
        """Who approves, as written in ``[roles].approver`` (admins may approve too)."""
        return tuple(self.members.get(Role.APPROVER, ()))

    def may_approve(self, role: Role | None) -> bool:
        """Whether ``role`` may approve or reject someone else's request."""
        return role is not None and role >= Role.APPROVER


#: Nobody has any role: only ``help`` is allowed.
NO_POLICY = Policy()


# ---------------------------------------------------------------------------------------------
# Reading the file. Each key has a converter that returns the value or raises _Invalid with
# the rest of the sentence ("must be …; got …"); the reader adds the file and the key.

_DURATION = re.compile(r"(?:([0-9]{1,6})d)?(?:([0-9]{1,6})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,6})s)?")
_DURATION_UNITS = ("days", "hours", "minutes", "seconds")
_MEMBER = re.compile(r"[UW][A-Z0-9]+|@[a-z0-9._-]+|\*")
_CHANNEL = re.compile(r"[CGD][A-Z0-9]+")
_VERBS = frozenset(verb.value for verb in Verb)
_KINDS: Mapping[type[object], str] = {dict: "a table", list: "a list"}


def parse_duration(text: str) -> timedelta:
    """``"4h"``, ``"30m"``, ``"2d"``, ``"90s"``, ``"1h30m"`` → a positive timedelta."""
    match = _DURATION.fullmatch("".join(text.lower().split()))
    if match is None or not any(match.groups()):
        raise PolicyError(
            f'"{text[:40]}" is not a duration: use a number and a unit, like "4h", "30m", '
            '"2d", "90s" or "1h30m".'
        )
    parts = {unit: int(n) for unit, n in zip(_DURATION_UNITS, match.groups(), strict=True) if n}
    duration = timedelta(**parts)
    if not duration:
        raise PolicyError(f'"{text}" is no time at all: a duration must be longer than zero.')
    return duration


class _Invalid(Exception):
    """A value's problem, worded to follow its key: "must be …; got …"."""


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value[:40]}"'
    return _KINDS.get(type(value)) or str(value)[:40]


def _strings(value: object, expected: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"{expected}; got {_show(value)}")
    for item in value:
        if not isinstance(item, str):
            raise _Invalid(f"{expected}; got {_show(item)}")
    return tuple(value)


def _members(value: object) -> tuple[str, ...]:
    members = _strings(value, "must be a list of user ids (U…) or @group handles")
    for member in members:
        if not _MEMBER.fullmatch(member):
            raise _Invalid(
                f"has {_show(member)}, which is not a user id (U…), a lower-case @group handle "
                f'or "*"'
            )
    return members


def _channels(value: object) -> frozenset[str]:
    channels = _strings(value, "must be a list of channel ids like C01SUPPORT")
    for channel in channels:
        if not _CHANNEL.fullmatch(channel):
            raise _Invalid(
                f"has {_show(channel)}, which is not a channel id: use ids like C01SUPPORT "
                "(shown at the bottom of the channel's About tab), not names"
            )
    return frozenset(channels)


def _verbs(value: object) -> frozenset[Verb]:
    names = _strings(value, 'must be a list of verbs like "issue"')
    for name in names:
        if name not in _VERBS:
            known = ", ".join(Verb)
            raise _Invalid(f"has {_show(name)}, which is not a verb; verbs are {known}")
    return frozenset(Verb(name) for name in names)


def _approvable(value: object) -> frozenset[Verb]:
    verbs = _verbs(value)
    for verb in sorted(verbs - APPROVABLE):
        raise _Invalid(f"has {_show(verb.value)}: only issue and redeem can wait for approval")
    return verbs


def _duration(value: object) -> timedelta:
    problem = _Invalid(f'must be a duration like "4h", "30m" or "1h30m"; got {_show(value)}')
    if not isinstance(value, str):
        raise problem
    try:
        return parse_duration(value)
    except PolicyError:
        raise problem from None


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false; got {_show(value)}")
    return value


def _limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(
            f"must be a whole number of 1 or more (leave it out for no limit); got {_show(value)}"
        )
    return value


#: The longest ``[audit] retention_days`` accepted: 100 years (a larger number is a typo).
MAX_RETENTION_DAYS = 36_500


def _retention(value: object) -> timedelta:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_RETENTION_DAYS
    ):
        raise _Invalid(
            f"must be a whole number of days from 1 to {MAX_RETENTION_DAYS} (leave it out to "
            f"keep every row); got {_show(value)}"
        )
    return timedelta(days=value)


_Converter = Callable[[object], Any]

#: Every table and key the file may have, with its converter.
_SCHEMA: Mapping[str, Mapping[str, _Converter]] = {
    "roles": {role.value: _members for role in reversed(Role)},
    "channels": {"allowed": _channels},
    "approval": {
        "required_for": _approvable,
        "expires_after": _duration,
        "approvers_need_approval": _flag,
    },
    "limits": {"issue_per_agent_per_day": _limit, "redeem_per_agent_per_day": _limit},
    "audit": {"retention_days": _retention},
}


def _unknown(found: str, known: Collection[str], show: Callable[[str], str]) -> str:
    close = difflib.get_close_matches(found, known, n=1)
    hint = f" Did you mean {show(close[0])}?" if close else ""
    return f"{hint} Expected {', '.join(show(k) for k in known)}."


def _table(document: Mapping[str, object], name: str, source: str) -> dict[str, Any]:
    raw = document.get(name, {})
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: {name} must be a table ([{name}]); got {_show(raw)}")
    keys = _SCHEMA[name]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in keys:
            raise PolicyError(f"{source}: unknown key [{name}].{key}." + _unknown(key, keys, str))
        try:
            values[key] = keys[key](value)
        except _Invalid as problem:
            raise PolicyError(f"{source}: [{name}].{key} {problem}") from None
    return values


def _document(text: str, source: str) -> dict[str, Any]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{source}: not valid TOML: {error}") from None
    for name in document:
        if name not in _SCHEMA:
            hint = _unknown(name, _SCHEMA, lambda table: f"[{table}]")
            raise PolicyError(f"{source}: unknown table [{name}]." + hint)
    return document


def parse_policy(text: str, source: str = "policy.toml") -> Policy:
    """Parse a policy file's text; ``source`` names it in every :class:`PolicyError`."""
    document = _document(text, source)
    tables = {name: _table(document, name, source) for name in _SCHEMA}
    return Policy(
        members={Role(role): members for role, members in tables["roles"].items()},
        allowed_channels=tables["channels"].get("allowed", frozenset()),
        approval=ApprovalRules(**tables["approval"]),
        limits=Limits(**tables["limits"]),
        audit_retention=tables["audit"].get("retention_days"),
    )


def load_policy(path: Path) -> Policy:
    """Read and parse the policy file; a missing file is :data:`NO_POLICY` (only help works)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NO_POLICY
    except OSError as error:
        raise PolicyError(f"{path}: can't be read ({error.strerror or error}).") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: is not UTF-8 text.") from None
    return parse_policy(text, str(path))
