"""Who may do what, where: the policy plus Slack user-group membership.

The policy itself is pure (:mod:`bot.policy`); this adds the one lookup it needs — the
user's group handles — from a cached directory, so a check costs no Slack call once warm.
"""

from __future__ import annotations

from typing import Protocol

from bot.blocks.messages import people, refusal
from bot.commands import Verb
from bot.policy import Decision, Policy, RefusalReason, Role

__all__ = ["Access", "GroupLookup"]


class GroupLookup(Protocol):
    """Which user groups (handles, without ``@``) a user belongs to."""

    async def groups_of(self, user_id: str) -> frozenset[str]: ...

    def group_id(self, handle: str) -> str | None:
        """The group's id (for a mention that notifies its members), if known."""
        ...


class Access:
    """Permission checks for one policy."""

    def __init__(self, policy: Policy, groups: GroupLookup | None = None):
        self.policy = policy
        self._groups = groups

    async def role_of(self, user_id: str) -> Role | None:
        """The user's highest role, or None."""
        handles: frozenset[str] = frozenset()
        if self._groups is not None and self.policy.groups():
            handles = await self._groups.groups_of(user_id)
        return self.policy.role_of(user_id, handles)

    def approver_mentions(self) -> str:
        """The approvers as mentions that notify them (``<@U…>``, ``<!subteam^S…|@group>``;
        a group whose id isn't known is plain ``@group``); admins when no approver is listed.
        "" when the policy names nobody (only ``*``)."""
        listed = self.policy.approvers() or self.policy.admins()
        return people(listed, "", self._groups.group_id if self._groups is not None else None)

    async def check(self, user_id: str, channel_id: str, verb: Verb) -> Decision:
        """May this user use ``verb`` in this channel?"""
        return self.policy.check(await self.role_of(user_id), verb, channel_id)

    async def allowed_verbs(self, user_id: str, channel_id: str) -> list[Verb]:
        """Every verb the user may use here, in grammar order."""
        role = await self.role_of(user_id)
        return [verb for verb in Verb if self.policy.check(role, verb, channel_id).allowed]

    def refusal_text(self, decision: Decision, verb: Verb) -> str:
        """The ephemeral answer to a refused request."""
        reason = decision.reason or RefusalReason.NO_ROLE
        needed = decision.needed.value if decision.needed is not None else None
        # Only someone whose role is merely too low can still look coupons up.
        can_look_up = reason is RefusalReason.ROLE_TOO_LOW and verb is not Verb.GET
        admins, channels = self.policy.admins(), self.policy.allowed_channels
        return refusal(reason, verb, needed, admins, can_look_up, channels)
