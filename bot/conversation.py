"""A command's conversation in the channel: the parent line, the result in its thread,
the parent's status emoji updated once the outcome is known.

Slack-facing glue between the service (domain) and the builders (pure).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditFilter, AuditRow
from bot.blocks.log import LINKED_ROWS, log_message
from bot.blocks.results import parent_message, result_message, status_key
from bot.commands import Check, Command, Get, Issue, LogQuery, Redeem, Resend, SeriesInfo
from bot.recording import Recorder, Scene, scene_of
from bot.service import CouponService, Outcome

__all__ = ["AuditReader", "Conversation", "RunnableCommand"]

log = logging.getLogger(__name__)

RunnableCommand = Get | SeriesInfo | Check | Resend | Issue | Redeem


class AuditReader(Protocol):
    """What ``/coupon log`` reads from (:class:`bot.storage.AuditLog`)."""

    async def flush(self) -> None: ...
    async def query(self, f: AuditFilter) -> list[AuditRow]: ...


class Conversation:
    """Runs a command in a thread of its own. One instance serves every request."""

    def __init__(
        self,
        client: AsyncWebClient,
        service: CouponService,
        *,
        currency: str = "₹",
        recorder: Recorder | None = None,
        audit: AuditReader | None = None,
    ):
        self._client = client
        self._service = service
        self._currency = currency
        self._recorder = recorder
        self._audit = audit

    async def run(
        self, actor_id: str, channel_id: str, command: RunnableCommand, team: str | None = None
    ) -> Outcome:
        """Post the parent, run the command, answer in the thread, update the parent."""
        ts = await self._post_parent(actor_id, channel_id, command)
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

    async def show_log(
        self, actor_id: str, channel_id: str, query: LogQuery, filters: AuditFilter
    ) -> None:
        """``/coupon log``: the matching audit rows in the thread, linked to their threads."""
        ts = await self._post_parent(actor_id, channel_id, query)
        if self._audit is None:
            raise RuntimeError("the audit log is not available in this process")
        await self._audit.flush()  # what was just done is part of the answer
        rows = await self._audit.query(filters)
        links = await self._permalinks(rows[:LINKED_ROWS])
        subject = query.text or "everything"
        message = log_message(subject, rows, links)
        await self._client.chat_postMessage(channel=channel_id, thread_ts=ts, **message.as_kwargs())
        await self._set_status(actor_id, channel_id, ts, query, "ok")

    async def _permalinks(self, rows: Sequence[AuditRow]) -> dict[tuple[str, str], str]:
        threads = {(r.event.channel, r.event.thread_ts) for r in rows}
        found: dict[tuple[str, str], str] = {}
        for channel, ts in threads:
            if channel and ts:
                with suppress(SlackApiError):  # a deleted thread: listed without a link
                    answer = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
                    found[(channel, ts)] = str(answer["permalink"])
        return found

    async def _post_parent(self, actor_id: str, channel_id: str, command: Command) -> str:
        message = parent_message(actor_id, command, "pending", self._currency)
        parent = await self._client.chat_postMessage(channel=channel_id, **message.as_kwargs())
        return str(parent["ts"])

    async def _audited(self, scene: Scene, command: RunnableCommand) -> Outcome:
        """Run the command; its Capillary calls and its outcome go to the audit log."""
        if self._recorder is None:
            return await self._service.run(command)
        with self._recorder.scene(scene):
            outcome = await self._service.run(command)
        self._recorder.outcome(scene, outcome)
        return outcome

    async def _set_status(
        self, actor_id: str, channel_id: str, ts: str, command: Command, status: str
    ) -> None:
        """Best effort: the answer is already in the thread, so a failed emoji update must
        not turn a done redeem into an error that invites a retry."""
        message = parent_message(actor_id, command, status, self._currency)
        try:
            await self._client.chat_update(channel=channel_id, ts=ts, **message.as_kwargs())
        except SlackApiError as error:
            log.warning("parent status not updated (%s)", error.response.get("error"))
