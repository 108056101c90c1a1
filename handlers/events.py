"""Events the app subscribes to. The Home tab shows approvals (published after the ack)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.ids import APP_HOME_OPENED, SUBSCRIBED_EVENTS
from bot.runtime import Runtime

__all__ = ["register"]


def register(app: AsyncApp, runtime: Runtime) -> None:
    async def on_home_opened(
        event: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """An approver sees what waits for them and what they decided; everyone their own."""
        if event.get("tab") != "home" or not event.get("user"):
            return
        user = str(event["user"])

        async def publish() -> None:
            view = await runtime.approvals.home(user)
            await client.views_publish(user_id=user, view=view)

        runtime.after_ack(publish(), body, context, client)

    assert SUBSCRIBED_EVENTS == (APP_HOME_OPENED,), "each subscribed event needs a listener"
    app.event(APP_HOME_OPENED)(on_home_opened)
