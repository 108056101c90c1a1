"""views.publish through the real SDK: one Home tab per user, its hash guard and its limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import APP_ID, TEAM_ID, RunningEmulator

Json = dict[str, Any]


def home(text: str = "Pending approvals: 0", **extra: Any) -> Json:
    view: Json = {
        "type": "home",
        "callback_id": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
    view.update(extra)
    return view


async def slack_error(call: object) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    response = caught.value.response
    return str(response["error"]), response.get("response_metadata", {}).get("messages", [])


async def test_publish_returns_the_home_view_like_slack(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    answer = await client.views_publish(user_id="U02LEAD", view=home(private_metadata="p"))
    view = answer["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert (view["type"], view["callback_id"], view["private_metadata"]) == ("home", "home", "p")
    assert view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    assert (view["app_id"], view["team_id"]) == (APP_ID, TEAM_ID)
    assert view["blocks"][0]["block_id"]  # generated, as Slack does
    stored = emulator.state.home("U02LEAD")
    assert stored is not None and stored.id == view["id"] and stored.user == "U02LEAD"
    assert emulator.state.home("U03AGENT") is None
    # A Home tab is not a modal: it is neither in the modal list nor anyone's open view.
    assert emulator.state.views() == [] and emulator.state.current_view("U02LEAD") is None
    [call] = emulator.state.calls("views.publish")
    assert call.ok and call.args["user_id"] == "U02LEAD"


async def test_republish_keeps_the_id_and_guards_with_the_hash(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    first = (await client.views_publish(user_id="U02LEAD", view=home()))["view"]
    second = (
        await client.views_publish(user_id="U02LEAD", hash=first["hash"], view=home("Pending: 2"))
    )["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    stale = client.views_publish(user_id="U02LEAD", hash=first["hash"], view=home("Pending: 3"))
    assert (await slack_error(stale))[0] == "hash_conflict"
    stored = emulator.state.home("U02LEAD")
    assert stored is not None
    assert stored.blocks[0]["text"]["text"] == "Pending: 2" and len(stored.history) == 1
    forced = await client.views_publish(user_id="U02LEAD", view=home("Pending: 4"))
    assert forced["view"]["blocks"][0]["text"]["text"] == "Pending: 4"


async def test_each_user_has_their_own_home(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    lead = (await client.views_publish(user_id="U02LEAD", view=home("lead")))["view"]
    agent = (await client.views_publish(user_id="U03AGENT", view=home("agent")))["view"]
    assert lead["id"] != agent["id"]
    assert [v.user for v in emulator.state.homes()] == ["U02LEAD", "U03AGENT"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"user_id": "U99NOBODY", "view": home()}, "invalid `user_id`"),
        ({"user_id": "U0BOT", "view": home()}, "invalid `user_id`"),
        ({"view": home()}, "missing required field: user_id"),
        ({"user_id": "U02LEAD"}, "missing required field: view"),
        ({"user_id": "U02LEAD", "view": home(type="modal")}, "must be 'home'"),
        (
            {"user_id": "U02LEAD", "view": home(private_metadata="x" * 3001)},
            "/view/private_metadata",
        ),
        (
            {
                "user_id": "U02LEAD",
                "view": home(blocks=[{"type": "divider"} for _ in range(101)]),
            },
            "no more than 100 items",
        ),
    ],
)
async def test_publish_refuses_what_slack_refuses(
    client: AsyncWebClient, emulator: RunningEmulator, args: Json, message: str
) -> None:
    error, messages = await slack_error(client.api_call("views.publish", json=args))
    assert error == "invalid_arguments"
    assert any(message in line for line in messages), messages
    assert emulator.state.homes() == []


async def test_a_home_may_hold_100_blocks_and_no_title(client: AsyncWebClient) -> None:
    blocks = [{"type": "divider"} for _ in range(100)]
    assert (await client.views_publish(user_id="U02LEAD", view=home(blocks=blocks)))["ok"]


async def test_views_open_refuses_a_home_view(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    trigger = emulator.state.issue_trigger("U03AGENT")
    error, messages = await slack_error(client.views_open(trigger_id=trigger, view=home()))
    assert error == "invalid_arguments"
    assert any("must be 'modal'" in line for line in messages)


async def test_external_ids_are_unique_across_modals_and_homes(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    await client.views_publish(user_id="U02LEAD", view=home(external_id="home-ravi"))
    await client.views_publish(user_id="U02LEAD", view=home("again", external_id="home-ravi"))
    taken = client.views_publish(user_id="U03AGENT", view=home(external_id="home-ravi"))
    assert (await slack_error(taken))[0] == "duplicate_external_id"
