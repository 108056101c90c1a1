"""The shell against a tiny Bolt app: numbered buttons in thread replies and in the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy import load_policy
from bot.sandbox.shell import DEMO_POLICY, Shell
from bot.sandbox.slack import RunningEmulator, SlackDriver

Json = dict[str, Any]
SUPPORT, LEAD = "C01SUPPORT", "U02LEAD"


def card(approval_id: str, text: str) -> list[Json]:
    buttons = [
        {
            "type": "button",
            "action_id": action,
            "value": approval_id,
            "text": {"type": "plain_text", "text": action.title()},
        }
        for action in ("approve", "reject")
    ]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": "decide", "elements": buttons},
    ]


def shell_for(driver: SlackDriver) -> Shell:
    return Shell(driver, load_policy(DEMO_POLICY), user=LEAD, channel=SUPPORT)


async def test_a_button_in_a_thread_reply_is_numbered_and_clickable(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    clicks: list[Json] = []

    @app.action("reject")
    async def on_reject(ack: AsyncAck, body: Json) -> None:
        clicks.append(body)
        await ack()

    client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    parent = await client.chat_postMessage(channel=SUPPORT, text="🎟️ redeem ARJUN100 ⏳")
    expires = "<!date^1767225600^{date_short_pretty} at {time}|1 Jan 2026 at 05:30>"
    await client.chat_postMessage(
        channel=SUPPORT,
        thread_ts=parent["ts"],
        text="Approve?",
        blocks=card("a-3", f"Redeem ARJUN100? Expires {expires}"),
    )
    shell = shell_for(driver)
    shown = shell.changes()
    assert "  ↳ Redeem ARJUN100? Expires 1 Jan 2026 at 05:30\n    [1] Approve  [2] Reject" in shown
    await shell.handle("2")
    [body] = clicks
    assert body["actions"][0]["value"] == "a-3" and body["user"]["id"] == LEAD
    assert body["container"]["thread_ts"] == parent["ts"]


async def test_home_shows_the_published_tab_with_clickable_buttons(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    clicks: list[Json] = []
    published = False

    @app.event("app_home_opened")
    async def on_home(event: Json, client: AsyncWebClient) -> None:
        if published:
            view = {"type": "home", "blocks": card("a-5", "*Waiting for you*")}
            await client.views_publish(user_id=event["user"], view=view)

    @app.action("approve")
    async def on_approve(ack: AsyncAck, body: Json) -> None:
        clicks.append(body)
        await ack()

    shell = shell_for(driver)
    assert "The bot has published no Home tab for you." in await shell.handle("/home")
    published = True
    shown = await shell.handle("/home")
    assert "┌ Home ┐\n*Waiting for you*\n[1] Approve  [2] Reject" in shown
    await shell.handle("1")
    [body] = clicks
    assert body["view"]["type"] == "home" and body["actions"][0]["value"] == "a-5"
    assert "/home" in shell.banner()
