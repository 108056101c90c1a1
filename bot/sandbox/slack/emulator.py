"""A strict local Slack Web API served by aiohttp, and ``running_slack_emulator()``.

Routes:
    GET|POST /api/<method>        the Web API (form or JSON bodies, ``Authorization: Bearer``)
    GET      /link/?ticket=…      Socket Mode WebSocket (URLs from apps.connections.open)
    POST     /response/<token>    response_url sink (URLs issued by the driver)
    POST     /upload/<file_id>    upload URLs from files.getUploadURLExternal (raw bytes)
    GET      /__emulator/calls    recorded calls (``?method=`` to filter)
    POST     /__emulator/reset    back to the seeded workspace
    GET|POST /__emulator/ratelimit  429 rules: {"method", "every"|"next", "retry_after"}
                                  or {"clear": true}

Answers are HTTP 200 ``{"ok": true, ...}`` or ``{"ok": false, "error": code}`` like Slack,
except rate limiting (HTTP 429 + ``Retry-After``). Any ``xoxb-…`` token is the bot's and any
``xapp-…`` token the app's; each method takes only its own kind (``not_allowed_token_type``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from bot.sandbox.slack import chat, directory, files, sockets, views
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.limits import LIMITS
from bot.sandbox.slack.models import Call, Json
from bot.sandbox.slack.responses import post_response
from bot.sandbox.slack.seed import TEAM_ID
from bot.sandbox.slack.sockets import SocketHub
from bot.sandbox.slack.state import EmulatorState

__all__ = [
    "APP_TOKEN_METHODS",
    "METHODS",
    "SOCKETS",
    "STATE",
    "RunningEmulator",
    "build_emulator_app",
    "running_slack_emulator",
    "serve_forever",
]

Method = Callable[[EmulatorState, Mapping[str, Any]], Json]

METHODS: Final[Mapping[str, Method]] = {
    "apps.connections.open": sockets.connections_open,
    "auth.test": directory.auth_test,
    "chat.postMessage": chat.post_message,
    "chat.update": chat.update,
    "chat.postEphemeral": chat.post_ephemeral,
    "chat.getPermalink": chat.get_permalink,
    "files.getUploadURLExternal": files.get_upload_url_external,
    "files.completeUploadExternal": files.complete_upload_external,
    "views.open": views.open_view,
    "views.update": views.update_view,
    "views.push": views.push_view,
    "views.publish": views.publish_view,
    "usergroups.list": directory.usergroups_list,
    "usergroups.users.list": directory.usergroups_users_list,
    "users.info": directory.users_info,
}

# Called with the app-level token (xapp-…, in the Authorization header); the rest with xoxb-….
APP_TOKEN_METHODS: Final = frozenset({"apps.connections.open"})

STATE = web.AppKey("slack_emulator_state", EmulatorState)
SOCKETS = web.AppKey("slack_emulator_sockets", SocketHub)
BOT_SCOPES = "commands,chat:write,usergroups:read,users:read,files:write"
SHUTDOWN_TIMEOUT_SECONDS = 1.0
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def build_emulator_app(state: EmulatorState | None = None) -> web.Application:
    """The emulator as an aiohttp app (a fresh seeded state by default)."""
    app = web.Application()
    app[STATE] = state if state is not None else EmulatorState()
    app[SOCKETS] = hub = SocketHub(app[STATE])
    app.on_shutdown.append(hub.close_all)
    app.router.add_get("/api/{method}", _api)
    app.router.add_post("/api/{method}", _api)
    app.router.add_get(sockets.SOCKET_PATH, hub.handle)
    app.router.add_post("/response/{token:.+}", _response)
    app.router.add_post(files.UPLOAD_PATH + "{file_id}", _upload)
    app.router.add_get("/__emulator/calls", _calls)
    app.router.add_post("/__emulator/reset", _reset)
    app.router.add_get("/__emulator/ratelimit", _get_rate_limits)
    app.router.add_post("/__emulator/ratelimit", _set_rate_limits)
    return app


# ---- Web API ------------------------------------------------------------------------------


async def _api(request: web.Request) -> web.Response:
    state = request.app[STATE]
    method = request.match_info["method"]
    try:
        args, body_token = await _read_args(request)
    except SlackError as exc:
        return _answer(state, method, {}, exc)
    try:
        result = _dispatch(request, state, method, args, body_token)
    except SlackError as exc:
        return _answer(state, method, args, exc)
    except _RateLimited as limited:
        return _rate_limited(state, method, args, limited.retry_after)
    return _answer(state, method, args, result)


class _RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _dispatch(
    request: web.Request,
    state: EmulatorState,
    method: str,
    args: Mapping[str, Any],
    body_token: str | None,
) -> Json:
    handler = METHODS.get(method)
    if handler is None:
        raise SlackError("unknown_method")
    _authenticate(method, request.headers.get("Authorization"), body_token)
    retry_after = state.rate_limits.check(method)
    if retry_after is not None:
        raise _RateLimited(retry_after)
    return handler(state, args)


def _authenticate(method: str, header: str | None, body_token: str | None) -> None:
    """Bearer header (or a form ``token``) of the kind ``method`` takes.

    App-level tokens must come in the header (Slack refuses them as a POST parameter).
    """
    token = body_token
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            raise SlackError("invalid_auth")
    if not token:
        raise SlackError("not_authed")
    kind = next((k for k in _TOKEN_KINDS if token.startswith(k) and len(token) > len(k)), None)
    if kind is None:
        raise SlackError("invalid_auth")
    wanted = "xapp-" if method in APP_TOKEN_METHODS else "xoxb-"
    if kind != wanted:
        raise SlackError("not_allowed_token_type")
    if kind == "xapp-" and header is None:
        raise SlackError("not_authed")


_TOKEN_KINDS: Final = ("xoxb-", "xapp-")


async def _read_args(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Query string plus the form or JSON body; the body ``token`` is returned apart."""
    args: dict[str, Any] = dict(request.query)
    args.pop("token", None)  # Slack refuses tokens in query strings
    if request.method == "POST" and request.body_exists:
        args.update(await _read_body(request))
    token = args.pop("token", None)
    return args, token if isinstance(token, str) else None


async def _read_body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(await request.text())
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("invalid_json")
        return data
    if request.content_type in _FORM_TYPES:
        form = await request.post()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    raise SlackError("invalid_form_data")


def _answer(
    state: EmulatorState, method: str, args: Mapping[str, Any], result: Json | SlackError
) -> web.Response:
    if isinstance(result, SlackError):
        body: Json = {"ok": False, "error": result.code}
        if result.messages:
            body["response_metadata"] = {"messages": result.messages}
    else:
        body = {"ok": True, **result}
    error = None if body["ok"] else str(body["error"])
    state.record(Call(method, dict(args), error is None, error, state.clock(), 200, body))
    return web.json_response(body, headers={"x-oauth-scopes": BOT_SCOPES})


def _rate_limited(
    state: EmulatorState, method: str, args: Mapping[str, Any], retry_after: int
) -> web.Response:
    body: Json = {"ok": False, "error": "ratelimited"}
    state.record(Call(method, dict(args), False, "ratelimited", state.clock(), 429, body))
    return web.json_response(body, status=429, headers={"Retry-After": str(retry_after)})


# ---- response_url sink --------------------------------------------------------------------


async def _response(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token = request.match_info["token"]
    try:
        body: object = json.loads(await request.text())
    except ValueError:
        body = None
    status, answer = post_response(state, token, body)
    args = {**(body if isinstance(body, dict) else {}), "response_url_token": token}
    error = None if answer.get("ok") else str(answer.get("error"))
    state.record(Call("response_url", args, error is None, error, state.clock(), status, answer))
    return web.json_response(answer, status=status)


# ---- upload URLs --------------------------------------------------------------------------


async def _upload(request: web.Request) -> web.Response:
    state = request.app[STATE]
    file_id = request.match_info["file_id"]
    data = await request.read()
    status, text = files.receive_upload(state, file_id, data)
    args: Json = {"file_id": file_id, "length": len(data)}
    error = None if status == 200 else text
    state.record(Call("upload", args, error is None, error, state.clock(), status, {}))
    return web.Response(status=status, text=text, content_type="text/plain")


# ---- admin --------------------------------------------------------------------------------


async def _calls(request: web.Request) -> web.Response:
    method = request.query.get("method")
    return web.json_response([call.as_json() for call in request.app[STATE].calls(method)])


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    request.app[SOCKETS].forget()
    return web.json_response({"reset": True})


async def _get_rate_limits(request: web.Request) -> web.Response:
    return web.json_response({"rules": request.app[STATE].rate_limits.as_json()})


async def _set_rate_limits(request: web.Request) -> web.Response:
    limits = request.app[STATE].rate_limits
    try:
        body = json.loads(await request.text())
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        limits.set_from_json(body)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"rules": limits.as_json()})


# ---- running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningEmulator:
    """An emulator listening on ``base_url`` (no trailing slash)."""

    base_url: str
    state: EmulatorState
    app: web.Application

    @property
    def api_url(self) -> str:
        """What ``AsyncWebClient(base_url=...)`` takes: ``<base_url>/api/``."""
        return f"{self.base_url}/api/"

    @property
    def sockets(self) -> SocketHub:
        """Socket Mode connections and the envelopes pushed through them."""
        return self.app[SOCKETS]


@asynccontextmanager
async def running_slack_emulator(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    trigger_ttl_seconds: float = LIMITS.trigger_ttl_seconds,
    state: EmulatorState | None = None,
) -> AsyncIterator[RunningEmulator]:
    """Run the emulator in the current event loop (port 0 = a free port) until the block ends."""
    if state is None:
        state = EmulatorState(trigger_ttl_seconds=trigger_ttl_seconds)
    app = build_emulator_app(state)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        url_host = f"[{host}]" if ":" in host else host
        state.base_url = f"http://{url_host}:{runner.addresses[0][1]}"
        yield RunningEmulator(state.base_url, state, app)
    finally:
        await runner.cleanup()


async def serve_forever(port: int, host: str = "127.0.0.1") -> None:
    """Start the emulator, print where it listens, and run until cancelled."""
    async with running_slack_emulator(port, host=host) as emulator:
        sys.stdout.write(
            f"Slack Web API emulator for team {TEAM_ID}\n"
            f"  AsyncWebClient(base_url={emulator.api_url!r}, token='xoxb-…')\n"
            "  Socket Mode: apps.connections.open with any app token 'xapp-…'\n"
            f"  admin: {emulator.base_url}/__emulator/calls | reset | ratelimit\n"
            "Press Ctrl-C to stop.\n"
        )
        sys.stdout.flush()
        await asyncio.Event().wait()
