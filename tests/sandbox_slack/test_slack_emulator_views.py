"""views.open / update / push through the real SDK: triggers, hashes, stacks, external ids."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import APP_ID, TEAM_ID, RunningEmulator, running_slack_emulator


def modal(title: str = "Coupon", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "coupon_form",
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Loading…"}}],
    }
    view.update(extra)
    return view


async def slack_error(call: object) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def test_open_returns_the_view_like_slack(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    trigger = emulator.state.issue_trigger("U03AGENT")
    answer = await client.views_open(
        trigger_id=trigger, view=modal(private_metadata='{"request": 7}')
    )
    view = answer["view"]
    assert view["id"].startswith("V")
    assert view["hash"]
    assert view["state"] == {"values": {}}
    assert (view["type"], view["callback_id"]) == ("modal", "coupon_form")
    assert view["private_metadata"] == '{"request": 7}'
    assert view["root_view_id"] == view["id"]
    assert (view["app_id"], view["team_id"]) == (APP_ID, TEAM_ID)
    stored = emulator.state.view(view["id"])
    assert (stored.user, stored.is_open, stored.title) == ("U03AGENT", True, "Coupon")
    assert emulator.state.current_view("U03AGENT") is stored


async def test_triggers_are_single_use_and_must_be_issued(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    trigger = emulator.state.issue_trigger("U03AGENT")
    await client.views_open(trigger_id=trigger, view=modal())
    assert await slack_error(client.views_open(trigger_id=trigger, view=modal())) == (
        "exchanged_trigger_id"
    )
    assert await slack_error(client.views_open(trigger_id="1.2.abc", view=modal())) == (
        "invalid_trigger_id"
    )


@pytest.fixture
async def short_ttl() -> AsyncIterator[RunningEmulator]:
    async with running_slack_emulator(trigger_ttl_seconds=0.05) as running:
        yield running


async def test_triggers_expire(short_ttl: RunningEmulator) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=short_ttl.api_url)
    trigger = short_ttl.state.issue_trigger("U03AGENT")
    await asyncio.sleep(0.1)
    assert await slack_error(client.views_open(trigger_id=trigger, view=modal())) == (
        "expired_trigger_id"
    )
    assert short_ttl.state.views() == []


async def test_an_invalid_view_does_not_burn_the_trigger(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    trigger = emulator.state.issue_trigger("U03AGENT")
    bad = client.views_open(trigger_id=trigger, view=modal(title="x" * 25))
    assert await slack_error(bad) == "invalid_arguments"
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"] is True


async def test_update_by_id_with_hash_guard(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    opened = (
        await client.views_open(
            trigger_id=emulator.state.issue_trigger("U03AGENT"), view=modal("Loading")
        )
    )["view"]
    updated = (
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Ready"))
    )["view"]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert emulator.state.view(opened["id"]).title == "Ready"
    stale = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Again"))
    assert await slack_error(stale) == "hash_conflict"
    no_hash = await client.views_update(view_id=opened["id"], view=modal("Forced"))
    assert no_hash["view"]["title"]["text"] == "Forced"
    assert len(emulator.state.view(opened["id"]).history) == 2


async def test_update_by_external_id_and_not_found(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    trigger = emulator.state.issue_trigger("U03AGENT")
    await client.views_open(trigger_id=trigger, view=modal(external_id="req-7"))
    answer = await client.views_update(external_id="req-7", view=modal("Done", external_id="req-7"))
    assert answer["view"]["title"]["text"] == "Done"
    assert await slack_error(client.views_update(view_id="V404", view=modal())) == "not_found"
    again = client.views_open(
        trigger_id=emulator.state.issue_trigger("U02LEAD"), view=modal(external_id="req-7")
    )
    assert await slack_error(again) == "duplicate_external_id"


async def test_push_needs_a_trigger_from_inside_a_modal_and_stops_at_three(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    state = emulator.state
    outside = client.views_push(trigger_id=state.issue_trigger("U03AGENT"), view=modal())
    assert await slack_error(outside) == "not_found"
    root = (await client.views_open(trigger_id=state.issue_trigger("U03AGENT"), view=modal()))[
        "view"
    ]
    top = root
    for _ in range(2):
        trigger = state.issue_trigger("U03AGENT", view_id=top["id"])
        top = (await client.views_push(trigger_id=trigger, view=modal("Pushed")))["view"]
        assert top["root_view_id"] == root["id"]
    assert state.current_view("U03AGENT") is state.view(top["id"])
    fourth = client.views_push(
        trigger_id=state.issue_trigger("U03AGENT", view_id=top["id"]), view=modal()
    )
    assert await slack_error(fourth) == "push_limit_reached"


async def test_opening_a_new_modal_closes_the_old_one(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    state = emulator.state
    first = (await client.views_open(trigger_id=state.issue_trigger("U03AGENT"), view=modal()))[
        "view"
    ]
    await client.views_open(trigger_id=state.issue_trigger("U03AGENT"), view=modal("Second"))
    assert state.view(first["id"]).is_open is False
    assert len(state.views("U03AGENT", open_only=True)) == 1
    closed = client.views_update(view_id=first["id"], view=modal())
    assert await slack_error(closed) == "not_found"
