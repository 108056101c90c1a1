"""End-to-end fixtures: the real app served over HTTP, the Slack emulator, the Capillary sandbox.

Requests go over loopback TCP, signed like Slack's; the bot's Web API calls go to the
emulator, its Capillary calls to the sandbox. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.ids import ActionId, BlockId
from bot.sandbox.capillary import RunningSandbox, running_sandbox
from bot.sandbox.slack import (
    Message,
    RunningEmulator,
    SlackDriver,
    View,
    running_slack_emulator,
)
from bot.server import RunningBot, running_bot
from bot.settings import BotSettings, CapillarySettings, Settings, SlackSettings

SIGNING_SECRET = "e2e-signing-secret"
DEMO_POLICY = Path(__file__).resolve().parents[2] / "bot" / "sandbox" / "demo-policy.toml"
SUPPORT = "C01SUPPORT"
AGENT, VIEWER, GUEST, LEAD, ADMIN = "U03AGENT", "U04VIEWER", "U05GUEST", "U02LEAD", "U01ADMIN"
RIYA = "+919876543210"


def make_settings(
    sandbox_url: str,
    api_url: str,
    tmp: Path,
    *,
    password: str = "sandbox",
    timeout: float = 10,
    policy: Path = DEMO_POLICY,
    currency: str = "₹",
) -> Settings:
    return Settings(
        capillary=CapillarySettings(
            _env_file=None,
            base_url=sandbox_url,
            username="sandbox",
            password=SecretStr(password),
            timeout_seconds=timeout,
        ),
        slack=SlackSettings(
            _env_file=None,
            bot_token=SecretStr("xoxb-test"),
            signing_secret=SecretStr(SIGNING_SECRET),
            api_url=api_url,
        ),
        bot=BotSettings(
            _env_file=None,
            port=0,
            policy=policy,
            database=tmp / "bot.sqlite3",
            currency=currency,
        ),
    )


@dataclass
class Stack:
    sandbox: RunningSandbox
    emulator: RunningEmulator
    bot: RunningBot
    slack: SlackDriver

    async def command(self, text: str, **who: str) -> httpx.Response:
        """A slash command, checked the way Slack would: a 200 ack within 3 s."""
        response = await self.slack.command(text, **who)
        assert self.slack.last_ack_outcome in {"shown", "empty"}, self.slack.last_ack_outcome
        return response

    async def faults(self, **faults: object) -> None:
        """Switch Capillary sandbox faults through its admin endpoint."""
        async with httpx.AsyncClient(base_url=self.sandbox.base_url) as admin:
            response = await admin.post("/__sandbox/faults", json=faults)
        assert response.status_code == 200, response.text

    def capillary_calls(self, path: str | None = None) -> int:
        return sum(1 for c in self.sandbox.calls if c.path.startswith(path or "/v1.1/"))

    def parents(self, channel: str = SUPPORT) -> list[Message]:
        return self.emulator.state.messages(channel)

    def replies(self, parent: Message) -> list[Message]:
        return self.emulator.state.replies(parent.channel, parent.ts)

    async def finished(self, channel: str = SUPPORT, count: int = 1, wait: float = 10) -> Message:
        """Wait until the ``count``-th parent has a reply and a final status; return it."""

        def done() -> Message | None:
            parents = self.parents(channel)
            if len(parents) < count:
                return None
            parent = parents[count - 1]
            settled = "⏳" not in parent.text and self.replies(parent)
            return parent if settled else None

        return await self.emulator.state.wait_for(done, timeout=wait)

    async def card(self, channel: str = SUPPORT, count: int = 1, wait: float = 10) -> Message:
        """The approval card in the ``count``-th parent's thread, once it has its buttons."""

        def posted() -> Message | None:
            parents = self.parents(channel)
            if len(parents) < count:
                return None
            for reply in self.replies(parents[count - 1]):
                if any(b.get("block_id") == BlockId.DECISION for b in reply.blocks):
                    return reply
            return None

        return await self.emulator.state.wait_for(posted, timeout=wait)

    async def open_decision(self, card: Message, *, by: str = LEAD, approve: bool = True) -> View:
        """Click Approve (or Reject) on ``card`` as ``by``; return the modal that opened."""
        action = ActionId.APPROVE if approve else ActionId.REJECT
        before = {v.id for v in self.emulator.state.views(by)}
        await self.slack.click(action, user=by, message=card)

        def opened() -> View | None:
            fresh = [v for v in self.emulator.state.views(by, open_only=True) if v.id not in before]
            return fresh[-1] if fresh else None

        return await self.emulator.state.wait_for(opened, timeout=5)

    async def decide(
        self, card: Message, *, by: str = LEAD, approve: bool = True, note: str = ""
    ) -> httpx.Response:
        """Approve (optional note) or reject (``note`` is the reason) through the modal."""
        view = await self.open_decision(card, by=by, approve=approve)
        field = BlockId.NOTE if approve else BlockId.REASON
        return await self.slack.submit(view.id, {field: note} if note else {}, user=by)

    async def approved(self, text: str, *, by: str = LEAD, note: str = "", **who: str) -> Message:
        """``/coupon <text>`` (an issue or redeem), approved by ``by``; the finished parent."""
        count = len(self.parents()) + 1
        await self.command(text, **who)
        card = await self.card(count=count)
        await self.decide(card, by=by, note=note)
        return await self.finished(count=count, wait=15)

    def everything_posted(self) -> str:
        """Every text and block the bot made visible, as one string (for leak checks)."""
        state = self.emulator.state
        messages = [
            m for c in ("C01SUPPORT", "C02ESCALATIONS", "C03RANDOM") for m in state.messages(c)
        ]
        replies = [r for m in messages for r in state.replies(m.channel, m.ts)]
        shown = [*messages, *replies, *state.ephemerals()]
        views = [str(v.payload) for v in state.views()]
        files = [f"{f.name} {f.title} {f.text}" for f in state.files]
        return "\n".join([*(f"{m.text} {m.blocks}" for m in shown), *views, *files])


@asynccontextmanager
async def running_stack(tmp: Path, **settings: Any) -> AsyncIterator[Stack]:
    """Sandbox, emulator and the bot, wired by settings as an admin would (``make_settings``)."""
    async with (
        running_sandbox() as sandbox,
        running_slack_emulator() as emulator,
        running_bot(make_settings(sandbox.base_url, emulator.api_url, tmp, **settings)) as bot,
        httpx.AsyncClient(timeout=30) as http,
    ):
        yield Stack(sandbox, emulator, bot, SlackDriver(bot.url, SIGNING_SECRET, emulator, http))


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


# --- the bot in its own process (restarts, signals) ----------------------------------------


APP_TOKEN = "xapp-1-A0COUPON-1-e2e"


def socket_mode_settings(sandbox_url: str, api_url: str, tmp: Path) -> Settings:
    """What an admin sets for Socket Mode: bot and app tokens, no signing secret."""
    settings = make_settings(sandbox_url, api_url, tmp)
    slack = settings.slack.model_copy(
        update={"app_token": SecretStr(APP_TOKEN), "signing_secret": None}
    )
    return settings.model_copy(update={"slack": slack})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_env(database: Path, capillary: str, slack: str, port: int) -> dict[str, str]:
    prefixes = ("CAPILLARY_", "SLACK_", "COUPON_BOT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack,
        CAPILLARY_BASE_URL=capillary,
        CAPILLARY_USERNAME="sandbox",
        CAPILLARY_PASSWORD="sandbox",
        COUPON_BOT_DATABASE=str(database),
        COUPON_BOT_POLICY=str(DEMO_POLICY),
        COUPON_BOT_PORT=str(port),
    )
    return env


@asynccontextmanager
async def serving(
    env: dict[str, str], port: int, http: httpx.AsyncClient
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``coupon-bot serve`` in its own process, once /healthz answers; stopped at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--host",
        "127.0.0.1",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until(lambda: healthy(http, port), timeout=20)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        _, errors = await process.communicate()
        assert b"Traceback" not in errors, errors.decode()


async def healthy(http: httpx.AsyncClient, port: int) -> bool:
    try:
        response = await http.get(f"http://127.0.0.1:{port}/healthz")
    except httpx.TransportError:
        return False
    return response.status_code == 200


async def wait_until(condition: object, timeout: float = 10) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while True:
            result = condition()  # type: ignore[operator]
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)
