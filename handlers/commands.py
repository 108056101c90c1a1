"""``/coupon``: parse and authorize, ack, then one service call → reply in a thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import payload
from bot.approval_flow import Refused
from bot.audit import AuditFilter
from bot.blocks.messages import usage_reply
from bot.blocks.modals import action_menu, verb_form
from bot.commands import (
    Check,
    Command,
    Get,
    Help,
    Issue,
    LogQuery,
    OpenForm,
    Pending,
    Redeem,
    Resend,
    SeriesInfo,
    UsageError,
    Verb,
)
from bot.grammar import parse_command, usage
from bot.ids import SLASH_COMMAND
from bot.logquery import parse_log_filters
from bot.policy import RefusalReason
from bot.recording import scene_of
from bot.runtime import Runtime

__all__ = ["register"]


class CouponCommand(AsyncMiddleware):
    """``/coupon``, whole: parse, authorize, ack, and hand anything slow to after the ack.

    A global class middleware rather than ``app.command()`` with a listener: Bolt then
    neither matches listeners nor builds keyword arguments (twice: for the matcher and for
    the listener), which was most of an ack's cost under a burst of commands. Slack's
    signature is checked before this runs (Bolt's built-in middleware come first), and an
    exception here reaches the error exit like one from a listener.
    """

    def __init__(self, runtime: Runtime):
        self._runtime = runtime

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        if body.get("command") != SLASH_COMMAND:
            return await next()
        ack = req.context.ack
        user, channel = payload.text(body, "user_id"), payload.text(body, "channel_id")
        if user is None or channel is None:  # Slack always sends both
            return BoltResponse(status=400, body="a slash command needs user_id and channel_id")
        try:
            parsed, filters = parse_slash(str(body.get("text") or ""))
        except UsageError as error:
            reply = usage_reply(str(error), usage(error.verb))
            return await ack(response_type="ephemeral", text=reply)
        # The action menu (bare /coupon) needs at least the right to look coupons up.
        verb = (parsed.verb or Verb.GET) if isinstance(parsed, OpenForm) else parsed.verb
        access = self._runtime.access
        decision = await access.check(user, channel, verb)
        if not decision.allowed:
            self._audit(parsed, verb, user, body, refused=decision.reason)
            return await ack(response_type="ephemeral", text=access.refusal_text(decision, verb))
        if not isinstance(parsed, OpenForm):  # a form is audited when it is submitted
            self._audit(parsed, verb, user, body, refused=None)
        return await self._answer(parsed, filters, user, channel, body, req.context)

    async def _answer(
        self,
        parsed: Command | OpenForm,
        filters: AuditFilter | None,
        user: str,
        channel: str,
        body: dict[str, Any],
        context: AsyncBoltContext,
    ) -> BoltResponse:
        """The ack for an allowed command, and what continues after it."""
        runtime, ack, client = self._runtime, context.ack, context.client
        trigger = payload.text(body, "trigger_id")
        team = payload.text(body, "team_id")
        match parsed:
            case OpenForm() if trigger is None:
                return await ack(text="Type the whole command: `/coupon help` shows how.")
            case OpenForm(verb=None):
                after: Coroutine[Any, Any, object] = _open_menu(
                    runtime, client, str(trigger), user, channel
                )
            case OpenForm(verb=Verb() as verb, prefill=prefill):
                form = verb_form(verb, channel, prefill)
                after = client.views_open(trigger_id=str(trigger), view=form)
            case Help(topic=topic):
                return await ack(**(await runtime.help(user, channel, topic)).as_kwargs())
            case Pending():
                message = await runtime.approvals.pending_message(channel)
                return await ack(response_type="ephemeral", **message.as_kwargs())
            case LogQuery():
                assert filters is not None, "parsed with the command"
                after = runtime.conversation.show_log(user, channel, parsed, filters)
            case Get() | SeriesInfo() | Check() | Resend() | Issue() | Redeem():
                work = await runtime.begin(user, channel, parsed, team)
                if isinstance(work, Refused):
                    return await ack(response_type="ephemeral", text=work.text)
                after = work
        response = await ack()
        runtime.after_ack(after, body, context, client)
        return response

    def _audit(
        self,
        parsed: Command | OpenForm,
        verb: Verb,
        user: str,
        body: dict[str, Any],
        refused: RefusalReason | None,
    ) -> None:
        recorder = self._runtime.recorder
        if recorder is None:
            return
        command = parsed if not isinstance(parsed, OpenForm) else Help(verb)
        scene = scene_of(command, user, body["channel_id"], body.get("team_id"))
        recorder.received(replace(scene, verb=verb.value), refused)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.use(CouponCommand(runtime))


async def _open_menu(
    runtime: Runtime, client: AsyncWebClient, trigger_id: str, user: str, channel: str
) -> None:
    """Right after the ack (the trigger lives 3 s): the verbs this user may use here."""
    verbs = await runtime.access.allowed_verbs(user, channel)
    await client.views_open(trigger_id=trigger_id, view=action_menu(channel, verbs))


def parse_slash(text: str) -> tuple[Command | OpenForm, AuditFilter | None]:
    """The command, and a ``log``'s filters (parsed now: a bad filter is a usage error too)."""
    parsed = parse_command(text)
    filters = parse_log_filters(parsed.text) if isinstance(parsed, LogQuery) else None
    return parsed, filters
