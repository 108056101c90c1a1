"""A command's conversation in the channel: the parent line, the result in its thread,
the parent's status emoji updated once the outcome is known.

Slack-facing glue between the service (domain) and the builders (pure).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.results import parent_message, result_message, status_key
from bot.commands import Check, Get, Issue, Redeem, Resend, SeriesInfo
from bot.recording import Recorder, Scene, scene_of
from bot.service import CouponService, Outcome

__all__ = ["Conversation", "RunnableCommand"]

log = logging.getLogger(__name__)

RunnableCommand = Get | SeriesInfo | Check | Resend | Issue | Redeem


class Conversation:
    """Runs a command in a thread of its own. One instance serves every request."""

    def __init__(
        self,
        client: AsyncWebClient,
        service: CouponService,
        *,
        currency: str = "₹",
        recorder: Recorder | None = None,
    ):
        self._client = client
        self._service = service
        self._currency = currency
        self._recorder = recorder

    async def run(
        self, actor_id: str, channel_id: str, command: RunnableCommand, team: str | None = None
    ) -> Outcome:
        """Post the parent, run the command, answer in the thread, update the parent."""
        parent = await self._client.chat_postMessage(
            channel=channel_id,
            **parent_message(actor_id, command, "pending", self._currency).as_kwargs(),
        )
        ts = str(parent["ts"])
        scene = replace(scene_of(command, actor_id, channel_id, team), thread_ts=ts)
        try:
            outcome = await self._audited(scene, command)
            await self._client.chat_postMessage(
                channel=channel_id,
                thread_ts=ts,
                **result_message(outcome, self._currency).as_kwargs(),
            )
        except Exception:
            # Something unexpected, maybe after Capillary acted: the parent must not claim
            # a failure. The error exit tells the user, with a correlation id.
            if self._recorder is not None:
                self._recorder.failed(scene)
            await self._set_status(actor_id, channel_id, ts, command, "unknown")
            raise
        await self._set_status(actor_id, channel_id, ts, command, status_key(outcome))
        return outcome

    async def _audited(self, scene: Scene, command: RunnableCommand) -> Outcome:
        """Run the command; its Capillary calls and its outcome go to the audit log."""
        if self._recorder is None:
            return await self._service.run(command)
        with self._recorder.scene(scene):
            outcome = await self._service.run(command)
        self._recorder.outcome(scene, outcome)
        return outcome

    async def _set_status(
        self, actor_id: str, channel_id: str, ts: str, command: RunnableCommand, status: str
    ) -> None:
        """Best effort: the answer is already in the thread, so a failed emoji update must
        not turn a done redeem into an error that invites a retry."""
        message = parent_message(actor_id, command, status, self._currency)
        try:
            await self._client.chat_update(channel=channel_id, ts=ts, **message.as_kwargs())
        except SlackApiError as error:
            log.warning("parent status not updated (%s)", error.response.get("error"))
