"""First after Bolt's own checks: a payload not shaped as Slack sends it is acknowledged and
dropped here, before Bolt matches listeners on it (where it would fail)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.payload import odd_shape
from bot.runtime import Runtime

__all__ = ["register"]

log = logging.getLogger(__name__)


class ShapeGuard(AsyncMiddleware):
    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        problem = odd_shape(req.body)
        if problem is None:
            return await next()
        log.warning("dropped a payload Slack would not send: %s", problem)
        return BoltResponse(status=200, body="")


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.use(ShapeGuard())
