"""What the handlers are handed: the one service, the access checks, background work."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access
from bot.approval_flow import ApprovalFlow, Refused
from bot.background import Background
from bot.blocks.help import help_message
from bot.blocks.results import SlackMessage
from bot.commands import Issue, Redeem, Verb
from bot.conversation import Conversation, RunnableCommand
from bot.errors import error_exit
from bot.recording import Recorder

__all__ = ["Runtime"]


@dataclass(frozen=True, slots=True)
class Runtime:
    access: Access
    conversation: Conversation
    approvals: ApprovalFlow
    client: AsyncWebClient
    recorder: Recorder | None = None
    background: Background = field(default_factory=Background)

    async def begin(
        self, user: str, channel: str, command: RunnableCommand, team: str | None
    ) -> Refused | Coroutine[Any, Any, object]:
        """On the ack path: what continues after the ack, or why the command is refused.

        An issue or redeem opens its approval request first (a duplicate or one over the
        daily limit is refused); its card, or its action when none is needed, comes after.
        Any other command runs in a thread of its own.
        """
        if isinstance(command, Issue | Redeem):
            opened = await self.approvals.open(user, channel, command, team)
            return opened if isinstance(opened, Refused) else self.approvals.start(opened)
        return self.conversation.run(user, channel, command, team)

    async def help(self, user: str, channel: str, topic: Verb | None = None) -> SlackMessage:
        """``/coupon help [verb]`` for this user here: their role, the verbs they may use,
        their daily limits on those, and where the bot works when it doesn't work here."""
        role = await self.access.role_of(user)
        verbs = await self.access.allowed_verbs(user, channel)
        limits = [u for u in await self.approvals.usage(user) if u[0] in verbs]
        policy = self.access.policy
        elsewhere = None if policy.channel_allowed(channel) else policy.allowed_channels
        shown_role = role.value if role else None
        first = [v for v in verbs if policy.approval.needs_approval(v, role)]
        admins = policy.admins()
        return help_message(shown_role, verbs, admins, topic, limits, elsewhere, first)

    def after_ack(
        self,
        work: Coroutine[Any, Any, object],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Continue ``work`` once the ack is on its way; failures go to the error exit."""

        async def report(error: Exception) -> None:
            await error_exit(error, body, context, client)

        self.background.spawn(work, report)
