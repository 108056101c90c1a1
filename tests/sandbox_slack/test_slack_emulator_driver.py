"""The driver against a tiny real Bolt AsyncApp over HTTP: signed commands, clicks, modals."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DriverError, InvalidAck, Message, RunningEmulator, SlackDriver
from bot.sandbox.slack.payloads import escape_mentions
from bot.sandbox.slack.seed import seed_workspace

Json = dict[str, Any]

CARD: list[Json] = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "Issue?"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "value": "req-1",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Approve"},
            },
            {
                "type": "button",
                "action_id": "reject",
                "value": "req-1",
                "text": {"type": "plain_text", "text": "Reject"},
            },
        ],
    },
]


def form_view(**extra: Any) -> Json:
    view: Json = {
        "type": "modal",
        "callback_id": "issue_form",
        "private_metadata": "req-1",
        "title": {"type": "plain_text", "text": "Issue coupon"},
        "submit": {"type": "plain_text", "text": "Issue"},
        "blocks": [
            {
                "type": "input",
                "block_id": "customer",
                "label": {"type": "plain_text", "text": "Customer"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "series",
                "label": {"type": "plain_text", "text": "Series"},
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Diwali"}, "value": "1001"},
                        {"text": {"type": "plain_text", "text": "Monsoon"}, "value": "1002"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
            {
                "type": "actions",
                "block_id": "more",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "details",
                        "text": {"type": "plain_text", "text": "Details"},
                    }
                ],
            },
        ],
    }
    view.update(extra)
    return view


async def open_form(emulator: RunningEmulator, user: str = "U03AGENT") -> str:
    client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    answer = await client.views_open(
        trigger_id=emulator.state.issue_trigger(user), view=form_view()
    )
    return str(answer["view"]["id"])


async def post_card(emulator: RunningEmulator) -> Message:
    client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    posted = await client.chat_postMessage(channel="C01SUPPORT", text="Approve?", blocks=CARD)
    message = emulator.state.message("C01SUPPORT", posted["ts"])
    assert message is not None
    return message


async def test_command_reaches_the_listener_with_slacks_fields(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    received: list[Json] = []

    @app.command("/coupon")
    async def on_command(ack: AsyncAck, command: Json) -> None:
        received.append(command)
        await ack()

    started = time.monotonic()
    response = await driver.command("get ABC123", user="U02LEAD", channel="C02ESCALATIONS")
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    [command] = received
    assert command["command"] == "/coupon"
    assert command["text"] == "get ABC123"
    assert (command["user_id"], command["user_name"]) == ("U02LEAD", "ravi")
    assert (command["channel_id"], command["channel_name"]) == ("C02ESCALATIONS", "escalations")
    assert (command["team_id"], command["team_domain"]) == ("T0SANDBOX", "sandbox-retail")
    assert command["api_app_id"] == "A0COUPON"
    assert command["is_enterprise_install"] == "false"
    assert command["response_url"].startswith(f"{emulator.base_url}/response/")
    assert command["trigger_id"]
    assert command["token"]


async def test_ack_text_and_respond_reach_the_user(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.command("/coupon")
    async def on_command(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack("Working on it…")
        await respond(text="Done", response_type="in_channel")

    await driver.command("help")
    state = emulator.state
    assert [m.text for m in state.ephemerals("U03AGENT")] == ["Working on it…"]
    done = await state.wait_for(lambda: state.messages("C01SUPPORT"))
    assert [m.text for m in done] == ["Done"]
    assert state.responses[0].response_type == "in_channel"


async def test_command_trigger_opens_a_modal(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.command("/coupon")
    async def on_command(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=form_view())

    await driver.command("")
    view = await emulator.state.wait_for(lambda: emulator.state.current_view("U03AGENT"))
    assert view.callback_id == "issue_form"


async def test_bad_signature_and_stale_timestamp_get_401(
    app: AsyncApp, driver: SlackDriver
) -> None:
    calls: list[str] = []

    @app.command("/coupon")
    async def on_command(ack: AsyncAck) -> None:
        calls.append("called")
        await ack()

    body = urlencode({"command": "/coupon", "text": "x", "team_id": "T0SANDBOX"}).encode()
    forged = {**driver.sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    assert (await driver.post_raw(body, forged)).status_code == 401
    stale = driver.sign(body, timestamp=int(time.time()) - 301)
    assert (await driver.post_raw(body, stale)).status_code == 401
    tampered = driver.sign(body)
    assert (await driver.post_raw(body + b"&user_id=U01ADMIN", tampered)).status_code == 401
    assert calls == []


async def test_click_on_a_message_button(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    payloads: list[Json] = []

    @app.action("approve")
    async def on_approve(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        payloads.append(body)
        await client.views_open(trigger_id=body["trigger_id"], view=form_view())

    card = await post_card(emulator)
    response = await driver.click("approve", value="req-1", user="U02LEAD", message=card)
    assert response.status_code == 200
    view = await emulator.state.wait_for(lambda: emulator.state.current_view("U02LEAD"))
    assert view.callback_id == "issue_form"
    [body] = payloads
    assert body["type"] == "block_actions"
    assert body["user"] == {
        "id": "U02LEAD",
        "username": "ravi",
        "name": "ravi",
        "team_id": "T0SANDBOX",
    }
    assert body["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": "C01SUPPORT",
        "is_ephemeral": False,
    }
    assert body["channel"] == {"id": "C01SUPPORT", "name": "support-coupons"}
    assert body["message"]["ts"] == card.ts
    assert body["response_url"].startswith(emulator.base_url)
    [action] = body["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "approve",
        "decide",
        "req-1",
    )
    assert action["type"] == "button"


async def test_respond_replaces_the_clicked_card(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.action("reject")
    async def on_reject(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Rejected by @ravi", replace_original=True)

    card = await post_card(emulator)
    await driver.click("reject", user="U02LEAD", message=card)
    await emulator.state.wait_for(lambda: card.edited)
    assert card.text == "Rejected by @ravi"
    with pytest.raises(DriverError, match="no button approve"):
        await driver.click("approve", user="U02LEAD", message=card)  # the buttons are gone


async def test_click_on_an_ephemeral_has_no_message_body(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    bodies: list[Json] = []

    @app.action("approve")
    async def on_approve(ack: AsyncAck, body: Json) -> None:
        bodies.append(body)
        await ack()

    client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    posted = await client.chat_postEphemeral(
        channel="C01SUPPORT", user="U03AGENT", text="?", blocks=CARD
    )
    ephemeral = emulator.state.ephemeral(posted["message_ts"])
    assert ephemeral is not None
    with pytest.raises(DriverError, match="cannot see"):
        await driver.click("approve", user="U02LEAD", message=ephemeral)
    await driver.click("approve", message=ephemeral)
    assert bodies[0]["container"]["is_ephemeral"] is True
    assert "message" not in bodies[0]


async def test_click_in_a_view_can_push(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.action("details")
    async def on_details(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        assert body["container"] == {"type": "view", "view_id": body["view"]["id"]}
        await client.views_push(trigger_id=body["trigger_id"], view=form_view(callback_id="more"))

    view_id = await open_form(emulator)
    await driver.click("details", view_id=view_id)
    pushed = await emulator.state.wait_for(
        lambda: (
            emulator.state.current_view("U03AGENT")
            if emulator.state.current_view("U03AGENT") is not emulator.state.view(view_id)
            else None
        )
    )
    assert (pushed.callback_id, pushed.previous_view_id) == ("more", view_id)


async def test_submission_errors_then_success(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    seen: list[Json] = []

    @app.view("issue_form")
    async def on_submit(ack: AsyncAck, view: Json) -> None:
        seen.append(view)
        customer = view["state"]["values"]["customer"]["value"]["value"]
        if not customer.isdigit():
            await ack(response_action="errors", errors={"customer": "Enter a mobile number"})
        else:
            await ack()

    view_id = await open_form(emulator)
    await driver.submit(view_id, {"customer": "riya", "series": "1002"})
    view = emulator.state.view(view_id)
    assert view.errors == {"customer": "Enter a mobile number"}
    assert view.is_open
    assert driver.last_ack_outcome == "errors"
    values = seen[0]["state"]["values"]
    assert values["series"]["pick"]["selected_option"]["value"] == "1002"
    assert values["note"]["value"] == {"type": "plain_text_input", "value": None}
    assert (seen[0]["private_metadata"], seen[0]["hash"]) == ("req-1", view.hash)
    await driver.submit(view_id, {"customer": "919876543210", "series": "1001"})
    assert view.is_open is False
    assert view.errors == {}
    assert driver.last_ack_outcome == "closed"


async def test_submission_update_replaces_the_view(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    done = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Issued"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "✅"}}],
    }

    @app.view("issue_form")
    async def on_submit(ack: AsyncAck) -> None:
        await ack(response_action="update", view=done)

    view_id = await open_form(emulator)
    old_hash = emulator.state.view(view_id).hash
    await driver.submit(view_id, {"customer": "9", "series": "1001"})
    view = emulator.state.view(view_id)
    assert (view.title, view.is_open) == ("Issued", True)
    assert view.hash != old_hash


async def test_acks_slack_would_reject(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.view("issue_form")
    async def on_submit(ack: AsyncAck) -> None:
        await ack(response_action="errors", errors={"more": "not an input block"})

    view_id = await open_form(emulator)
    with pytest.raises(InvalidAck, match="not input block_ids"):
        await driver.submit(view_id, {"customer": "9", "series": "1001"})


async def test_driver_refuses_impossible_interactions(
    driver: SlackDriver, emulator: RunningEmulator
) -> None:
    card = await post_card(emulator)
    with pytest.raises(DriverError, match="present: approve='req-1', reject='req-1'"):
        await driver.click("approve", value="req-2", message=card)
    view_id = await open_form(emulator)
    with pytest.raises(DriverError, match="not input blocks"):
        await driver.submit(view_id, {"summary": "x", "customer": "9", "series": "1001"})
    with pytest.raises(DriverError, match="required"):
        await driver.submit(view_id, {"customer": "9"})
    with pytest.raises(DriverError, match="no option"):
        await driver.submit(view_id, {"customer": "9", "series": "9999"})
    with pytest.raises(DriverError, match="belongs to U03AGENT"):
        await driver.submit(view_id, {"customer": "9", "series": "1001"}, user="U02LEAD")
    with pytest.raises(DriverError, match="unknown channel"):
        await driver.command("help", user="U03AGENT", channel="C99")
    with pytest.raises(DriverError, match="exactly one"):
        await driver.click("approve")


async def test_command_ack_outcomes(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.command("/coupon")
    async def on_command(ack: AsyncAck, command: Json) -> None:
        if command["text"] == "quiet":
            await ack()
        elif command["text"] == "bad":
            await ack(blocks=[{"type": "section"}])
        else:
            await ack(text="Here you go", response_type="in_channel")

    await driver.command("quiet")
    assert driver.last_ack_outcome == "empty"
    await driver.command("loud")
    assert driver.last_ack_outcome == "shown"
    assert [m.via for m in emulator.state.messages("C01SUPPORT")] == ["ack"]
    with pytest.raises(InvalidAck, match="invalid_blocks"):
        await driver.command("bad")
    assert (await driver.command("x", command="/other")).status_code == 404
    assert driver.last_ack_outcome == "failed"


async def test_late_acks_are_ignored(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.view("issue_form")
    async def on_submit(ack: AsyncAck) -> None:
        await asyncio.sleep(0.2)
        await ack(response_action="errors", errors={"customer": "too late to show"})

    driver.ack_deadline_seconds = 0.1
    view_id = await open_form(emulator)
    await driver.submit(view_id, {"customer": "9", "series": "1001"})
    assert driver.last_ack_outcome == "timeout"
    assert emulator.state.view(view_id).errors == {}


async def test_submission_push_and_clear(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    @app.view("issue_form")
    async def on_submit(ack: AsyncAck) -> None:
        await ack(response_action="push", view=form_view(callback_id="confirm"))

    @app.view("confirm")
    async def on_confirm(ack: AsyncAck) -> None:
        await ack(response_action="clear")

    view_id = await open_form(emulator)
    await driver.submit(view_id, {"customer": "9", "series": "1001"})
    assert driver.last_ack_outcome == "pushed"
    pushed = emulator.state.current_view("U03AGENT")
    assert pushed is not None and pushed.previous_view_id == view_id
    await driver.submit(pushed.id, {"customer": "9", "series": "1001"})
    assert driver.last_ack_outcome == "cleared"
    assert emulator.state.views("U03AGENT", open_only=True) == []


def approval_card(approval_id: str) -> list[Json]:
    """An approval card as the bot will post it in a thread: Approve/Reject carry the id."""
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
        {"type": "section", "text": {"type": "mrkdwn", "text": "Redeem ARJUN100?"}},
        {"type": "actions", "block_id": "decide", "elements": buttons},
    ]


async def test_click_on_an_approval_card_in_a_thread(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    bodies: list[Json] = []

    @app.action("approve")
    async def on_approve(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        bodies.append(body)
        await client.views_open(trigger_id=body["trigger_id"], view=form_view())

    client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    parent = await client.chat_postMessage(channel="C01SUPPORT", text="🎟️ redeem ⏳")
    posted = await client.chat_postMessage(
        channel="C01SUPPORT", thread_ts=parent["ts"], text="Approve?", blocks=approval_card("a-9")
    )
    card = emulator.state.message("C01SUPPORT", posted["ts"])
    assert card is not None
    await driver.click("approve", value="a-9", user="U02LEAD", message=card)
    assert driver.last_ack_outcome == "acked"
    view = await emulator.state.wait_for(lambda: emulator.state.current_view("U02LEAD"))
    assert view.callback_id == "issue_form"  # the click's trigger_id opened a modal
    [body] = bodies
    assert body["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": "C01SUPPORT",
        "is_ephemeral": False,
        "thread_ts": parent["ts"],
    }
    assert body["channel"] == {"id": "C01SUPPORT", "name": "support-coupons"}
    assert (body["message"]["ts"], body["message"]["thread_ts"]) == (card.ts, parent["ts"])
    assert body["response_url"].startswith(f"{emulator.base_url}/response/")
    [action] = body["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "approve",
        "decide",
        "a-9",
    )
    with pytest.raises(DriverError, match="no button approve='a-10'"):
        await driver.click("approve", value="a-10", user="U02LEAD", message=card)


async def test_open_home_is_a_signed_app_home_opened_event(
    app: AsyncApp, driver: SlackDriver, emulator: RunningEmulator
) -> None:
    bodies: list[Json] = []
    clicks: list[Json] = []

    @app.event("app_home_opened")
    async def on_home(body: Json, event: Json, client: AsyncWebClient) -> None:
        bodies.append(body)
        home = {"type": "home", "blocks": approval_card("a-1")}
        await client.views_publish(user_id=event["user"], view=home)

    @app.action("reject")
    async def on_reject(ack: AsyncAck, body: Json) -> None:
        await ack()
        clicks.append(body)

    state = emulator.state
    with pytest.raises(DriverError, match="no Home tab for U02LEAD"):
        await driver.click("reject", user="U02LEAD", home=True)
    response = await driver.open_home(user="U02LEAD")
    assert response.status_code == 200 and driver.last_ack_outcome == "acked"
    home = await state.wait_for(lambda: state.home("U02LEAD"))
    [body] = bodies
    assert (body["type"], body["team_id"], body["api_app_id"]) == (
        "event_callback",
        "T0SANDBOX",
        "A0COUPON",
    )
    assert body["event_id"].startswith("Ev") and isinstance(body["event_time"], int)
    assert body["authorizations"][0]["user_id"] == "U0BOT"
    event = body["event"]
    assert (event["type"], event["user"], event["channel"], event["tab"]) == (
        "app_home_opened",
        "U02LEAD",
        "D02LEAD",
        "home",
    )
    assert event["event_ts"] and "view" not in event  # nothing published yet
    await driver.open_home(user="U02LEAD")
    await state.wait_for(lambda: len(bodies) == 2)
    assert bodies[1]["event"]["view"]["id"] == home.id
    assert bodies[1]["event_id"] != body["event_id"]

    await driver.click("reject", value="a-1", user="U02LEAD", home=True)
    await state.wait_for(lambda: clicks)
    assert clicks[0]["container"] == {"type": "view", "view_id": home.id}
    assert clicks[0]["view"]["type"] == "home" and "response_url" not in clicks[0]
    with pytest.raises(DriverError, match="exactly one"):
        await driver.click("reject", home=True, view_id=home.id)


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("log @asha", "log <@U03AGENT|asha>"),
        ("log @asha action=redeem", "log <@U03AGENT|asha> action=redeem"),
        ("log @nobody", "log @nobody"),  # no such user: as typed
        ("log @asha.", "log <@U03AGENT|asha>."),
        ("check GOOD100 asha@example.com", "check GOOD100 asha@example.com"),  # an email
        ("log <@U03AGENT|asha>", "log <@U03AGENT|asha>"),  # already escaped
    ],
)
def test_a_typed_mention_is_escaped_as_slack_sends_it(typed: str, sent: str) -> None:
    # The manifest sets should_escape: a typed @name reaches the app as <@U…|name>.
    assert escape_mentions(typed, seed_workspace().users.values()) == sent
