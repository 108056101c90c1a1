"""The single error exit: any exception a listener or middleware raises ends here.

Known errors become a sentence for the user; anything else becomes a short correlation id
that the user can quote and that is logged with the traceback. It is the id of the request
being handled when there is one (:mod:`bot.logs`), so it finds every line of that command.
The user is told once: as the ack's body if nothing was acknowledged yet, else as an
ephemeral message.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import payload
from bot.blocks.messages import NOT_IN_CHANNEL, internal_error
from bot.capillary.errors import CapillaryError
from bot.capillary.identifiers import InvalidInputError
from bot.commands import UsageError
from bot.logs import correlation_id, new_correlation_id

__all__ = ["error_exit", "explain"]

log = logging.getLogger("coupon_bot.errors")

_SLACK_ERRORS = {
    "not_in_channel": NOT_IN_CHANNEL,
    "channel_not_found": NOT_IN_CHANNEL,
    "is_archived": "This channel is archived, so I can't answer here.",
    "hash_conflict": "That form changed while you were clicking. Close it and start again.",
    "expired_trigger_id": "Slack took too long to open the form. Please try again.",
    "user_not_in_channel": "Join the channel first: only its members can do that there.",
    "not_found": "That form or message is gone. Start again with `/coupon`.",
}


def explain(error: Exception) -> str | None:
    """A sentence for an error we understand; None for the unexpected."""
    if isinstance(error, UsageError | InvalidInputError):
        return str(error)
    if isinstance(error, CapillaryError):
        return f"{error.explanation.sentence} {error.explanation.next_step}"
    if isinstance(error, SlackApiError):
        return _SLACK_ERRORS.get(str(error.response.get("error")))
    return None


async def error_exit(
    error: Exception, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> BoltResponse:
    """Bolt's ``app.error`` handler."""
    text = explain(error)
    if text is None:
        correlation = correlation_id() or new_correlation_id()
        log.error("unexpected error [%s] on %s", correlation, _kind(body), exc_info=error)
        text = internal_error(correlation)
    else:
        log.info("refused with a known error on %s: %s", _kind(body), type(error).__name__)
    if context.ack.response is None:  # not acknowledged yet: the answer is the ack itself
        early = _as_ack(body, text)
        if early is not None:
            return early
    await _tell(client, body, context, text)
    return BoltResponse(status=200, body="")


def _as_ack(body: dict[str, Any], text: str) -> BoltResponse | None:
    """A command's ack shows text to the user; a form's ack shows it under its first field."""
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if body.get("type") == "view_submission":
        block_id = payload.error_block_id(payload.field(body, "view"))
        if block_id is not None:
            errors = {block_id: text[:2000]}
            return BoltResponse(status=200, body={"response_action": "errors", "errors": errors})
    return None


async def _tell(
    client: AsyncWebClient, body: dict[str, Any], context: AsyncBoltContext, text: str
) -> None:
    """Ephemeral, through response_url when there is one (it works outside the bot's channels)."""
    try:
        if body.get("response_url") and context.respond is not None:
            await context.respond(text=text, response_type="ephemeral", replace_original=False)
        elif context.channel_id and context.user_id:
            await client.chat_postEphemeral(
                channel=context.channel_id, user=context.user_id, text=text
            )
    except Exception:  # the error exit must never raise; the failure is logged, not swallowed
        log.warning("could not tell the user about an error", exc_info=True)


def _kind(body: dict[str, Any]) -> str:
    return str(body.get("command") or body.get("type") or "request")
