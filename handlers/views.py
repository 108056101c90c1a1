"""Modal submissions: validate in the ack (``response_action: errors``), then act: run the
command, open its approval request, or decide one."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.approval_flow import Refused
from bot.blocks.approvals import NEED_REASON, read_request_id
from bot.blocks.format import plain
from bot.blocks.modals import FORM_VERBS, form_values, read_metadata
from bot.conversation import RunnableCommand
from bot.grammar import FormErrors, parse_form
from bot.ids import BlockId, CallbackId
from bot.payload import error_block_id, field, text
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
        metadata = read_metadata(text(view, "private_metadata"))
        user, first_block = text(body, "user", "id"), error_block_id(view)
        if (
            metadata is None
            or metadata.verb not in FORM_VERBS
            or user is None
            or first_block is None  # ours are all inputs: errors show under the first
        ):
            await ack()  # not a form of ours: close it
            return
        channel, verb = metadata.channel_id, metadata.verb
        context["channel_id"] = channel  # where the error exit can answer
        try:
            command = parse_form(verb, form_values(field(view, "state", "values")))
        except FormErrors as invalid:
            await ack(response_action="errors", errors=invalid.errors)
            return
        assert isinstance(command, RunnableCommand), "every form verb runs against Capillary"
        decision = await runtime.access.check(user, channel, verb)
        team = text(body, "team", "id")
        if runtime.recorder is not None:
            runtime.recorder.received(scene_of(command, user, channel, team), decision.reason)
        if not decision.allowed:
            refusal = plain(runtime.access.refusal_text(decision, verb))
            await ack(response_action="errors", errors={first_block: refusal})
            return
        work = await runtime.begin(user, channel, command, team)
        if isinstance(work, Refused):
            await ack(response_action="errors", errors={first_block: plain(work.text)})
            return
        await ack()
        runtime.after_ack(work, body, context, client)

    app.view(CallbackId.VERB_FORM)(on_verb_form)

    async def on_decision(
        ack: AsyncAck,
        view: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Approve or reject: the compare-and-set happens here, in the ack, so whoever lost
        the race is told in the modal who decided first; the winner's modal closes."""
        request_id = read_request_id(text(view, "private_metadata"))
        user = text(body, "user", "id")
        if request_id is None or user is None:
            await ack()  # not a request of ours: close it
            return
        approve = text(view, "callback_id") == CallbackId.APPROVE_FORM
        block = BlockId.NOTE if approve else BlockId.REASON
        note = form_values(field(view, "state", "values")).get(block)
        if not approve and note is None:
            await ack(response_action="errors", errors={block: NEED_REASON})
            return
        name = text(body, "user", "username") or text(body, "user", "name")
        decided = await runtime.approvals.decide(request_id, user, name, approve=approve, note=note)
        if isinstance(decided, str):
            await ack(response_action="errors", errors={block: decided})
            return
        await ack()
        context["channel_id"] = decided.channel  # where the error exit can answer
        runtime.after_ack(runtime.approvals.follow_up(decided), body, context, client)

    for callback in (CallbackId.APPROVE_FORM, CallbackId.REJECT_FORM):
        app.view(callback)(on_decision)
