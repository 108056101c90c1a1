"""The aiohttp application: routes, auth, fault injection, request ids, error envelopes."""

from __future__ import annotations

import json
import logging
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.sandbox.capillary import admin, handlers
from bot.sandbox.capillary.auth import TokenStore, authenticate
from bot.sandbox.capillary.context import (
    CONTEXT,
    REQUEST_ID_HEADER,
    TRANSIENT,
    BadRequest,
    RecordedCall,
    SandboxContext,
    context,
    reply,
)
from bot.sandbox.capillary.envelope import request_error
from bot.sandbox.capillary.faults import Faults
from bot.sandbox.capillary.state import SandboxState, seed_state

log = logging.getLogger(__name__)

API_PREFIX = "/v1.1/"
MAX_RECORDED_CALLS = 1000
MALFORMED_BODY = "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"


def build_sandbox_app(
    state: SandboxState | None = None,
    faults: Faults | None = None,
    token_ttl_seconds: int = 300,
) -> web.Application:
    """The sandbox as an aiohttp app (fresh seeded state and no faults by default)."""
    app = web.Application(middlewares=[_sandbox_middleware])
    app[CONTEXT] = SandboxContext(
        state=state if state is not None else seed_state(),
        faults=faults if faults is not None else Faults(),
        tokens=TokenStore(token_ttl_seconds),
    )
    app.router.add_post("/v1.1/coupon/issue", handlers.issue)
    app.router.add_post("/v1.1/coupon/redeem", handlers.redeem)
    app.router.add_get("/v1.1/coupon/resend", handlers.resend)
    app.router.add_get("/v1.1/coupon/get", handlers.get)
    app.router.add_get("/v1.1/coupon/series", handlers.series)
    app.router.add_get("/v1.1/coupon/isredeemable", handlers.isredeemable)
    app.router.add_post("/v3/oauth/token/generate", handlers.oauth_token)
    app.router.add_get("/__sandbox", admin.describe_text)
    app.router.add_get("/__sandbox/faults", admin.get_faults)
    app.router.add_post("/__sandbox/faults", admin.set_faults)
    app.router.add_post("/__sandbox/reset", admin.reset)
    app.router.add_get("/__sandbox/calls", admin.calls)
    app.on_shutdown.append(_wake_sleepers)
    return app


async def _wake_sleepers(app: web.Application) -> None:
    app[CONTEXT].stopping.set()


@web.middleware
async def _sandbox_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record API calls, answer errors with envelopes, stamp every response's request id."""
    call = await _record(request) if _is_recorded(request) else None
    response = await _respond(request, handler)
    if call is not None:
        call.status = response.status
    response.headers[REQUEST_ID_HEADER] = uuid.uuid4().hex
    return response


def _is_recorded(request: web.Request) -> bool:
    return request.path.startswith((API_PREFIX, "/v3/"))


def _is_api_route(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIX) and request.match_info.http_exception is None


async def _record(request: web.Request) -> RecordedCall:
    text = await request.text() if request.can_read_body else ""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    kind, _ = authenticate(request.headers, context(request).tokens)
    call = RecordedCall(request.method, request.path, dict(request.query), body, kind)
    calls = context(request).calls
    calls.append(call)
    del calls[:-MAX_RECORDED_CALLS]
    return call


async def _respond(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if _is_api_route(request):
            return await _guarded(request, handler)
        return await handler(request)
    except BadRequest as exc:
        return reply(request_error(400, str(exc)), status=400)
    except web.HTTPException as exc:
        response = reply(request_error(exc.status, exc.reason), status=exc.status)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("sandbox handler failed for %s %s", request.method, request.path)
        return reply(request_error(500, "Internal Server Error"), status=500)


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Latency, rate limit, auth, then the one-shot faults, then the real handler."""
    ctx = context(request)
    await ctx.pause(ctx.faults.latency_ms / 1000)
    retry_after = ctx.faults.rate_limited()
    if retry_after is not None:
        response = reply(request_error(429, "Rate limit exceeded"), status=429)
        response.headers["Retry-After"] = str(retry_after)
        return response
    if not authenticate(request.headers, ctx.tokens)[1]:
        return reply(request_error(401, "Unauthorized"), status=401)
    if request.query.get("format", "json").lower() != "json":
        raise BadRequest("The sandbox only speaks format=json")
    return await _faulted(request, handler, ctx)


async def _faulted(
    request: web.Request, handler: Handler, ctx: SandboxContext
) -> web.StreamResponse:
    faults = ctx.faults
    if faults.only_path and not request.path.rstrip("/").endswith(faults.only_path.strip("/")):
        return await handler(request)
    if faults.take("timeout_next"):
        return await _timeout(request, handler, ctx)
    if faults.take("http_500_next"):
        return reply(request_error(500, "Internal Server Error"), status=500)
    if faults.take("malformed_next"):
        return web.Response(text=MALFORMED_BODY, content_type="text/html")
    if faults.take("transient_next"):
        request[TRANSIENT] = faults.transient_code
    return await handler(request)


async def _timeout(
    request: web.Request, handler: Handler, ctx: SandboxContext
) -> web.StreamResponse:
    """Hold the answer for timeout_seconds; by default the call still takes effect first."""
    seconds = ctx.faults.timeout_seconds
    if ctx.faults.timeout_processes:
        response = await handler(request)
        await ctx.pause(seconds)
        return response
    await ctx.pause(seconds)
    return reply(request_error(504, "Gateway Timeout"), status=504)
