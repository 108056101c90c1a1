"""The state's Python API: wait_for, ids, reset; and the package's pinned public surface."""

from __future__ import annotations

import asyncio
import importlib
import re

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import EmulatorState, RunningEmulator
from bot.sandbox.slack.content import fill_ids

MODULES = [
    "chat",
    "content",
    "directory",
    "driver",
    "emulator",
    "errors",
    "limits",
    "models",
    "payloads",
    "ratelimit",
    "render",
    "responses",
    "seed",
    "sockets",
    "state",
    "validation",
    "views",
]


@pytest.mark.parametrize("name", ["", *MODULES])
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module("bot.sandbox.slack" + (f".{name}" if name else ""))
    assert module.__doc__
    for member in module.__all__:
        assert hasattr(module, member), f"{module.__name__}.{member}"


async def test_wait_for_wakes_on_calls(client: AsyncWebClient, emulator: RunningEmulator) -> None:
    state = emulator.state

    async def post_later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C01SUPPORT", text="late")

    task = asyncio.create_task(post_later())
    found = await state.wait_for(lambda: state.messages("C01SUPPORT"), timeout=2)
    await task
    assert [m.text for m in found] == ["late"]


async def test_wait_for_timeout_names_recent_calls(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    await client.auth_test()
    with pytest.raises(
        TimeoutError, match=r"within 0.1s; recent calls:\n  auth.test \(\) -> 200 ok"
    ):
        await emulator.state.wait_for(lambda: None, timeout=0.1)


def test_ids_and_triggers() -> None:
    state = EmulatorState()
    stamps = [state.new_ts() for _ in range(3)]
    assert all(re.fullmatch(r"\d{10}\.\d{6}", ts) for ts in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert state.issue_trigger("U03AGENT") != state.issue_trigger("U03AGENT")
    with pytest.raises(ValueError, match="unknown user"):
        state.issue_trigger("U404")


def test_generated_ids_do_not_replace_the_bots() -> None:
    blocks = fill_ids(
        [
            {"type": "divider", "block_id": "mine"},
            {"type": "actions", "elements": [{"type": "button", "text": {}}]},
            {"type": "section", "accessory": {"type": "image", "alt_text": "x"}},
        ]
    )
    assert blocks[0]["block_id"] == "mine"
    assert blocks[1]["block_id"] and blocks[1]["elements"][0]["action_id"]
    assert "action_id" not in blocks[2]["accessory"]


async def test_reset_keeps_the_url(client: AsyncWebClient, emulator: RunningEmulator) -> None:
    await client.chat_postMessage(channel="C01SUPPORT", text="x")
    emulator.state.rate_limits.set("*", next=5)
    emulator.state.reset()
    assert emulator.state.messages("C01SUPPORT") == []
    assert emulator.state.rate_limits.as_json() == []
    assert emulator.state.base_url == emulator.base_url
    assert emulator.api_url == f"{emulator.base_url}/api/"
