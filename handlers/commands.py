"""``/coupon``: parse and authorize in middleware, then ack → one service call → reply."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.help import help_message
from bot.blocks.messages import COMING_SOON, usage_reply
from bot.blocks.modals import action_menu, verb_form
from bot.commands import Help, LogQuery, OpenForm, Pending, UsageError, Verb
from bot.grammar import parse_command, usage
from bot.ids import SLASH_COMMAND
from bot.runtime import Runtime

__all__ = ["register"]

Next = Any  # Bolt's next() callable


def register(app: AsyncApp, runtime: Runtime) -> None:
    async def parse_and_authorize(
        ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        """Refusals are the ack itself (ephemeral); returning it ends the request here."""
        try:
            parsed = parse_command(command.get("text") or "")
        except UsageError as error:
            return await ack(
                text=usage_reply(str(error), usage(error.verb) if error.verb else None)
            )
        # The action menu (bare /coupon) needs at least the right to look coupons up.
        verb = (parsed.verb or Verb.GET) if isinstance(parsed, OpenForm) else parsed.verb
        decision = await runtime.access.check(command["user_id"], command["channel_id"], verb)
        if not decision.allowed:
            return await ack(text=runtime.access.refusal_text(decision, verb))
        context["parsed"] = parsed
        await next()
        return None

    async def on_command(
        ack: AsyncAck,
        command: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        parsed, user, channel = context["parsed"], command["user_id"], command["channel_id"]
        match parsed:
            case OpenForm(verb=None):
                await ack()
                menu = _open_menu(runtime, client, command["trigger_id"], user, channel)
                runtime.after_ack(menu, body, context, client)
            case OpenForm(verb=Verb() as verb, prefill=prefill):
                await ack()
                form = verb_form(verb, channel, prefill)
                opened = client.views_open(trigger_id=command["trigger_id"], view=form)
                runtime.after_ack(opened, body, context, client)
            case Help(topic=topic):
                await ack(**(await _help(runtime, user, channel, topic)).as_kwargs())
            case LogQuery() | Pending():
                await ack(text=COMING_SOON[parsed.verb])
            case _:
                await ack()
                work = runtime.conversation.run(user, channel, parsed)
                runtime.after_ack(work, body, context, client)

    app.command(SLASH_COMMAND, middleware=[parse_and_authorize])(on_command)


async def _open_menu(
    runtime: Runtime, client: AsyncWebClient, trigger_id: str, user: str, channel: str
) -> None:
    """Right after the ack (the trigger lives 3 s): the verbs this user may use here."""
    verbs = await runtime.access.allowed_verbs(user, channel)
    await client.views_open(trigger_id=trigger_id, view=action_menu(channel, verbs))


async def _help(runtime: Runtime, user: str, channel: str, topic: Verb | None) -> Any:
    role = await runtime.access.role_of(user)
    verbs = await runtime.access.allowed_verbs(user, channel)
    return help_message(role.value if role else None, verbs, runtime.access.policy.admins(), topic)
