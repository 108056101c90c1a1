"""Fixtures for the Slack emulator tests: a live emulator, the real SDK client, a tiny Bolt app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import RunningEmulator, SlackDriver, running_slack_emulator

SIGNING_SECRET = "sandbox-signing-secret"


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with running_slack_emulator() as running:
        yield running


@pytest.fixture
def client(emulator: RunningEmulator) -> AsyncWebClient:
    """slack_sdk's real client, pointed at the emulator."""
    return AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)


@pytest.fixture
def app(emulator: RunningEmulator) -> AsyncApp:
    """A bare AsyncApp whose Web API calls go to the emulator; tests add listeners."""
    web_client = AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)
    return AsyncApp(client=web_client, signing_secret=SIGNING_SECRET)


@pytest.fixture
async def driver(app: AsyncApp, emulator: RunningEmulator) -> AsyncIterator[SlackDriver]:
    """A driver posting to ``app`` served over HTTP on a free port."""
    async with serving(app) as bot_url:
        yield SlackDriver(bot_url, SIGNING_SECRET, emulator)


@asynccontextmanager
async def serving(app: AsyncApp) -> AsyncIterator[str]:
    """Serve ``app`` with aiohttp; yields its ``/slack/events`` URL."""

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    finally:
        await runner.cleanup()
