"""Drivers: play Slack's side towards a bot — commands, clicks, submissions, Home tab opens.

:class:`SlackDriver` sends them as signed HTTP requests to the bot's ``/slack/events``;
:class:`SocketModeDriver` pushes the same payloads as envelopes over the bot's Socket Mode
connection. Both have the same user-facing methods and judge the bot's ack the same way.

Triggers and response URLs come from the emulator, so the bot's follow-up Web API calls
(``views.open`` with the trigger, ``respond()`` to the URL) land on the same state. After a
``view_submission`` the driver applies the bot's ack to the emulated view, and after a slash
command it shows an ack body as Slack would (ephemeral unless ``in_channel``).

``last_ack_outcome`` says what Slack made of the last ack: ``failed`` (not 200), ``timeout``
(later than 3 s, or never: ignored); for commands ``shown`` / ``empty``; for clicks and
events ``acked``; for submissions ``closed`` / ``errors`` / ``updated`` / ``pushed`` /
``cleared``.
"""

from __future__ import annotations

import json
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final, Generic, TypeVar
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack import payloads
from bot.sandbox.slack.emulator import RunningEmulator
from bot.sandbox.slack.errors import DriverError, InvalidAck, SlackError
from bot.sandbox.slack.models import Json, Message, View
from bot.sandbox.slack.responses import deliver
from bot.sandbox.slack.seed import Channel, User
from bot.sandbox.slack.sockets import Envelope
from bot.sandbox.slack.views import apply_submission_ack

__all__ = [
    "ACK_DEADLINE_SECONDS",
    "DEFAULT_USER",
    "Ack",
    "SlackDriver",
    "SocketModeDriver",
]

DEFAULT_USER = "U03AGENT"
DEFAULT_CHANNEL = "C01SUPPORT"
ACK_DEADLINE_SECONDS = 3.0
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
COMMANDS: Final = "slash_commands"
INTERACTIVE: Final = "interactive"
EVENTS: Final = "events_api"
# Interactions whose ack may carry a payload (response_action, options); the rest are ignored.
_ANSWERABLE: Final = frozenset({"view_submission", "block_suggestion"})

R = TypeVar("R")


@cache
def _ssl_context() -> ssl.SSLContext:
    # httpx builds a CA-loaded SSL context per client (~50 ms); the bot is plain HTTP anyway.
    return ssl.create_default_context()


@dataclass(frozen=True)
class Ack:
    """The bot's answer to one delivery, however it travelled.

    ``status`` is the HTTP status (Socket Mode: 200 once acknowledged), None when no answer
    came; ``body`` is the answer's text (JSON text when ``is_json``), "" for none.
    """

    status: int | None
    seconds: float
    body: str = ""
    is_json: bool = False

    @classmethod
    def from_http(cls, response: httpx.Response) -> Ack:
        """An HTTP response as an ack."""
        is_json = response.headers.get("content-type", "").startswith(JSON)
        return cls(response.status_code, response.elapsed.total_seconds(), response.text, is_json)

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> Ack:
        """A Socket Mode acknowledgement (or its absence) as an ack."""
        seconds = envelope.ack_seconds
        if seconds is None:
            return cls(None, time.monotonic() - envelope.sent_at)
        payload = envelope.ack_payload if envelope.accepts_response_payload else None
        return cls(200, seconds, json.dumps(payload) if payload else "", payload is not None)

    def problem(self, deadline: float) -> str | None:
        """``failed`` (not 200) or ``timeout`` (none, or later than Slack waits), else None."""
        if self.status is None:
            return "timeout"
        if self.status != 200:
            return "failed"
        if self.seconds > deadline:
            return "timeout"
        return None

    def message_body(self) -> Json | None:
        """The ack as a message body: a JSON object, or plain text as ``{"text": ...}``."""
        if self.is_json:
            data = json.loads(self.body) if self.body else None
            return data if isinstance(data, dict) and data else None
        return {"text": self.body} if self.body.strip() else None


class _Driver(ABC, Generic[R]):
    """What users do, whatever the transport; subclasses deliver and return ``R``."""

    def __init__(self, emulator: RunningEmulator, *, ack_deadline_seconds: float) -> None:
        self.emulator = emulator
        self.state = emulator.state
        self.last_ack_outcome: str | None = None  # what Slack made of the bot's last ack
        self.ack_deadline_seconds = ack_deadline_seconds

    @abstractmethod
    async def _deliver(self, kind: str, payload: Json) -> tuple[R, Ack]:
        """Send one ``slash_commands`` / ``interactive`` / ``events_api`` payload."""

    # ---- what users do ---------------------------------------------------------------------

    async def command(
        self,
        text: str,
        *,
        user: str = DEFAULT_USER,
        channel: str = DEFAULT_CHANNEL,
        command: str = "/coupon",
    ) -> R:
        """Run a slash command; an ack body is shown to the user like Slack does."""
        who, where = self._user(user), self._channel(channel)
        if who.id not in where.members:
            raise DriverError(f"{who.id} is not in {where.id}: they cannot type a command there")
        if where.is_archived:
            raise DriverError(f"{where.id} is archived: nobody can type a command there")
        response_url = self.state.issue_response_url(who.id, where.id)
        form = payloads.command_form(
            text=payloads.escape_mentions(text, self.state.workspace.users.values()),
            user=who,
            channel=where,
            command=command,
            response_url=response_url,
            trigger_id=self.state.issue_trigger(who.id),
        )
        result, ack = await self._deliver(COMMANDS, form)
        self.last_ack_outcome = self._show_command_ack(ack, response_url)
        return result

    async def click(
        self,
        action_id: str,
        *,
        value: str | None = None,
        user: str | None = None,
        message: Message | None = None,
        view_id: str | None = None,
        home: bool = False,
    ) -> R:
        """Click a button in a message (as it is now), an open view, or the user's Home tab."""
        if [message is not None, view_id is not None, home].count(True) != 1:
            raise DriverError("click needs exactly one of message=, view_id= or home=True")
        if message is not None:
            return await self._click_message(action_id, value, user or DEFAULT_USER, message)
        if home:
            return await self._click_home(action_id, value, user or DEFAULT_USER)
        return await self._click_view(action_id, value, user, str(view_id))

    async def submit(
        self,
        view_id: str,
        values: Mapping[str, str],
        *,
        user: str | None = None,
        check_required: bool = True,
    ) -> R:
        """Submit an open view with ``{block_id: value}``; then apply the bot's ack to it."""
        view = self._visible_view(view_id, user)
        if view.payload.get("submit") is None:
            raise DriverError(f"view {view_id} has no submit button")
        view.values = payloads.state_values(view, values, check_required=check_required)
        trigger = self.state.issue_trigger(view.user, view_id=view.id)
        payload = payloads.view_submission(
            user=self._user(view.user), view=view, trigger_id=trigger
        )
        result, ack = await self._deliver(INTERACTIVE, payload)
        self.last_ack_outcome = self._apply_submission_ack(view, ack)
        return result

    async def open_home(self, *, user: str = DEFAULT_USER) -> R:
        """The user opens the app's Home tab: an ``app_home_opened`` event reaches the bot."""
        who = self._user(user)
        event = payloads.app_home_opened(
            user=who,
            channel=self.state.workspace.dm_with(who.id),
            event_ts=self.state.new_ts(),
            view=self.state.home(who.id),
        )
        body = payloads.event_callback(
            event, event_id=self.state.new_id("Ev"), event_time=int(self.state.clock())
        )
        result, ack = await self._deliver(EVENTS, body)
        self.last_ack_outcome = ack.problem(self.ack_deadline_seconds) or "acked"
        return result

    # ---- helpers ---------------------------------------------------------------------------

    def _apply_submission_ack(self, view: View, ack: Ack) -> str:
        problem = ack.problem(self.ack_deadline_seconds)
        if problem == "timeout":
            return "timeout"  # Slack gave up waiting: the modal shows an error, unchanged
        return apply_submission_ack(self.state, view, ack.status or 0, ack.body)

    async def _click_message(
        self, action_id: str, value: str | None, user: str, message: Message
    ) -> R:
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
    ) -> R:
        view = self._visible_view(view_id, user)
        payload = payloads.block_actions(
            user=self._user(view.user),
            button=payloads.find_button(view.blocks, action_id, value),
            trigger_id=self.state.issue_trigger(view.user, view_id=view.id),
            view=view,
        )
        return await self._post_action(payload)

    async def _click_home(self, action_id: str, value: str | None, user: str) -> R:
        """A click in the Home tab: no response_url, and its trigger opens (not pushes) modals."""
        view = self.state.home(self._user(user).id)
        if view is None:
            raise DriverError(f"the bot has published no Home tab for {user}")
        payload = payloads.block_actions(
            user=self._user(user),
            button=payloads.find_button(view.blocks, action_id, value),
            trigger_id=self.state.issue_trigger(user),
            view=view,
        )
        return await self._post_action(payload)

    async def _post_action(self, payload: Json) -> R:
        """A block_actions delivery; Slack ignores the ack body, so only its timing counts."""
        result, ack = await self._deliver(INTERACTIVE, payload)
        self.last_ack_outcome = ack.problem(self.ack_deadline_seconds) or "acked"
        return result

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

    def _show_command_ack(self, ack: Ack, response_url: str) -> str:
        """A 200 ack in time with a body is the command's reply: ``shown``, else ``empty``."""
        problem = ack.problem(self.ack_deadline_seconds)
        if problem is not None:
            return problem
        body = ack.message_body()
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


class SlackDriver(_Driver[httpx.Response]):
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
        super().__init__(emulator, ack_deadline_seconds=ack_deadline_seconds)
        self.bot_url = bot_url
        self._verifier = SignatureVerifier(signing_secret)
        self._http = http
        self._timeout = timeout

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

    async def _deliver(self, kind: str, payload: Json) -> tuple[httpx.Response, Ack]:
        """Commands as a form, interactions as ``payload=<json>``, events as JSON; signed."""
        if kind == EVENTS:
            body, content_type = json.dumps(payload).encode(), JSON
        elif kind == INTERACTIVE:
            body, content_type = urlencode({"payload": json.dumps(payload)}).encode(), FORM
        else:
            body, content_type = urlencode(payload).encode(), FORM
        response = await self.post_raw(body, self.sign(body), content_type)
        return response, Ack.from_http(response)


class SocketModeDriver(_Driver[Envelope]):
    """Pushes what Slack would send as envelopes over the bot's Socket Mode connection.

    Each method returns the :class:`Envelope` (with the bot's ack, if one came within
    ``timeout`` seconds). A missing ack is a ``timeout``, as it is for Slack.
    """

    def __init__(
        self,
        emulator: RunningEmulator,
        *,
        timeout: float = 10.0,
        ack_deadline_seconds: float = ACK_DEADLINE_SECONDS,
    ) -> None:
        super().__init__(emulator, ack_deadline_seconds=ack_deadline_seconds)
        self.sockets = emulator.sockets
        self.timeout = timeout

    async def _deliver(self, kind: str, payload: Json) -> tuple[Envelope, Ack]:
        answerable = kind == COMMANDS or (kind == INTERACTIVE and payload["type"] in _ANSWERABLE)
        envelope = await self.sockets.push(
            kind, payload, accepts_response_payload=answerable, wait=self.timeout
        )
        return envelope, Ack.from_envelope(envelope)
