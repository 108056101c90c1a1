"""The response_url sink, posted to with slack_sdk's AsyncWebhookClient (what respond() uses)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox.slack import EmulatorState, RunningEmulator, running_slack_emulator
from bot.sandbox.slack.models import Message


async def post(url: str, **body: object) -> tuple[int, str]:
    response = await AsyncWebhookClient(url).send_dict(dict(body))
    return response.status_code, response.body


async def test_ephemeral_by_default(emulator: RunningEmulator) -> None:
    url = emulator.state.issue_response_url("U03AGENT", "C01SUPPORT")
    assert await post(url, text="only you") == (200, '{"ok": true}')
    [ephemeral] = emulator.state.ephemerals("U03AGENT")
    assert (ephemeral.text, ephemeral.channel, ephemeral.via) == (
        "only you",
        "C01SUPPORT",
        "response_url",
    )
    [response] = emulator.state.responses
    assert (response.response_type, response.user, response.message) == (
        "ephemeral",
        "U03AGENT",
        ephemeral,
    )
    assert emulator.state.calls("response_url")[0].ok is True


async def test_in_channel_works_where_the_bot_is_not_a_member(emulator: RunningEmulator) -> None:
    url = emulator.state.issue_response_url("U05GUEST", "C03RANDOM")
    assert (await post(url, text="hello all", response_type="in_channel"))[0] == 200
    assert [m.text for m in emulator.state.messages("C03RANDOM")] == ["hello all"]


async def test_thread_ts(emulator: RunningEmulator) -> None:
    parent = emulator.state.post_user_message("C01SUPPORT", "U03AGENT", "parent")
    url = emulator.state.issue_response_url("U03AGENT", "C01SUPPORT")
    await post(url, text="in thread", response_type="in_channel", thread_ts=parent.ts)
    assert [m.text for m in emulator.state.replies("C01SUPPORT", parent.ts)] == ["in thread"]
    status, body = await post(url, text="x", thread_ts="1.000001")
    assert (status, '"thread_not_found"' in body) == (400, True)


async def test_five_posts_then_used(emulator: RunningEmulator) -> None:
    url = emulator.state.issue_response_url("U03AGENT", "C01SUPPORT")
    for n in range(5):
        assert (await post(url, text=str(n)))[0] == 200
    status, body = await post(url, text="sixth")
    assert status == 404
    assert '"used_url"' in body
    assert len(emulator.state.responses) == 5
    assert emulator.state.calls("response_url")[-1].error == "used_url"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_732_581_234.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def clocked() -> AsyncIterator[tuple[RunningEmulator, FakeClock]]:
    clock = FakeClock()
    async with running_slack_emulator(state=EmulatorState(clock=clock)) as running:
        yield running, clock


async def test_expires_after_thirty_minutes(clocked: tuple[RunningEmulator, FakeClock]) -> None:
    emulator, clock = clocked
    url = emulator.state.issue_response_url("U03AGENT", "C01SUPPORT")
    clock.now += 30 * 60 - 1
    assert (await post(url, text="just in time"))[0] == 200
    clock.now += 2
    status, body = await post(url, text="too late")
    assert (status, '"expired_url"' in body) == (404, True)


async def test_replace_and_delete_original(emulator: RunningEmulator) -> None:
    state = emulator.state
    card = state.add_message(Message("C01SUPPORT", state.new_ts(), "approve?", []))
    url = state.issue_response_url("U02LEAD", "C01SUPPORT", original=card)
    await post(url, text="approved", replace_original=True)
    assert [m.text for m in state.messages("C01SUPPORT")] == ["approved"]
    assert card.edited[0].text == "approve?"
    await post(url, delete_original=True)
    assert state.messages("C01SUPPORT") == []


async def test_refusals(emulator: RunningEmulator) -> None:
    url = emulator.state.issue_response_url("U03AGENT", "C01SUPPORT")
    assert (await post(f"{emulator.base_url}/response/T0/unknown", text="x"))[0] == 404
    status, body = await post(url, text="x", blocks=[{"type": "section"}])
    assert (status, '"invalid_blocks"' in body) == (400, True)
    status, body = await post(url, response_type="ephemeral")
    assert (status, '"no_text"' in body) == (400, True)
    status, body = await post(url, text="x", response_type="everyone")
    assert (status, '"invalid_response_type"' in body) == (400, True)
    assert emulator.state.responses == []
