"""The records the emulator keeps: messages, views, triggers, response URLs, calls."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.slack.seed import APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_ID

__all__ = [
    "Call",
    "File",
    "Json",
    "Message",
    "ResponsePost",
    "ResponseUrl",
    "Revision",
    "Trigger",
    "View",
]

Json = dict[str, Any]


@dataclass(frozen=True)
class Revision:
    """A message's content before one ``chat.update`` (or ``replace_original``)."""

    text: str
    blocks: list[Json]
    replaced_at: float


@dataclass
class Message:
    """A channel message, thread reply or ephemeral message.

    ``thread_ts`` is None for top-level messages; ``ephemeral_for`` names the only user who
    sees an ephemeral one; ``edited`` holds earlier versions, oldest first.
    """

    channel: str
    ts: str
    text: str
    blocks: list[Json]
    user: str = BOT_USER_ID
    bot_id: str | None = BOT_ID
    thread_ts: str | None = None
    ephemeral_for: str | None = None
    edited: list[Revision] = field(default_factory=list)
    via: str = "chat.postMessage"
    reply_count: int = 0

    @property
    def is_reply(self) -> bool:
        """True for a message inside a thread."""
        return self.thread_ts is not None

    def revise(self, text: str, blocks: list[Json], at: float) -> None:
        """Replace the content, keeping the previous version in ``edited``."""
        self.edited.append(Revision(self.text, self.blocks, at))
        self.text, self.blocks = text, blocks

    def as_json(self) -> Json:
        """The message as Slack shows it in API answers and interaction payloads."""
        found: Json = {"type": "message", "user": self.user, "ts": self.ts, "text": self.text}
        found["blocks"] = copy.deepcopy(self.blocks)
        found["team"] = TEAM_ID
        if self.bot_id is not None:
            found.update(bot_id=self.bot_id, app_id=APP_ID, bot_profile=_BOT_PROFILE)
        if self.thread_ts is not None:
            found.update(thread_ts=self.thread_ts, parent_user_id=BOT_USER_ID)
        elif self.reply_count:
            found.update(thread_ts=self.ts, reply_count=self.reply_count)
        if self.edited:
            found["edited"] = {"user": self.user, "ts": f"{self.edited[-1].replaced_at:.6f}"}
        return found


_BOT_PROFILE: Json = {"id": BOT_ID, "app_id": APP_ID, "name": BOT_NAME, "team_id": TEAM_ID}


@dataclass
class File:
    """A file from ``files.getUploadURLExternal``: its bytes once POSTed to the upload URL,
    and where ``files.completeUploadExternal`` shared it (``channel`` None: not shared yet).
    """

    id: str
    name: str
    length: int
    title: str = ""
    content: bytes | None = None
    completed: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None

    @property
    def uploaded(self) -> bool:
        """True once the bytes were POSTed to the upload URL."""
        return self.content is not None

    @property
    def text(self) -> str:
        """The content as UTF-8 text ("" before the upload)."""
        return (self.content or b"").decode("utf-8")

    def as_json(self) -> Json:
        """The file object of ``files.completeUploadExternal``'s answer."""
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "size": len(self.content or b""),
            "user": BOT_USER_ID,
            "channels": [self.channel] if self.channel else [],
        }


@dataclass
class View:
    """One modal in a user's view stack.

    ``payload`` is the view object the bot sent (with Slack's generated block ids filled
    in); ``values`` is ``state.values`` from the last submission; ``errors`` are the
    ``response_action: errors`` the bot answered with, shown under the input blocks.
    """

    id: str
    user: str
    payload: Json
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    values: Json = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    is_open: bool = True
    history: list[Json] = field(default_factory=list)

    @property
    def callback_id(self) -> str:
        """The bot's ``callback_id`` ("" when it set none)."""
        return str(self.payload.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        """The bot's ``private_metadata`` ("" when it set none)."""
        return str(self.payload.get("private_metadata", ""))

    @property
    def external_id(self) -> str:
        """The bot's ``external_id`` ("" when it set none)."""
        return str(self.payload.get("external_id", ""))

    @property
    def blocks(self) -> list[Json]:
        """The view's blocks."""
        blocks = self.payload.get("blocks", [])
        return blocks if isinstance(blocks, list) else []

    @property
    def title(self) -> str:
        """The title's text."""
        title = self.payload.get("title")
        return str(title.get("text", "")) if isinstance(title, dict) else ""

    def as_json(self) -> Json:
        """The view as Slack returns it from ``views.*`` and puts it in payloads."""
        found: Json = {"id": self.id, "team_id": TEAM_ID, "type": "modal"}
        found.update(copy.deepcopy(self.payload))
        found.update(
            private_metadata=self.private_metadata,
            callback_id=self.callback_id,
            external_id=self.external_id,
            state={"values": copy.deepcopy(self.values)},
            hash=self.hash,
            clear_on_close=bool(self.payload.get("clear_on_close", False)),
            notify_on_close=bool(self.payload.get("notify_on_close", False)),
            root_view_id=self.root_view_id,
            previous_view_id=self.previous_view_id,
            app_id=APP_ID,
            app_installed_team_id=TEAM_ID,
            bot_id=BOT_ID,
        )
        return found


@dataclass
class Trigger:
    """A ``trigger_id`` handed to the bot: single use, short-lived, tied to a user."""

    id: str
    user: str
    issued_at: float
    view_id: str | None = None
    used: bool = False


@dataclass
class ResponseUrl:
    """A response URL the driver put in a payload, and what it may act on."""

    token: str
    user: str
    channel: str
    issued_at: float
    original: Message | None = None
    uses: int = 0
    last_posted: Message | None = None


@dataclass(frozen=True)
class ResponsePost:
    """One accepted post to a response URL."""

    token: str
    user: str
    channel: str
    body: Json
    at: float
    message: Message | None

    @property
    def response_type(self) -> str:
        """``ephemeral`` (Slack's default) or ``in_channel``."""
        return str(self.body.get("response_type") or "ephemeral")


@dataclass(frozen=True)
class Call:
    """One request the emulator answered: a Web API method or a response URL post."""

    method: str
    args: Json
    ok: bool
    error: str | None
    at: float
    status: int = 200
    response: Json = field(default_factory=dict)

    def as_json(self) -> Json:
        """JSON-ready view, for ``GET /__emulator/calls``."""
        return {
            "method": self.method,
            "args": self.args,
            "ok": self.ok,
            "error": self.error,
            "at": self.at,
            "status": self.status,
        }

    def describe(self) -> str:
        """One line for timeouts and logs."""
        outcome = "ok" if self.ok else f"error={self.error}"
        keys = ", ".join(sorted(self.args))
        return f"{self.method} ({keys}) -> {self.status} {outcome}"
