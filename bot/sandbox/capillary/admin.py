"""``/__sandbox/*`` admin endpoints: faults, reset, recorded calls (no auth, never faulted)."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.capillary.context import BadRequest, context, json_body, reply
from bot.sandbox.capillary.describe import describe
from bot.sandbox.capillary.faults import FaultError


async def get_faults(request: web.Request) -> web.Response:
    """GET /__sandbox/faults: the current settings."""
    return reply(context(request).faults.as_dict())


async def set_faults(request: web.Request) -> web.Response:
    """POST /__sandbox/faults: partial update; 400 naming the problem when a key is bad."""
    ctx = context(request)
    try:
        payload = await json_body(request)
    except BadRequest as exc:
        return reply({"error": str(exc)}, status=400)
    if not isinstance(payload, dict):
        return reply({"error": "body must be a JSON object of fault settings"}, status=400)
    try:
        ctx.faults.update(payload)
    except FaultError as exc:
        return reply({"error": str(exc)}, status=400)
    if ctx.faults.expire_tokens:
        ctx.tokens.expire_all()
        ctx.faults.expire_tokens = False
    return reply(ctx.faults.as_dict())


async def reset(request: web.Request) -> web.Response:
    """POST /__sandbox/reset: state back to the seed, no faults, no recorded calls."""
    ctx = context(request)
    ctx.state.reset()
    ctx.faults.reset()
    ctx.calls.clear()
    return reply({"reset": True, "faults": ctx.faults.as_dict()})


async def calls(request: web.Request) -> web.Response:
    """GET /__sandbox/calls: every recorded API call, oldest first."""
    return reply([call.as_dict() for call in context(request).calls])


async def describe_text(request: web.Request) -> web.Response:
    """GET /__sandbox: the startup description (seeded data, credentials) as plain text."""
    base_url = str(request.url.origin())
    return web.Response(text=describe(context(request).state, base_url))
