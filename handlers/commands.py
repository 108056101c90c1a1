"""``/coupon``: parse and authorize, ack, then one service call → reply in a thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

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
from bot.payload import SlashCommand, slash_command
from bot.policy import Decision
from bot.recording import Scene, scene_of
from bot.runtime import Runtime

__all__ = ["register"]

Work = Coroutine[Any, Any, object]


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
        if req.body.get("command") != SLASH_COMMAND:
            return await next()
        asked, ack, access = slash_command(req.body), req.context.ack, self._runtime.access
        if asked is None:
            return BoltResponse(status=400, body="a slash command needs user_id and channel_id")
        try:
            parsed, filters = parse_slash(asked.text)
        except UsageError as error:
            reply = usage_reply(str(error), usage(error.verb))
            return await ack(response_type="ephemeral", text=reply)
        verb = checked_verb(parsed)
        decision = await access.check(asked.user, asked.channel, verb)
        self._audit(asked, parsed, verb, decision)
        if not decision.allowed:
            return await ack(response_type="ephemeral", text=access.refusal_text(decision, verb))
        return await self._answer(asked, parsed, filters, req.body, req.context)

    async def _answer(
        self,
        asked: SlashCommand,
        parsed: Command | OpenForm,
        filters: AuditFilter | None,
        body: dict[str, Any],
        context: AsyncBoltContext,
    ) -> BoltResponse:
        """The ack for an allowed command, and what continues after it."""
        runtime, ack, user, channel = self._runtime, context.ack, asked.user, asked.channel
        match parsed:
            case OpenForm():
                after = _open_form(runtime, context.client, asked, parsed)
                if after is None:
                    return await ack(text="Type the whole command: `/coupon help` shows how.")
            case Help(topic=topic):
                return await ack(**(await runtime.help(user, channel, topic)).as_kwargs())
            case Pending():
                message = await runtime.approvals.pending_message(channel)
                return await ack(response_type="ephemeral", **message.as_kwargs())
            case LogQuery():
                assert filters is not None, "parsed with the command"
                after = runtime.conversation.show_log(user, channel, parsed, filters)
            case Get() | SeriesInfo() | Check() | Resend() | Issue() | Redeem():
                work = await runtime.begin(user, channel, parsed, asked.team)
                if isinstance(work, Refused):
                    return await ack(response_type="ephemeral", text=work.text)
                after = work
        response = await ack()
        runtime.after_ack(after, body, context, context.client)
        return response

    def _audit(
        self, asked: SlashCommand, parsed: Command | OpenForm, verb: Verb, decision: Decision
    ) -> None:
        """The command as received, or its refusal. An allowed form is audited when it is
        submitted, as the command it then is."""
        recorder = self._runtime.recorder
        if recorder is None or (decision.allowed and isinstance(parsed, OpenForm)):
            return
        recorder.received(scene_for(asked, parsed, verb), decision.reason)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.use(CouponCommand(runtime))


def parse_slash(text: str) -> tuple[Command | OpenForm, AuditFilter | None]:
    """The command, and a ``log``'s filters (parsed now: a bad filter is a usage error too)."""
    parsed = parse_command(text)
    filters = parse_log_filters(parsed.text) if isinstance(parsed, LogQuery) else None
    return parsed, filters


def checked_verb(parsed: Command | OpenForm) -> Verb:
    """The verb whose permission the command needs. The action menu (bare ``/coupon``)
    needs at least the right to look coupons up."""
    if isinstance(parsed, OpenForm):
        return parsed.verb or Verb.GET
    return parsed.verb


def scene_for(asked: SlashCommand, parsed: Command | OpenForm, verb: Verb) -> Scene:
    """The audit columns for what was asked: a form (arguments still missing) has only its
    verb, the one that was checked."""
    if isinstance(parsed, OpenForm):
        return Scene(actor=asked.user, channel=asked.channel, verb=verb.value, team=asked.team)
    return scene_of(parsed, asked.user, asked.channel, asked.team)


def _open_form(
    runtime: Runtime, client: AsyncWebClient, asked: SlashCommand, form: OpenForm
) -> Work | None:
    """After the ack, the action menu or the verb's modal; None without a trigger to open it."""
    if asked.trigger is None:
        return None
    if form.verb is None:
        return _open_menu(runtime, client, asked.trigger, asked.user, asked.channel)
    view = verb_form(form.verb, asked.channel, form.prefill)
    return client.views_open(trigger_id=asked.trigger, view=view)


async def _open_menu(
    runtime: Runtime, client: AsyncWebClient, trigger_id: str, user: str, channel: str
) -> None:
    """Right after the ack (the trigger lives 3 s): the verbs this user may use here."""
    verbs = await runtime.access.allowed_verbs(user, channel)
    await client.views_open(trigger_id=trigger_id, view=action_menu(channel, verbs))
