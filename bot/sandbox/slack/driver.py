"""``SlackDriver``: plays Slack's side towards a bot — signed commands, clicks, submissions.

Triggers and response URLs come from the emulator, so the bot's follow-up Web API calls
(``views.open`` with the trigger, ``respond()`` to the URL) land on the same state. After a
``view_submission`` the driver applies the bot's ack to the emulated view, and after a slash
command it shows an ack body as Slack would (ephemeral unless ``in_channel``).

``last_ack_outcome`` says what Slack made of the last ack: ``failed`` (not 200), ``timeout``
(later than 3 s: ignored); for commands ``shown`` / ``empty``; for clicks ``acked``; for
submissions ``closed`` / ``errors`` / ``updated`` / ``pushed`` / ``cleared``.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Mapping
from functools import cache
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack import payloads
from bot.sandbox.slack.emulator import RunningEmulator
from bot.sandbox.slack.errors import DriverError, InvalidAck, SlackError
from bot.sandbox.slack.models import Json, Message, View
from bot.sandbox.slack.responses import deliver
from bot.sandbox.slack.seed import Channel, User
from bot.sandbox.slack.views import apply_submission_ack

__all__ = ["ACK_DEADLINE_SECONDS", "DEFAULT_USER", "SlackDriver"]

DEFAULT_USER = "U03AGENT"
DEFAULT_CHANNEL = "C01SUPPORT"
ACK_DEADLINE_SECONDS = 3.0
FORM = "application/x-www-form-urlencoded"


@cache
def _ssl_context() -> ssl.SSLContext:
    # httpx builds a CA-loaded SSL context per client (~50 ms); the bot is plain HTTP anyway.
    return ssl.create_default_context()


class SlackDriver:
    """Sends what Slack would send to ``bot_url`` (the bot's full ``/slack/events`` URL)."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        emulator: RunningEmulator,
        http: httpx.AsyncClient | None = None,
        *,
        timeout: float = 10.0,
        ack_deadline_seconds: float = ACK_DEADLINE_SECONDS,
    ) -> None:
        self.bot_url = bot_url
        self.emulator = emulator
        self.state = emulator.state
        self.last_ack_outcome: str | None = None  # what Slack made of the bot's last ack
        self._verifier = SignatureVerifier(signing_secret)
        self._http = http
        self._timeout = timeout
        self.ack_deadline_seconds = ack_deadline_seconds

    # ---- what users do ---------------------------------------------------------------------

    async def command(
        self,
        text: str,
        *,
        user: str = DEFAULT_USER,
        channel: str = DEFAULT_CHANNEL,
        command: str = "/coupon",
    ) -> httpx.Response:
        """Run a slash command; an ack body is shown to the user like Slack does."""
        who, where = self._user(user), self._channel(channel)
        if who.id not in where.members:
            raise DriverError(f"{who.id} is not in {where.id}: they cannot type a command there")
        response_url = self.state.issue_response_url(who.id, where.id)
        form = payloads.command_form(
            text=text,
            user=who,
            channel=where,
            command=command,
            response_url=response_url,
            trigger_id=self.state.issue_trigger(who.id),
        )
        response = await self._post(form)
        self.last_ack_outcome = self._show_command_ack(response, response_url)
        return response

    async def click(
        self,
        action_id: str,
        *,
        value: str | None = None,
        user: str | None = None,
        message: Message | None = None,
        view_id: str | None = None,
    ) -> httpx.Response:
        """Click a button in a message (as it is now) or in an open view."""
        if (message is None) == (view_id is None):
            raise DriverError("click needs exactly one of message= or view_id=")
        if message is not None:
            return await self._click_message(action_id, value, user or DEFAULT_USER, message)
        return await self._click_view(action_id, value, user, str(view_id))

    async def submit(
        self,
        view_id: str,
        values: Mapping[str, str],
        *,
        user: str | None = None,
        check_required: bool = True,
    ) -> httpx.Response:
        """Submit an open view with ``{block_id: value}``; then apply the bot's ack to it."""
        view = self._visible_view(view_id, user)
        if view.payload.get("submit") is None:
            raise DriverError(f"view {view_id} has no submit button")
        view.values = payloads.state_values(view, values, check_required=check_required)
        trigger = self.state.issue_trigger(view.user, view_id=view.id)
        payload = payloads.view_submission(
            user=self._user(view.user), view=view, trigger_id=trigger
        )
        response = await self._post({"payload": json.dumps(payload)})
        self.last_ack_outcome = self._apply_submission_ack(view, response)
        return response

    def _apply_submission_ack(self, view: View, response: httpx.Response) -> str:
        if _ack_problem(response, self.ack_deadline_seconds) == "timeout":
            return "timeout"  # Slack gave up waiting: the modal shows an error, unchanged
        return apply_submission_ack(self.state, view, response.status_code, response.text)

    # ---- raw HTTP --------------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Slack's signature headers for ``body`` (now, unless ``timestamp`` is given)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=stamp, body=body)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}

    async def post_raw(
        self, body: bytes, headers: Mapping[str, str], content_type: str = FORM
    ) -> httpx.Response:
        """POST ``body`` to the bot exactly as given (for bad-signature tests)."""
        all_headers = {**headers, "Content-Type": content_type}
        if self._http is not None:
            return await self._http.post(self.bot_url, content=body, headers=all_headers)
        async with httpx.AsyncClient(timeout=self._timeout, verify=_ssl_context()) as http:
            return await http.post(self.bot_url, content=body, headers=all_headers)

    async def _post(self, fields: Mapping[str, str]) -> httpx.Response:
        body = urlencode(fields).encode()
        return await self.post_raw(body, self.sign(body), FORM)

    # ---- helpers ---------------------------------------------------------------------------

    async def _click_message(
        self, action_id: str, value: str | None, user: str, message: Message
    ) -> httpx.Response:
        current = self._visible_message(message, user)
        button = payloads.find_button(current.blocks, action_id, value)
        channel = self._channel(current.channel)
        payload = payloads.block_actions(
            user=self._user(user),
            button=button,
            trigger_id=self.state.issue_trigger(user),
            message=current,
            channel=channel,
            response_url=self.state.issue_response_url(user, channel.id, original=current),
        )
        return await self._post_action(payload)

    async def _click_view(
        self, action_id: str, value: str | None, user: str | None, view_id: str
    ) -> httpx.Response:
        view = self._visible_view(view_id, user)
        payload = payloads.block_actions(
            user=self._user(view.user),
            button=payloads.find_button(view.blocks, action_id, value),
            trigger_id=self.state.issue_trigger(view.user, view_id=view.id),
            view=view,
        )
        return await self._post_action(payload)

    async def _post_action(self, payload: Json) -> httpx.Response:
        """A block_actions post; Slack ignores the ack body, so only its timing counts."""
        response = await self._post({"payload": json.dumps(payload)})
        self.last_ack_outcome = _ack_problem(response, self.ack_deadline_seconds) or "acked"
        return response

    def _visible_message(self, message: Message, user: str) -> Message:
        """The message as it is now, if ``user`` can see it."""
        if message.ephemeral_for is not None:
            current = self.state.ephemeral(message.ts)
            if current is None or current.ephemeral_for != user:
                raise DriverError(f"{user} cannot see ephemeral {message.ts} (gone or not theirs)")
            return current
        current = self.state.message(message.channel, message.ts)
        if current is None:
            raise DriverError(f"message {message.ts} in {message.channel} no longer exists")
        if user not in self._channel(current.channel).members:
            raise DriverError(f"{user} is not in {current.channel}")
        return current

    def _visible_view(self, view_id: str, user: str | None) -> View:
        """An open view that is the top of its owner's stack (what the user can act on)."""
        try:
            view = self.state.view(view_id)
        except KeyError as exc:
            raise DriverError(str(exc)) from None
        if user is not None and user != view.user:
            raise DriverError(f"view {view_id} belongs to {view.user}, not {user}")
        if self.state.current_view(view.user) is not view:
            raise DriverError(f"view {view_id} is not the open view of {view.user}")
        return view

    def _show_command_ack(self, response: httpx.Response, response_url: str) -> str:
        """A 200 ack in time with a body is the command's reply: ``shown``, else ``empty``."""
        problem = _ack_problem(response, self.ack_deadline_seconds)
        if problem is not None:
            return problem
        body = _ack_body(response)
        url = self.state.response_url(response_url.rsplit("/response/", 1)[1])
        if url is None or body is None:
            return "empty"
        try:
            deliver(self.state, url, body, via="ack")
        except SlackError as exc:
            raise InvalidAck(f"slash command ack refused by Slack: {exc}") from exc
        return "shown"

    def _user(self, user_id: str) -> User:
        found = self.state.workspace.users.get(user_id)
        if found is None:
            raise DriverError(f"unknown user {user_id!r}")
        return found

    def _channel(self, channel_id: str) -> Channel:
        found = self.state.workspace.channels.get(channel_id)
        if found is None:
            raise DriverError(f"unknown channel {channel_id!r}")
        return found


def _ack_problem(response: httpx.Response, deadline: float) -> str | None:
    """``failed`` (not 200) or ``timeout`` (later than Slack waits), else None."""
    if response.status_code != 200:
        return "failed"
    if response.elapsed.total_seconds() > deadline:
        return "timeout"
    return None


def _ack_body(response: httpx.Response) -> Json | None:
    """The ack as a message body: JSON object, or plain text as ``{"text": ...}``."""
    if response.headers.get("content-type", "").startswith("application/json"):
        data = response.json()
        return data if isinstance(data, dict) and data else None
    return {"text": response.text} if response.text.strip() else None
