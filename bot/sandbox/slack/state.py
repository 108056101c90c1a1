"""The emulator's memory and its Python API for tests and the shell (no aiohttp here).

The Web API methods (:mod:`chat`, :mod:`views`, :mod:`directory`, :mod:`files`,
:mod:`responses`, :mod:`sockets`) change this state; tests read it back with ``messages()``,
``replies()``, ``ephemerals()``, ``views()``, ``home()``, ``files``/``files_in()``,
``calls()`` and wait on it with ``wait_for()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.limits import LIMITS
from bot.sandbox.slack.models import Call, File, Message, ResponsePost, ResponseUrl, Trigger, View
from bot.sandbox.slack.ratelimit import RateLimits
from bot.sandbox.slack.seed import Channel, Workspace, seed_workspace

__all__ = ["EmulatorState"]

T = TypeVar("T")

MAX_RECORDED_CALLS = 5000
POLL_SECONDS = 0.05
_RECENT_CALLS_SHOWN = 10


class EmulatorState:
    """Messages, views, triggers, response URLs and recorded calls of one emulated workspace."""

    def __init__(
        self,
        *,
        trigger_ttl_seconds: float = LIMITS.trigger_ttl_seconds,
        response_url_ttl_seconds: float = LIMITS.response_url_ttl_seconds,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trigger_ttl_seconds = trigger_ttl_seconds
        self.response_url_ttl_seconds = response_url_ttl_seconds
        self.clock = clock
        self.base_url = "http://emulator.invalid"  # replaced by the server once it listens
        self.rate_limits = RateLimits()
        self._changed = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        """Back to the freshly seeded workspace: no messages, views, calls or 429 rules."""
        self.workspace: Workspace = seed_workspace()
        self._messages: dict[tuple[str, str], Message] = {}
        self._ephemerals: dict[str, Message] = {}
        self._views: dict[str, View] = {}
        self._homes: dict[str, View] = {}
        self._socket_tickets: dict[str, float] = {}
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._responses: list[ResponsePost] = []
        self._files: dict[str, File] = {}
        self._calls: list[Call] = []
        self._last_micros = 0
        self._ids = itertools.count(1)
        self.rate_limits.clear()
        self.notify()

    # ---- reading ---------------------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages of a channel, oldest first."""
        return [m for m in self._messages.values() if m.channel == channel and not m.is_reply]

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        """Replies in one thread (without the parent), oldest first."""
        return [
            m for m in self._messages.values() if (m.channel, m.thread_ts) == (channel, thread_ts)
        ]

    def message(self, channel: str, ts: str) -> Message | None:
        """A (non-ephemeral) message or reply by channel and ts."""
        return self._messages.get((channel, ts))

    def ephemerals(self, user: str | None = None) -> list[Message]:
        """Ephemeral messages (for one user, or everyone's), oldest first."""
        return [m for m in self._ephemerals.values() if user in (None, m.ephemeral_for)]

    def ephemeral(self, ts: str) -> Message | None:
        """An ephemeral message by its ``message_ts``."""
        return self._ephemerals.get(ts)

    @property
    def responses(self) -> list[ResponsePost]:
        """Accepted response_url posts, oldest first."""
        return list(self._responses)

    def views(self, user: str | None = None, *, open_only: bool = False) -> list[View]:
        """Views ever opened (for one user), oldest first; ``open_only`` drops closed ones."""
        return [
            v
            for v in self._views.values()
            if user in (None, v.user) and (v.is_open or not open_only)
        ]

    def view(self, view_id: str) -> View:
        """A view by id (KeyError naming the known ids when there is none)."""
        try:
            return self._views[view_id]
        except KeyError:
            raise KeyError(f"no view {view_id!r}; known: {sorted(self._views)}") from None

    def current_view(self, user: str) -> View | None:
        """The view a user is looking at: the top of their open stack."""
        stack = self.views(user, open_only=True)
        return stack[-1] if stack else None

    def home(self, user: str) -> View | None:
        """The Home tab the bot last published for ``user`` (``views.publish``), if any."""
        return self._homes.get(user)

    def homes(self) -> list[View]:
        """Every published Home tab, in the order they were first published."""
        return list(self._homes.values())

    @property
    def files(self) -> list[File]:
        """Files shared by ``files.completeUploadExternal``, oldest first."""
        return [f for f in self._files.values() if f.completed]

    def files_in(self, channel: str, thread_ts: str | None = None) -> list[File]:
        """Files shared in a channel's top level (or in one thread), oldest first."""
        return [f for f in self.files if (f.channel, f.thread_ts) == (channel, thread_ts)]

    def file(self, file_id: str) -> File | None:
        """A file by id, shared or not (uploads in progress too)."""
        return self._files.get(file_id)

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls (of one method), oldest first."""
        return [call for call in self._calls if method in (None, call.method)]

    def user_names(self) -> dict[str, str]:
        """User id → name, for rendering."""
        return self.workspace.user_names()

    # ---- issuing what Slack hands to the bot ----------------------------------------------

    def issue_trigger(self, user_id: str, *, view_id: str | None = None) -> str:
        """A fresh trigger_id for ``user_id`` (from inside ``view_id`` when given)."""
        self.require_user(user_id)
        trigger_id = f"{next(self._ids)}.{int(self.clock())}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = Trigger(trigger_id, user_id, self.clock(), view_id)
        return trigger_id

    def issue_response_url(self, user: str, channel: str, original: Message | None = None) -> str:
        """A fresh response URL for a command or a click on ``original``."""
        token = f"T{next(self._ids)}/{secrets.token_hex(12)}"
        self._response_urls[token] = ResponseUrl(token, user, channel, self.clock(), original)
        return f"{self.base_url}/response/{token}"

    def response_url(self, token: str) -> ResponseUrl | None:
        """What a response URL token was issued for."""
        return self._response_urls.get(token)

    def issue_socket_ticket(self) -> str:
        """A ticket for one Socket Mode connection (what ``apps.connections.open`` hands out)."""
        ticket = secrets.token_urlsafe(16)
        self._socket_tickets[ticket] = self.clock()
        return ticket

    def take_socket_ticket(self, ticket: str) -> bool:
        """Use up a Socket Mode ticket: True once per ticket that was issued."""
        return self._socket_tickets.pop(ticket, None) is not None

    def take_trigger(self, trigger_id: object) -> Trigger:
        """Exchange a trigger_id (single use, ``trigger_ttl_seconds`` old at most)."""
        if not isinstance(trigger_id, str) or not trigger_id:
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > self.trigger_ttl_seconds:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    # ---- changing state (used by the method modules) --------------------------------------

    def new_ts(self) -> str:
        """A unique, increasing message ts in Slack's ``1732581234.000100`` form."""
        micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        """A Slack-looking id such as ``V0000000007``."""
        return f"{prefix}{next(self._ids):010d}"

    def add_message(self, message: Message) -> Message:
        """Store a message (channel message, reply or ephemeral)."""
        if message.ephemeral_for is not None:
            self._ephemerals[message.ts] = message
            return message
        self._messages[(message.channel, message.ts)] = message
        if message.thread_ts is not None:
            self._messages[(message.channel, message.thread_ts)].reply_count += 1
        return message

    def delete_message(self, message: Message) -> None:
        """Remove a message (``delete_original``)."""
        if message.ephemeral_for is not None:
            self._ephemerals.pop(message.ts, None)
        else:
            self._messages.pop((message.channel, message.ts), None)

    def post_user_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """A human posts in a channel (or thread): for tests of what the bot must not edit."""
        found = self.require_channel(channel)
        self.require_user(user)
        parent = self.thread_parent(found.id, thread_ts)
        message = Message(found.id, self.new_ts(), text, [], user=user, bot_id=None)
        message.thread_ts, message.via = parent, "user"
        return self.add_message(message)

    def thread_parent(self, channel: str, thread_ts: object) -> str | None:
        """The validated ``thread_ts``: a top-level message of that channel, else refused."""
        if thread_ts in (None, ""):
            return None
        parent = self._messages.get((channel, str(thread_ts)))
        if parent is None or parent.is_reply:
            raise SlackError("thread_not_found")
        return parent.ts

    def require_channel(self, channel_id: object) -> Channel:
        """A channel by id (a ``U…`` id means the bot's DM with that user)."""
        if isinstance(channel_id, str) and channel_id in self.workspace.users:
            return self.workspace.dm_with(channel_id)
        found = self.workspace.channels.get(str(channel_id))
        if found is None:
            raise SlackError("channel_not_found")
        return found

    def remove_member(self, channel_id: str, user_id: str) -> None:
        """Someone leaves or is removed from a channel; ``BOT_USER_ID`` for the bot being
        kicked: it then gets ``not_in_channel`` when it posts there (its edits still work)."""
        found = self._named_channel(channel_id)
        self.require_user(user_id)
        found.members.discard(user_id)
        self.notify()

    def archive(self, channel_id: str) -> None:
        """Archive a channel: posting there is ``is_archived``, editing ``is_inactive``."""
        self._named_channel(channel_id).is_archived = True
        self.notify()

    def _named_channel(self, channel_id: str) -> Channel:
        found = self.workspace.channels.get(channel_id)
        if found is None or found.is_im:
            raise ValueError(f"no channel {channel_id!r}; known: {sorted(self.workspace.channels)}")
        return found

    def require_user(self, user_id: str) -> None:
        """ValueError for ids outside the seeded workspace (a driver/test mistake)."""
        if user_id not in self.workspace.users:
            raise ValueError(f"unknown user {user_id!r}; known: {sorted(self.workspace.users)}")

    def add_view(self, view: View) -> View:
        """Store a view."""
        self._views[view.id] = view
        return view

    def add_home(self, view: View) -> View:
        """Store a user's (first) published Home tab."""
        self._homes[view.user] = view
        return view

    def add_file(self, file: File) -> File:
        """Store a file that was given an upload URL."""
        self._files[file.id] = file
        return file

    def add_response(self, post: ResponsePost) -> None:
        """Store an accepted response_url post."""
        self._responses.append(post)

    def record(self, call: Call) -> None:
        """Remember one answered request and wake ``wait_for``."""
        self._calls.append(call)
        del self._calls[:-MAX_RECORDED_CALLS]
        self.notify()

    def notify(self) -> None:
        """Wake every ``wait_for`` so it re-checks its predicate."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # ---- waiting ---------------------------------------------------------------------------

    # The timeout bounds the condition (and names recent calls when it fails), so it is a
    # parameter rather than the caller's asyncio.timeout().
    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> T:
        """Re-check ``predicate`` after every change until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed
            found = predicate()
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(timeout))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, POLL_SECONDS))

    def _timeout_message(self, timeout: float) -> str:
        recent = self._calls[-_RECENT_CALLS_SHOWN:]
        lines = [f"  {call.describe()}" for call in recent] or ["  (no calls recorded)"]
        return f"condition not met within {timeout:g}s; recent calls:\n" + "\n".join(lines)
