"""Events the app subscribes to. Each one is acknowledged so Slack never retries it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.ids import SUBSCRIBED_EVENTS
from bot.runtime import Runtime

__all__ = ["register"]


def register(app: AsyncApp, runtime: Runtime) -> None:
    async def on_event(event: dict[str, Any]) -> None:
        """Bolt acks events before this runs; the Home tab arrives with approvals."""

    for name in SUBSCRIBED_EVENTS:
        app.event(name)(on_event)
