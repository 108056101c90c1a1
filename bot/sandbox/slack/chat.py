"""``chat.postMessage``, ``chat.update``, ``chat.postEphemeral`` and ``chat.getPermalink``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack.content import message_content, string_arg
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.models import Json, Message
from bot.sandbox.slack.seed import BOT_USER_ID, TEAM_DOMAIN, Channel
from bot.sandbox.slack.state import EmulatorState

__all__ = ["get_permalink", "permalink", "post_ephemeral", "post_message", "update"]

Args = Mapping[str, Any]


def post_message(state: EmulatorState, args: Args) -> Json:
    """Post to a channel the bot is in, optionally as a reply to a top-level message."""
    channel = state.require_channel(args.get("channel"))
    _require_postable(channel)
    text, blocks = message_content(args)
    parent = state.thread_parent(channel.id, args.get("thread_ts"))
    message = Message(channel.id, state.new_ts(), text or "", blocks or [], thread_ts=parent)
    state.add_message(message)
    return {"channel": channel.id, "ts": message.ts, "message": message.as_json()}


def update(state: EmulatorState, args: Args) -> Json:
    """Edit one of the bot's messages; omitted text or blocks keep their previous value.

    Slack documents no ``not_in_channel`` for edits (the bot may edit its messages in a
    channel it left), only ``is_inactive`` for an archived channel."""
    channel = state.require_channel(args.get("channel"))
    if channel.is_archived:
        raise SlackError("is_inactive")
    message = state.message(channel.id, str(args.get("ts")))
    if message is None:
        raise SlackError("message_not_found")
    if message.user != BOT_USER_ID:
        raise SlackError("cant_update_message")
    text, blocks = message_content(args)
    new_text = message.text if text is None else text
    message.revise(new_text, message.blocks if blocks is None else blocks, state.clock())
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.as_json(),
    }


def post_ephemeral(state: EmulatorState, args: Args) -> Json:
    """Show a message to one member of the channel only."""
    channel = state.require_channel(args.get("channel"))
    _require_postable(channel)
    user = string_arg(args, "user")
    if user is None or user not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks = message_content(args)
    parent = state.thread_parent(channel.id, args.get("thread_ts"))
    message = Message(channel.id, state.new_ts(), text or "", blocks or [], thread_ts=parent)
    message.ephemeral_for, message.via = user, "chat.postEphemeral"
    state.add_message(message)
    return {"message_ts": message.ts}


def get_permalink(state: EmulatorState, args: Args) -> Json:
    """The web link of a (non-ephemeral) message."""
    channel = state.require_channel(args.get("channel"))
    message = state.message(channel.id, str(args.get("message_ts")))
    if message is None:
        raise SlackError("message_not_found")
    return {"channel": channel.id, "permalink": permalink(message)}


def permalink(message: Message) -> str:
    """``https://<domain>.slack.com/archives/<channel>/p<ts without dot>`` (+ thread query)."""
    archive = f"https://{TEAM_DOMAIN}.slack.com/archives/{message.channel}"
    link = f"{archive}/p{message.ts.replace('.', '')}"
    if message.thread_ts is not None:
        link += f"?thread_ts={message.thread_ts}&cid={message.channel}"
    return link


def _require_postable(channel: Channel) -> None:
    """What chat.postMessage and chat.postEphemeral refuse first: an archived channel, then
    one the bot is not (or no longer) in."""
    if channel.is_archived:
        raise SlackError("is_archived")
    if BOT_USER_ID not in channel.members:
        raise SlackError("not_in_channel")
