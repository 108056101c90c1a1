"""Socket Mode: ``apps.connections.open``, the WebSocket endpoint, and envelopes pushed to a bot.

A bot in Socket Mode calls ``apps.connections.open`` with its app-level token (``xapp-…``)
and gets a single-use ``ws://<emulator>/link/?ticket=<ticket>&app_id=<app>`` URL, shaped like
Slack's ``wss://wss-primary.slack.com/link/?ticket=…&app_id=…``. On connecting it receives a
``hello``; then Slack's deliveries arrive as envelopes

    {"envelope_id", "type": "slash_commands"|"interactive"|"events_api", "payload",
     "accepts_response_payload"}

and the bot acknowledges each with ``{"envelope_id", "payload"?}`` (the payload is what an
HTTP ack body would be, and counts only where ``accepts_response_payload`` is true).
:class:`SocketHub` keeps the live connections and the envelopes with their acks; the driver
pushes through it. Each envelope goes to one connection (round robin), as Slack does.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.slack.errors import DriverError
from bot.sandbox.slack.models import Json
from bot.sandbox.slack.seed import APP_ID
from bot.sandbox.slack.state import EmulatorState

__all__ = [
    "ENVELOPE_TYPES",
    "SOCKET_PATH",
    "Connection",
    "Envelope",
    "SocketHub",
    "connections_open",
]

SOCKET_PATH: Final = "/link/"
ENVELOPE_TYPES: Final = frozenset({"slash_commands", "interactive", "events_api"})
_DEBUG_HOST: Final = "applink-emulator"


def connections_open(state: EmulatorState, args: Mapping[str, Any]) -> Json:
    """A fresh single-use WebSocket URL (the token type is checked by the emulator)."""
    ws_base = "ws" + state.base_url.removeprefix("http")
    query = urlencode({"ticket": state.issue_socket_ticket(), "app_id": APP_ID})
    return {"url": f"{ws_base}{SOCKET_PATH}?{query}"}


@dataclass
class Envelope:
    """One delivery over Socket Mode and, once it came, the bot's acknowledgement.

    ``sent_at`` / ``acked_at`` are ``time.monotonic()`` readings; ``ack_payload`` is None
    for an ack without payload (or before the ack).
    """

    envelope_id: str
    type: str
    payload: Json
    accepts_response_payload: bool
    connection_id: int
    sent_at: float
    acked_at: float | None = None
    ack_payload: Json | None = None
    retry_attempt: int | None = None
    retry_reason: str | None = None

    @property
    def acked(self) -> bool:
        """True once the bot acknowledged this envelope."""
        return self.acked_at is not None

    @property
    def ack_seconds(self) -> float | None:
        """How long the ack took (None before it came)."""
        return None if self.acked_at is None else self.acked_at - self.sent_at

    def as_json(self) -> Json:
        """The envelope as it goes over the wire."""
        wire: Json = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.retry_attempt is not None:
            wire.update(retry_attempt=self.retry_attempt, retry_reason=self.retry_reason)
        return wire


@dataclass
class Connection:
    """One open WebSocket from a bot."""

    id: int
    socket: web.WebSocketResponse
    opened_at: float
    received: list[str] = field(default_factory=list)  # every text frame, in order

    @property
    def is_open(self) -> bool:
        """False once either side closed it."""
        return not self.socket.closed


class SocketHub:
    """Live Socket Mode connections and every envelope pushed through them."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.connections: list[Connection] = []
        self.envelopes: list[Envelope] = []
        self.unmatched: list[str] = []  # frames that acknowledged no envelope we sent
        self._ids = itertools.count(1)
        self._turn = itertools.count()

    def forget(self) -> None:
        """Drop the envelope history (``/__emulator/reset``); live connections stay open."""
        self.envelopes.clear()
        self.unmatched.clear()

    # ---- reading ---------------------------------------------------------------------------

    def open_connections(self) -> list[Connection]:
        """Connections still open, oldest first."""
        return [c for c in self.connections if c.is_open]

    def envelope(self, envelope_id: str) -> Envelope:
        """An envelope by id (KeyError when none was sent)."""
        for envelope in self.envelopes:
            if envelope.envelope_id == envelope_id:
                return envelope
        raise KeyError(envelope_id)

    # ---- pushing ---------------------------------------------------------------------------

    async def push(
        self,
        kind: str,
        payload: Json,
        *,
        accepts_response_payload: bool,
        wait: float = 10.0,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> Envelope:
        """Send one envelope and wait up to ``wait`` seconds for its ack (it may not come)."""
        if kind not in ENVELOPE_TYPES:
            raise DriverError(f"Slack sends no {kind!r} envelopes; use send_raw for junk")
        connection = await self._next_connection(wait)
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            type=kind,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            connection_id=connection.id,
            sent_at=time.monotonic(),
        )
        if kind == "events_api":  # only events are retried, so only they say which attempt
            envelope.retry_attempt, envelope.retry_reason = retry_attempt or 0, retry_reason or ""
        self.envelopes.append(envelope)
        await connection.socket.send_str(json.dumps(envelope.as_json()))
        with contextlib.suppress(TimeoutError):  # no ack: the caller says what Slack makes of it
            await self.state.wait_for(lambda: envelope.acked, timeout=wait)
        return envelope

    async def send_raw(self, text: str, *, wait: float = 10.0) -> Connection:
        """Send any text frame (malformed or unknown envelopes) to the next connection."""
        connection = await self._next_connection(wait)
        await connection.socket.send_str(text)
        return connection

    async def request_refresh(self, reason: str = "refresh_requested") -> None:
        """Ask every connection to reconnect, as Slack does before it drops one."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": _DEBUG_HOST}}
        for connection in self.open_connections():
            await connection.socket.send_str(json.dumps(message))

    async def wait_connected(self, wait: float = 10.0) -> Connection:
        """The newest open connection, waiting up to ``wait`` seconds for one."""
        try:
            return await self.state.wait_for(
                lambda: next(reversed(self.open_connections()), None), timeout=wait
            )
        except TimeoutError:
            raise DriverError(
                f"no Socket Mode connection within {wait:g}s: is the bot running in Socket Mode "
                "with SLACK_API_URL pointing at the emulator?"
            ) from None

    async def _next_connection(self, wait: float) -> Connection:
        await self.wait_connected(wait)
        live = self.open_connections()
        return live[next(self._turn) % len(live)]

    # ---- the WebSocket endpoint ------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``GET /link/?ticket=…``: upgrade, say hello, then read acks until it closes."""
        if not self.state.take_socket_ticket(request.query.get("ticket", "")):
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        connection = Connection(next(self._ids), socket, time.monotonic())
        self.connections.append(connection)
        await socket.send_str(json.dumps(self._hello()))
        self.state.notify()
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    self._receive(connection, str(frame.data))
        finally:
            self.state.notify()
        return socket

    async def close_all(self, app: web.Application | None = None) -> None:
        """Close every connection (the emulator is shutting down)."""
        for connection in self.open_connections():
            await connection.socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    def _hello(self) -> Json:
        return {
            "type": "hello",
            "num_connections": len(self.open_connections()),
            "debug_info": {
                "host": _DEBUG_HOST,
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": APP_ID},
        }

    def _receive(self, connection: Connection, text: str) -> None:
        """Match an ack to its envelope; anything else is kept in ``unmatched``."""
        connection.received.append(text)
        ack = _parse_ack(text)
        pending = [e for e in self.envelopes if ack and e.envelope_id == ack.get("envelope_id")]
        if not pending or pending[0].acked:
            self.unmatched.append(text)
        else:  # a late ack counts too: its ack_seconds tell the driver it was too late
            envelope = pending[0]
            envelope.acked_at = time.monotonic()
            payload = ack.get("payload") if ack else None
            envelope.ack_payload = payload if isinstance(payload, dict) else None
        self.state.notify()


def _parse_ack(text: str) -> Json | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
