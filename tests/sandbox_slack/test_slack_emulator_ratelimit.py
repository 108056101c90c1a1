"""429 on demand: admin endpoint and Python API, and the SDK's retry handler waiting it out."""

from __future__ import annotations

import time

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import RunningEmulator
from bot.sandbox.slack.ratelimit import RateLimitRule


async def test_429_carries_retry_after(client: AsyncWebClient, emulator: RunningEmulator) -> None:
    emulator.state.rate_limits.set("chat.postMessage", next=1, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C01SUPPORT", text="hi")
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert emulator.state.messages("C01SUPPORT") == []
    assert (await client.chat_postMessage(channel="C01SUPPORT", text="hi"))["ok"] is True
    assert [c.status for c in emulator.state.calls("chat.postMessage")] == [429, 200]


async def test_retry_handler_waits_and_delivers_once(emulator: RunningEmulator) -> None:
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=emulator.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{emulator.base_url}/__emulator/ratelimit",
            json={"method": "chat.postMessage", "next": 1, "retry_after": 1},
        )
    assert answer.json()["rules"][0]["next"] == 1
    started = time.monotonic()
    posted = await client.chat_postMessage(channel="C01SUPPORT", text="once")
    assert time.monotonic() - started >= 1.0
    assert posted["ok"] is True
    assert [m.text for m in emulator.state.messages("C01SUPPORT")] == ["once"]
    assert [c.status for c in emulator.state.calls("chat.postMessage")] == [429, 200]


async def test_every_nth_call_of_any_method(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    emulator.state.rate_limits.set("*", every=3, retry_after=0)
    outcomes = []
    for _ in range(6):
        try:
            await client.auth_test()
            outcomes.append("ok")
        except SlackApiError as exc:
            outcomes.append(exc.response["error"])
    assert outcomes == ["ok", "ok", "ratelimited"] * 2


async def test_clear_and_bad_rules(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    emulator.state.rate_limits.set("*", next=100)
    async with httpx.AsyncClient() as http:
        listed = await http.get(f"{emulator.base_url}/__emulator/ratelimit")
        bad = await http.post(f"{emulator.base_url}/__emulator/ratelimit", json={"every": 0})
        cleared = await http.post(f"{emulator.base_url}/__emulator/ratelimit", json={"clear": True})
    assert listed.json() == {
        "rules": [{"method": "*", "every": None, "next": 100, "retry_after": 1}]
    }
    assert bad.status_code == 400
    assert cleared.json() == {"rules": []}
    assert (await client.auth_test())["ok"] is True


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"every": 1, "next": 1}, {"every": 0}, {"next": -1}, {"every": 2, "retry_after": -1}],
)
def test_rule_validation(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"must|exactly one"):
        RateLimitRule("*", **kwargs)
