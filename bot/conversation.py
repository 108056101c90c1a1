"""A command's conversation in the channel: the parent line, the result in its thread,
the parent's status emoji updated once the outcome is known.

Slack-facing glue between the service (domain) and the builders (pure).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Sequence
from contextlib import suppress
from dataclasses import replace
from typing import Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import WHAT_HAPPENED, AuditFilter, AuditRow
from bot.audit_export import render
from bot.blocks.log import LINKED_ROWS, describe_filter, log_message
from bot.blocks.messages import ParentStatus
from bot.blocks.results import parent_message, result_message, status_key
from bot.commands import Check, Command, Get, Issue, LogQuery, Redeem, Resend, SeriesInfo
from bot.recording import Recorder, Scene, scene_of
from bot.service import CouponService, Outcome

__all__ = ["SLACK_FAILURES", "AuditReader", "Conversation", "RunnableCommand", "slack_failure"]

log = logging.getLogger(__name__)

#: Slack refused a call, or couldn't be reached (after the client's own retries).
SLACK_FAILURES = (SlackClientError, aiohttp.ClientError, TimeoutError)


def slack_failure(error: BaseException) -> str:
    """What went wrong, for a log line: Slack's error code, else the exception's type."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


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
        try:
            ts = await self.post_parent(actor_id, channel_id, command)
        except Exception:
            if self._recorder is not None:  # nothing reached Capillary
                scene = scene_of(command, actor_id, channel_id, team)
                self._recorder.not_run(scene, "the thread could not be started in Slack")
            raise
        scene = replace(scene_of(command, actor_id, channel_id, team), thread_ts=ts)
        try:
            outcome = await self.audited(scene, self._service.run(command))
        except Exception:
            # Something unexpected, maybe after Capillary acted: the parent must not claim
            # a failure. The error exit tells the user, with a correlation id.
            await self.set_status(actor_id, channel_id, ts, command, ParentStatus.UNKNOWN)
            raise
        try:
            await self._client.chat_postMessage(
                channel=channel_id,
                thread_ts=ts,
                **result_message(outcome, self._currency).as_kwargs(),
            )
        finally:  # the outcome is known (and audited) even when Slack didn't take the reply
            await self.set_status(actor_id, channel_id, ts, command, status_key(outcome))
        return outcome

    async def show_log(
        self, actor_id: str, channel_id: str, query: LogQuery, filters: AuditFilter
    ) -> None:
        """``/coupon log``: what happened (:data:`WHAT_HAPPENED`: results, refusals, approval
        steps) among the matching audit rows, in the thread, linked to their threads; every
        row, commands and Capillary calls too, is in ``coupon-bot audit``. With no ``limit=``
        every match counts (up to the log's cap), as in the CLI."""
        ts = await self.post_parent(actor_id, channel_id, query)
        if self._audit is None:
            raise RuntimeError("the audit log is not available in this process")
        await self._audit.flush()  # what was just done is part of the answer
        rows = await self._audit.query(replace(filters, events=WHAT_HAPPENED))
        links = await self._permalinks(rows[:LINKED_ROWS])
        message = log_message(describe_filter(filters), rows, links)
        await self._client.chat_postMessage(channel=channel_id, thread_ts=ts, **message.as_kwargs())
        if len(rows) > LINKED_ROWS:
            await self._attach_csv(channel_id, ts, filters, rows)
        await self.set_status(actor_id, channel_id, ts, query, ParentStatus.OK)

    async def _attach_csv(
        self, channel_id: str, ts: str, filters: AuditFilter, rows: Sequence[AuditRow]
    ) -> None:
        """Best effort: every row as CSV (customers masked) in the thread; if Slack refuses
        the file, the thread says so and names the export that always works."""
        try:
            await self._client.files_upload_v2(
                channel=channel_id,
                thread_ts=ts,
                content=render(rows, "csv"),
                filename=f"coupon-log-{_slug(filters)}.csv",
                title=f"Audit log: {len(rows)} events",
            )
        except (SlackApiError, SlackRequestError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("audit log CSV not attached (%s)", reason)
            text = (
                "The full list could not be attached as a CSV file. "
                "To export it: `coupon-bot audit` (csv, json)."
            )
            await self._client.chat_postMessage(channel=channel_id, thread_ts=ts, text=text)

    async def _permalinks(self, rows: Sequence[AuditRow]) -> dict[tuple[str, str], str]:
        threads = {(r.event.channel, r.event.thread_ts) for r in rows}
        found: dict[tuple[str, str], str] = {}
        for channel, ts in threads:
            if channel and ts:
                with suppress(SlackApiError):  # a deleted thread: listed without a link
                    answer = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
                    found[(channel, ts)] = str(answer["permalink"])
        return found

    async def post_parent(
        self,
        actor_id: str,
        channel_id: str,
        command: Command,
        status: ParentStatus = ParentStatus.PENDING,
    ) -> str:
        """The command's line in the channel; its ts is the thread everything else goes in."""
        message = parent_message(actor_id, command, status, self._currency)
        parent = await self._client.chat_postMessage(channel=channel_id, **message.as_kwargs())
        return str(parent["ts"])

    async def audited(
        self, scene: Scene, work: Awaitable[Outcome], *, final: bool = True
    ) -> Outcome:
        """Await ``work``; its Capillary calls and (when ``final``: it is the command's end,
        not a pre-check on the way) its outcome go to the audit log."""
        if self._recorder is None:
            return await work
        if not final:
            with self._recorder.scene(scene):
                return await work
        try:
            with self._recorder.scene(scene):
                outcome = await work
        except Exception:
            self._recorder.failed(scene)  # unexpected, maybe after Capillary acted: unknown
            raise
        self._recorder.outcome(scene, outcome)
        return outcome

    async def set_status(
        self, actor_id: str, channel_id: str, ts: str, command: Command, status: ParentStatus
    ) -> None:
        """Best effort: the answer is already in the thread, so a failed emoji update must
        not turn a done redeem into an error that invites a retry."""
        message = parent_message(actor_id, command, status, self._currency)
        try:
            await self._client.chat_update(channel=channel_id, ts=ts, **message.as_kwargs())
        except SLACK_FAILURES as error:
            log.warning("parent status not updated (%s)", slack_failure(error))


def _slug(f: AuditFilter) -> str:
    """A file-name part naming the query: the coupon or series, else only *that* it was a
    customer or a user (their identifiers never go into a file name)."""
    if f.code or f.series_id:
        return re.sub(r"[^A-Za-z0-9_]+", "-", f.code or f.series_id or "")[:40].strip("-")
    return "customer" if f.customer else "user" if f.actor else "everything"
