"""SlackGroupDirectory with slack_sdk's real client against the local Slack emulator."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.directory import SlackGroupDirectory
from bot.sandbox.slack import RunningEmulator, running_slack_emulator

TTL = 300.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with running_slack_emulator() as running:
        yield running


@pytest.fixture
def client(emulator: RunningEmulator) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def directory(client: AsyncWebClient, clock: FakeClock) -> SlackGroupDirectory:
    return SlackGroupDirectory(client, ttl_seconds=TTL, clock=clock)


def list_calls(emulator: RunningEmulator) -> int:
    return len(emulator.state.calls("usergroups.list"))


def add_to_group(emulator: RunningEmulator, group_id: str, user_id: str) -> None:
    """Change membership in the emulated workspace, as an admin would in Slack."""
    groups = emulator.state.workspace.groups
    group = groups[group_id]
    groups[group_id] = dataclasses.replace(group, users=(*group.users, user_id))


async def eventually(check: Callable[[], Awaitable[bool]], within_seconds: float = 2.0) -> None:
    """Wait for a background refresh to land (polling, without touching internals)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    while not await check():
        assert loop.time() < deadline, "the background refresh never happened"
        await asyncio.sleep(0.01)


async def test_groups_of_returns_the_seeded_handles(
    directory: SlackGroupDirectory, emulator: RunningEmulator
) -> None:
    assert await directory.groups_of("U03AGENT") == {"support-agents"}
    assert await directory.groups_of("U02LEAD") == {"support-leads"}
    assert await directory.groups_of("U06LEAD2") == {"support-leads"}
    assert await directory.groups_of("U04VIEWER") == frozenset()
    assert await directory.groups_of("U99NOBODY") == frozenset()

    (call,) = emulator.state.calls("usergroups.list")
    assert call.ok
    assert str(call.args.get("include_users")).lower() in ("1", "true")


async def test_a_group_id_is_known_once_the_groups_are_loaded(
    directory: SlackGroupDirectory,
) -> None:
    assert directory.group_id("support-leads") is None  # nothing fetched yet
    await directory.warm()
    assert directory.group_id("support-leads") == "S01LEADS"
    assert directory.group_id("Support-Leads") == "S01LEADS"  # handles ignore case
    assert directory.group_id("nights") is None


async def test_a_user_in_two_groups_has_both(
    directory: SlackGroupDirectory, emulator: RunningEmulator
) -> None:
    add_to_group(emulator, "S01LEADS", "U03AGENT")
    assert await directory.groups_of("U03AGENT") == {"support-agents", "support-leads"}


async def test_the_cache_is_used_within_the_ttl(
    directory: SlackGroupDirectory, emulator: RunningEmulator, clock: FakeClock
) -> None:
    await directory.groups_of("U03AGENT")
    add_to_group(emulator, "S02AGENTS", "U04VIEWER")  # not seen until the cache expires

    for user in ("U03AGENT", "U02LEAD", "U04VIEWER"):
        clock.advance(TTL / 4)
        await directory.groups_of(user)
    clock.advance(TTL / 4)  # exactly the TTL: still fresh
    assert await directory.groups_of("U04VIEWER") == frozenset()
    await asyncio.sleep(0.05)  # room for a refresh that must not happen

    assert list_calls(emulator) == 1


async def test_concurrent_first_lookups_fetch_once(
    directory: SlackGroupDirectory, emulator: RunningEmulator
) -> None:
    found = await asyncio.gather(*(directory.groups_of("U03AGENT") for _ in range(5)))

    assert found == [frozenset({"support-agents"})] * 5
    assert list_calls(emulator) == 1


async def test_after_the_ttl_stale_groups_are_served_and_refreshed_once_in_the_background(
    directory: SlackGroupDirectory, emulator: RunningEmulator, clock: FakeClock
) -> None:
    assert await directory.groups_of("U04VIEWER") == frozenset()
    add_to_group(emulator, "S02AGENTS", "U04VIEWER")
    clock.advance(TTL + 1)

    # Both answers come from the stale cache at once; only one refresh starts.
    stale = await asyncio.gather(directory.groups_of("U04VIEWER"), directory.groups_of("U04VIEWER"))
    assert list(stale) == [frozenset(), frozenset()]

    async def refreshed() -> bool:
        return await directory.groups_of("U04VIEWER") == {"support-agents"}

    await eventually(refreshed)
    assert list_calls(emulator) == 2
    assert await directory.groups_of("U03AGENT") == {"support-agents"}
    assert list_calls(emulator) == 2  # fresh again: no more calls


async def test_an_explicit_refresh_within_the_ttl_does_not_call_slack(
    directory: SlackGroupDirectory, emulator: RunningEmulator
) -> None:
    await directory.groups_of("U03AGENT")
    await directory.refresh()
    assert list_calls(emulator) == 1


# ---- Slack refusing -----------------------------------------------------------------------


async def test_rate_limited_first_fetch_degrades_to_no_groups(
    directory: SlackGroupDirectory,
    emulator: RunningEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.state.rate_limits.set("usergroups.list", next=1, retry_after=30)

    with caplog.at_level(logging.WARNING, logger="bot.directory"):
        assert await directory.groups_of("U03AGENT") == frozenset()

    (call,) = emulator.state.calls("usergroups.list")
    assert call.status == 429
    assert "ratelimited" in caplog.text


async def test_rate_limited_directory_recovers_after_the_ttl(
    directory: SlackGroupDirectory, emulator: RunningEmulator, clock: FakeClock
) -> None:
    emulator.state.rate_limits.set("usergroups.list", next=1)
    assert await directory.groups_of("U03AGENT") == frozenset()
    clock.advance(TTL + 1)

    async def recovered() -> bool:
        return await directory.groups_of("U03AGENT") == {"support-agents"}

    await eventually(recovered)
    assert list_calls(emulator) == 2


async def test_a_failed_background_refresh_keeps_the_groups_it_had(
    directory: SlackGroupDirectory, emulator: RunningEmulator, clock: FakeClock
) -> None:
    assert await directory.groups_of("U03AGENT") == {"support-agents"}
    emulator.state.rate_limits.set("usergroups.list", next=1)
    clock.advance(TTL + 1)

    assert await directory.groups_of("U03AGENT") == {"support-agents"}

    async def refused() -> bool:
        return any(c.status == 429 for c in emulator.state.calls("usergroups.list"))

    await eventually(refused)
    await asyncio.sleep(0.05)  # let the failed refresh finish
    assert await directory.groups_of("U03AGENT") == {"support-agents"}
    assert await directory.groups_of("U02LEAD") == {"support-leads"}


async def test_a_bad_token_degrades_to_no_groups(
    emulator: RunningEmulator, clock: FakeClock
) -> None:
    bad = AsyncWebClient(token="xoxp-not-a-bot-token", base_url=emulator.api_url)
    directory = SlackGroupDirectory(bad, ttl_seconds=TTL, clock=clock)

    assert await directory.groups_of("U03AGENT") == frozenset()
    (call,) = emulator.state.calls("usergroups.list")
    assert call.error == "invalid_auth"


async def test_unreachable_slack_degrades_to_no_groups(clock: FakeClock) -> None:
    async with running_slack_emulator() as gone:
        url = gone.api_url
    # Nothing listens there; no connection retry, to keep the test fast (it raises either way).
    client = AsyncWebClient(token="xoxb-test", base_url=url, timeout=2, retry_handlers=[])
    directory = SlackGroupDirectory(client, ttl_seconds=TTL, clock=clock)

    assert await directory.groups_of("U03AGENT") == frozenset()


async def test_a_cold_cache_behind_a_waiting_retry_handler_does_not_hold_the_ack(
    emulator: RunningEmulator, clock: FakeClock
) -> None:
    # The production client waits out 429s; the first fetch would then block for Retry-After.
    waiting = AsyncWebClient(
        token="xoxb-test",
        base_url=emulator.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    directory = SlackGroupDirectory(waiting, ttl_seconds=TTL, cold_wait_seconds=0.2, clock=clock)
    emulator.state.rate_limits.set("usergroups.list", next=1, retry_after=2)

    assert await directory.groups_of("U03AGENT") == frozenset()  # answered without the wait

    async def loaded() -> bool:
        return await directory.groups_of("U03AGENT") == {"support-agents"}

    await eventually(loaded, within_seconds=6)  # the fetch went on and landed
    assert list_calls(emulator) == 2
