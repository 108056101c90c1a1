"""Button clicks: the action menu's verb buttons swap the menu for that verb's form; an
approval card's Approve / Reject open the modal that decides."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.approvals import read_request_id
from bot.blocks.modals import notice_view, read_metadata, verb_form
from bot.commands import Verb
from bot.ids import PICK_VERB_ACTION, ActionId
from bot.payload import mapping, text
from bot.runtime import Runtime

__all__ = ["register"]


def register(app: AsyncApp, runtime: Runtime) -> None:
    async def on_pick_verb(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        view, user = mapping(body, "view"), text(body, "user", "id")
        metadata = read_metadata(text(view, "private_metadata"))
        value = text(action, "value")
        verb = Verb(value) if value is not None and value in Verb._value2member_map_ else None
        view_id = text(view, "id")
        if metadata is None or verb is None or user is None or view is None or view_id is None:
            return  # not a menu of ours

        context["channel_id"] = metadata.channel_id  # where the error exit can answer
        decision = await runtime.access.check(user, metadata.channel_id, verb)
        new_view = (
            verb_form(verb, metadata.channel_id)
            if decision.allowed
            else notice_view("Not allowed", runtime.access.refusal_text(decision, verb))
        )
        update = client.views_update(view_id=view_id, hash=text(view, "hash"), view=new_view)
        runtime.after_ack(update, body, context, client)

    app.action(PICK_VERB_ACTION)(on_pick_verb)

    async def on_decision_button(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Approve / Reject on a card: the modal that decides opens after the ack (the
        trigger lives 3 s); only submitting it decides."""
        await ack()
        request_id = read_request_id(text(action, "value"))
        channel, user = text(body, "channel", "id"), text(body, "user", "id")
        trigger_id = text(body, "trigger_id")
        if request_id is None or channel is None or user is None or trigger_id is None:
            return  # not a card of ours
        context["channel_id"] = channel  # where the error exit can answer
        offer = runtime.approvals.offer(
            request_id,
            user,
            channel,
            approve=text(action, "action_id") == ActionId.APPROVE,
            trigger_id=trigger_id,
        )
        runtime.after_ack(offer, body, context, client)

    for decision in (ActionId.APPROVE, ActionId.REJECT):
        app.action(decision)(on_decision_button)
