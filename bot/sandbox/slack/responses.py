"""The response_url sink: what happens when the bot posts to a URL the driver handed out.

Each URL takes at most ``LIMITS.response_url_uses`` posts within
``response_url_ttl_seconds`` (then HTTP 404 ``used_url`` / ``expired_url``). Ephemeral
answers become ephemerals for the user who acted; ``in_channel`` ones channel messages;
``replace_original`` / ``delete_original`` act on the clicked message (or, for a command, on
the last message posted through the same URL).
"""

from __future__ import annotations

from bot.sandbox.slack.content import flag, message_content
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.limits import LIMITS
from bot.sandbox.slack.models import Json, Message, ResponsePost, ResponseUrl
from bot.sandbox.slack.state import EmulatorState

__all__ = ["RESPONSE_TYPES", "deliver", "post_response"]

RESPONSE_TYPES = frozenset({"ephemeral", "in_channel"})


def post_response(state: EmulatorState, token: str, body: object) -> tuple[int, Json]:
    """HTTP status and JSON answer for one post to ``/response/<token>``."""
    url = state.response_url(token)
    refusal = _refusal(state, url)
    if refusal is not None or url is None:
        return 404, {"ok": False, "error": refusal or "no_service"}
    if not isinstance(body, dict):
        return 400, {"ok": False, "error": "invalid_payload"}
    try:
        message = deliver(state, url, body)
    except SlackError as exc:
        return 400, _error_json(exc)
    url.uses += 1
    post = ResponsePost(token, url.user, url.channel, dict(body), state.clock(), message)
    state.add_response(post)
    return 200, {"ok": True}


def _refusal(state: EmulatorState, url: ResponseUrl | None) -> str | None:
    if url is None:
        return "no_service"
    if state.clock() - url.issued_at > state.response_url_ttl_seconds:
        return "expired_url"
    if url.uses >= LIMITS.response_url_uses:
        return "used_url"
    return None


def _error_json(exc: SlackError) -> Json:
    found: Json = {"ok": False, "error": exc.code}
    if exc.messages:
        found["response_metadata"] = {"messages": exc.messages}
    return found


def deliver(
    state: EmulatorState, url: ResponseUrl, body: Json, *, via: str = "response_url"
) -> Message | None:
    """Apply a response body (SlackError when Slack would refuse it); no use is counted."""
    target = url.original or url.last_posted
    if flag(body, "delete_original"):
        if target is None:
            raise SlackError("message_not_found")
        state.delete_message(target)
        url.original = url.last_posted = None
        return None
    text, blocks = message_content(body)
    if flag(body, "replace_original") and target is not None:
        target.revise(text or "", blocks or [], state.clock())
        url.last_posted = target
        return target
    message = _new_message(state, url, body, text or "", blocks or [])
    message.via = via
    url.last_posted = state.add_message(message)
    return message


def _new_message(
    state: EmulatorState, url: ResponseUrl, body: Json, text: str, blocks: list[Json]
) -> Message:
    response_type = body.get("response_type") or "ephemeral"
    if response_type not in RESPONSE_TYPES:
        raise SlackError("invalid_response_type")
    parent = state.thread_parent(url.channel, body.get("thread_ts"))
    message = Message(url.channel, state.new_ts(), text, blocks, thread_ts=parent)
    if response_type == "ephemeral":
        message.ephemeral_for = url.user
    return message
