"""What the aiohttp layer shares: the app context, recorded calls and small helpers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.capillary.auth import AuthKind, TokenStore
from bot.sandbox.capillary.faults import Faults
from bot.sandbox.capillary.state import SandboxState

REQUEST_ID_HEADER = "X-Cap-Requestid"


class BadRequest(Exception):
    """Malformed or missing input: answered with an HTTP 400 envelope."""


@dataclass
class RecordedCall:
    """One API request as the sandbox received it (admin calls are not recorded)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    auth: AuthKind
    status: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "json": self.json,
            "auth": self.auth,
            "status": self.status,
        }


@dataclass
class SandboxContext:
    """Everything a running sandbox app owns."""

    state: SandboxState
    faults: Faults
    tokens: TokenStore
    calls: list[RecordedCall] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def pause(self, seconds: float) -> None:
        """Sleep without blocking other requests; cut short when the server shuts down."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)


CONTEXT = web.AppKey("capillary_sandbox", SandboxContext)
TRANSIENT = web.RequestKey("capillary_sandbox_transient", int)


def context(request: web.Request) -> SandboxContext:
    """The sandbox context of the app serving this request."""
    return request.app[CONTEXT]


def reply(data: object, status: int = 200) -> web.Response:
    """A JSON response."""
    return web.json_response(data, status=status)


async def json_body(request: web.Request) -> Any:
    """The request body parsed as JSON; BadRequest when it is not JSON."""
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from exc
