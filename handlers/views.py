"""Modal submissions: validate in the ack (``response_action: errors``), then run the command."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.modals import FORM_VERBS, form_values, read_metadata
from bot.conversation import RunnableCommand
from bot.grammar import FormErrors, parse_form
from bot.ids import BlockId, CallbackId
from bot.recording import scene_of
from bot.runtime import Runtime

__all__ = ["register"]


def register(app: AsyncApp, runtime: Runtime) -> None:
    async def on_verb_form(
        ack: AsyncAck,
        view: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        metadata = read_metadata(view.get("private_metadata"))
        if metadata is None or metadata.verb not in FORM_VERBS:
            await ack()  # not a form of ours: close it
            return
        user, channel, verb = body["user"]["id"], metadata.channel_id, metadata.verb
        context["channel_id"] = channel  # where the error exit can answer
        try:
            command = parse_form(verb, form_values(view["state"]["values"]))
        except FormErrors as invalid:
            await ack(response_action="errors", errors=invalid.errors)
            return
        assert isinstance(command, RunnableCommand), "every form verb runs against Capillary"
        decision = await runtime.access.check(user, channel, verb)
        if runtime.recorder is not None:
            scene = scene_of(command, user, channel, body.get("team", {}).get("id"))
            runtime.recorder.received(scene, decision.reason)
        if not decision.allowed:
            first_block = str(view["blocks"][0].get("block_id", BlockId.CODE))
            await ack(
                response_action="errors",
                errors={first_block: runtime.access.refusal_text(decision, verb)},
            )
            return
        await ack()
        work = runtime.conversation.run(user, channel, command)
        runtime.after_ack(work, body, context, client)

    app.view(CallbackId.VERB_FORM)(on_verb_form)
