"""Socket Mode: apps.connections.open, the WebSocket, and the driver against Bolt's real adapter."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DriverError, RunningEmulator, SocketModeDriver

Json = dict[str, Any]
APP_TOKEN = "xapp-1-A0COUPON-1-test"
CARD: list[Json] = [
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "value": "apr-7",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    }
]


async def slack_error(call: object) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def test_connections_open_takes_only_an_app_token_in_the_header(
    emulator: RunningEmulator,
) -> None:
    client = AsyncWebClient(base_url=emulator.api_url)
    answer = await client.apps_connections_open(app_token=APP_TOKEN)
    host = emulator.base_url.removeprefix("http://")
    assert answer["url"].startswith(f"ws://{host}/link/?ticket=")
    assert answer["url"].endswith("&app_id=A0COUPON")
    bot_token = client.apps_connections_open(app_token="xoxb-test")
    assert await slack_error(bot_token) == "not_allowed_token_type"
    assert await slack_error(client.apps_connections_open(app_token="xyz-1")) == "invalid_auth"
    in_body = client.api_call("apps.connections.open", data={"token": APP_TOKEN})
    assert await slack_error(in_body) == "not_authed"
    app_client = AsyncWebClient(token=APP_TOKEN, base_url=emulator.api_url)
    posting = app_client.chat_postMessage(channel="C01SUPPORT", text="hi")
    assert await slack_error(posting) == "not_allowed_token_type"


async def test_hello_then_tickets_are_single_use(emulator: RunningEmulator) -> None:
    client = AsyncWebClient(base_url=emulator.api_url)
    url = (await client.apps_connections_open(app_token=APP_TOKEN))["url"]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url) as socket:
            hello = json.loads(await socket.receive_str())
            assert hello["type"] == "hello" and hello["num_connections"] == 1
            assert hello["connection_info"] == {"app_id": "A0COUPON"}
            assert len(emulator.sockets.open_connections()) == 1
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url)
        assert refused.value.status == 401


async def test_acks_are_matched_to_envelopes_and_junk_is_kept_apart(
    emulator: RunningEmulator,
) -> None:
    hub = emulator.sockets
    client = AsyncWebClient(base_url=emulator.api_url)
    url = (await client.apps_connections_open(app_token=APP_TOKEN))["url"]
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as socket:
        await socket.receive_str()  # hello
        driver = SocketModeDriver(emulator, timeout=0.3)  # waits for an ack that never comes
        unanswered = await driver.command("get GOOD100")
        assert not unanswered.acked and driver.last_ack_outcome == "timeout"
        sent = json.loads(await socket.receive_str())
        assert sent == unanswered.as_json()
        assert (sent["type"], sent["accepts_response_payload"]) == ("slash_commands", True)
        assert sent["payload"]["command"] == "/coupon" and sent["payload"]["text"] == "get GOOD100"
        await socket.send_str(json.dumps({"envelope_id": "nobody-sent-this"}))
        await socket.send_str("not json")
        await socket.send_str(json.dumps({"envelope_id": sent["envelope_id"], "payload": {}}))
        await emulator.state.wait_for(lambda: unanswered.acked)  # late, but recorded
        assert hub.unmatched == ['{"envelope_id": "nobody-sent-this"}', "not json"]
        with pytest.raises(DriverError, match="no 'hello' envelopes"):
            await hub.push("hello", {}, accepts_response_payload=False)


async def test_no_connection_is_a_clear_driver_error(emulator: RunningEmulator) -> None:
    with pytest.raises(DriverError, match="no Socket Mode connection"):
        await SocketModeDriver(emulator, timeout=0.1).command("help")


# ---- against Bolt's own Socket Mode adapter ---------------------------------------------------


@pytest.fixture
def socket_app(emulator: RunningEmulator) -> AsyncApp:
    """A bare Socket Mode AsyncApp (no signing secret) whose Web API is the emulator."""
    client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    return AsyncApp(client=client, request_verification_enabled=False)


@asynccontextmanager
async def connected(app: AsyncApp) -> AsyncIterator[AsyncSocketModeHandler]:
    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        yield handler
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def test_command_ack_and_respond_over_the_socket(
    socket_app: AsyncApp, emulator: RunningEmulator
) -> None:
    @socket_app.command("/coupon")
    async def on_command(ack: AsyncAck, respond: AsyncRespond, command: Json) -> None:
        await ack(f"Looking up {command['text']}…")
        await respond(text="Done", response_type="in_channel")

    async with connected(socket_app):
        driver = SocketModeDriver(emulator)
        envelope = await driver.command("GOOD100")
        assert envelope.acked and driver.last_ack_outcome == "shown"
        assert envelope.ack_payload == {"text": "Looking up GOOD100…"}
        state = emulator.state
        assert [m.text for m in state.ephemerals("U03AGENT")] == ["Looking up GOOD100…"]
        done = await state.wait_for(lambda: state.messages("C01SUPPORT"))
        assert [m.text for m in done] == ["Done"]
        assert [c.method for c in state.calls("apps.connections.open")] == ["apps.connections.open"]


async def test_clicks_submissions_and_the_home_tab_over_the_socket(
    socket_app: AsyncApp, emulator: RunningEmulator
) -> None:
    clicked: list[Json] = []

    @socket_app.event("app_home_opened")
    async def on_home(event: Json, client: AsyncWebClient) -> None:
        view = {"type": "home", "blocks": CARD}
        await client.views_publish(user_id=event["user"], view=view)

    @socket_app.action("approve")
    async def on_approve(ack: AsyncAck, body: Json) -> None:
        await ack()
        clicked.append(body)

    @socket_app.view("form")
    async def on_submit(ack: AsyncAck) -> None:
        await ack(response_action="errors", errors={"note": "Say why"})

    async with connected(socket_app):
        driver = SocketModeDriver(emulator)
        opened = await driver.open_home(user="U02LEAD")
        assert opened.type == "events_api" and opened.retry_attempt == 0
        assert not opened.accepts_response_payload and driver.last_ack_outcome == "acked"
        state = emulator.state
        home = await state.wait_for(lambda: state.home("U02LEAD"))
        await driver.click("approve", value="apr-7", user="U02LEAD", home=True)
        assert driver.last_ack_outcome == "acked"
        await state.wait_for(lambda: clicked)
        assert clicked[0]["view"]["id"] == home.id and clicked[0]["view"]["type"] == "home"

        client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
        form = {
            "type": "modal",
            "callback_id": "form",
            "title": {"type": "plain_text", "text": "Reject"},
            "submit": {"type": "plain_text", "text": "Reject"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "note",
                    "label": {"type": "plain_text", "text": "Reason"},
                    "element": {"type": "plain_text_input", "action_id": "text"},
                }
            ],
        }
        view_id = (await client.views_open(trigger_id=state.issue_trigger("U02LEAD"), view=form))[
            "view"
        ]["id"]
        submitted = await driver.submit(view_id, {"note": "x"})
        assert submitted.accepts_response_payload
        assert driver.last_ack_outcome == "errors"
        assert state.view(view_id).errors == {"note": "Say why"}


async def test_refresh_makes_the_client_reconnect(
    socket_app: AsyncApp, emulator: RunningEmulator
) -> None:
    @socket_app.command("/coupon")
    async def on_command(ack: AsyncAck) -> None:
        await ack("pong")

    hub = emulator.sockets
    async with connected(socket_app):
        first = await hub.wait_connected()
        await hub.request_refresh()
        second = await emulator.state.wait_for(
            lambda: next((c for c in hub.open_connections() if c is not first), None)
        )
        assert len(emulator.state.calls("apps.connections.open")) == 2
        envelope = await SocketModeDriver(emulator).command("ping")
        assert envelope.connection_id == second.id and envelope.ack_payload == {"text": "pong"}
        async with aiohttp.ClientSession() as http:
            await http.post(f"{emulator.base_url}/__emulator/reset")
        assert hub.envelopes == [] and hub.open_connections() == [second]
