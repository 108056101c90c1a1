"""``/coupon``: parse and authorize in middleware, then ack → one service call → reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import payload
from bot.access import Access
from bot.approval_flow import Refused
from bot.blocks.help import help_message
from bot.blocks.messages import usage_reply
from bot.blocks.modals import action_menu, verb_form
from bot.blocks.results import SlackMessage
from bot.commands import Command, Help, Issue, LogQuery, OpenForm, Pending, Redeem, UsageError, Verb
from bot.grammar import parse_command, usage
from bot.ids import SLASH_COMMAND
from bot.logquery import parse_log_filters
from bot.policy import RefusalReason
from bot.recording import Recorder, scene_of
from bot.runtime import Runtime

__all__ = ["register"]


class CommandGate(AsyncMiddleware):
    """Parse and authorize ``/coupon`` before its listener runs.

    Refusals and usage errors are the ack itself (ephemeral); returning one ends the request.
    A class rather than a function: Bolt then skips building keyword arguments for it,
    which is a good part of an ack's cost under a burst of commands.
    """

    def __init__(self, access: Access, recorder: Recorder | None):
        self._access = access
        self._recorder = recorder

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        try:
            parsed = parse_command(str(body.get("text") or ""))
            if isinstance(parsed, LogQuery):
                parse_log_filters(parsed.text)  # a bad filter is a usage error, now
        except UsageError as error:
            return _ephemeral(usage_reply(str(error), usage(error.verb) if error.verb else None))
        # The action menu (bare /coupon) needs at least the right to look coupons up.
        verb = (parsed.verb or Verb.GET) if isinstance(parsed, OpenForm) else parsed.verb
        user, channel = payload.text(body, "user_id"), payload.text(body, "channel_id")
        if user is None or channel is None:  # Slack always sends both
            return BoltResponse(status=400, body="a slash command needs user_id and channel_id")
        decision = await self._access.check(user, channel, verb)
        if not decision.allowed:
            self._audit(parsed, verb, user, body, refused=decision.reason)
            return _ephemeral(self._access.refusal_text(decision, verb))
        if not isinstance(parsed, OpenForm):  # a form is audited when it is submitted
            self._audit(parsed, verb, user, body, refused=None)
        req.context["parsed"] = parsed
        await next()
        return resp

    def _audit(
        self,
        parsed: Command | OpenForm,
        verb: Verb,
        user: str,
        body: dict[str, Any],
        refused: RefusalReason | None,
    ) -> None:
        if self._recorder is None:
            return
        command = parsed if not isinstance(parsed, OpenForm) else Help(verb)
        scene = scene_of(command, user, body["channel_id"], body.get("team_id"))
        self._recorder.received(replace(scene, verb=verb.value), refused)


def _ephemeral(text: str) -> BoltResponse:
    return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})


def register(app: AsyncApp, runtime: Runtime) -> None:
    async def on_command(
        ack: AsyncAck,
        command: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        parsed, user, channel = context["parsed"], command["user_id"], command["channel_id"]
        match parsed:
            case OpenForm() if payload.text(command, "trigger_id") is None:
                await ack(text="Type the whole command: `/coupon help` shows how.")
            case OpenForm(verb=None):
                await ack()
                trigger = str(command["trigger_id"])
                menu = _open_menu(runtime, client, trigger, user, channel)
                runtime.after_ack(menu, body, context, client)
            case OpenForm(verb=Verb() as verb, prefill=prefill):
                await ack()
                form = verb_form(verb, channel, prefill)
                opened = client.views_open(trigger_id=str(command["trigger_id"]), view=form)
                runtime.after_ack(opened, body, context, client)
            case Help(topic=topic):
                await ack(**(await _help(runtime, user, channel, topic)).as_kwargs())
            case LogQuery(text=text):
                await ack()
                shown = runtime.conversation.show_log(
                    user, channel, parsed, parse_log_filters(text)
                )
                runtime.after_ack(shown, body, context, client)
            case Pending():
                message = await runtime.approvals.pending_message(channel)
                await ack(response_type="ephemeral", **message.as_kwargs())
            case Issue() | Redeem():
                request = await runtime.approvals.open(
                    user, channel, parsed, command.get("team_id")
                )
                if isinstance(request, Refused):
                    await ack(response_type="ephemeral", text=request.text)
                    return
                await ack()
                runtime.after_ack(runtime.approvals.start(request), body, context, client)
            case _:
                await ack()
                work = runtime.conversation.run(user, channel, parsed, command.get("team_id"))
                runtime.after_ack(work, body, context, client)

    gate = CommandGate(runtime.access, runtime.recorder)
    app.command(SLASH_COMMAND, middleware=[gate])(on_command)


async def _open_menu(
    runtime: Runtime, client: AsyncWebClient, trigger_id: str, user: str, channel: str
) -> None:
    """Right after the ack (the trigger lives 3 s): the verbs this user may use here."""
    verbs = await runtime.access.allowed_verbs(user, channel)
    await client.views_open(trigger_id=trigger_id, view=action_menu(channel, verbs))


async def _help(runtime: Runtime, user: str, channel: str, topic: Verb | None) -> SlackMessage:
    role = await runtime.access.role_of(user)
    verbs = await runtime.access.allowed_verbs(user, channel)
    limits = [u for u in await runtime.approvals.usage(user) if u[0] in verbs]
    admins = runtime.access.policy.admins()
    return help_message(role.value if role else None, verbs, admins, topic, limits)
