"""``serve --socket-mode`` end to end: the real bot connects out to the emulator over a
WebSocket (``apps.connections.open`` at ``SLACK_API_URL``) and gets its commands as envelopes.

Nothing is signed here and nothing listens for HTTP: Socket Mode is the only way in.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import (
    AGENT,
    APP_TOKEN,
    DEMO_POLICY,
    LEAD,
    SUPPORT,
    free_port,
    socket_mode_settings,
)

from bot.ids import ActionId, BlockId
from bot.sandbox.capillary import running_sandbox
from bot.sandbox.slack import (
    Message,
    RunningEmulator,
    SocketModeDriver,
    buttons,
    running_slack_emulator,
)
from bot.server import running_socket_mode_bot


@dataclass
class SocketStack:
    emulator: RunningEmulator
    slack: SocketModeDriver

    async def finished(self, count: int = 1) -> Message:
        """Wait until the ``count``-th parent has a reply and a final status; return it."""
        state = self.emulator.state

        def done() -> Message | None:
            parents = state.messages(SUPPORT)
            if len(parents) < count:
                return None
            parent = parents[count - 1]
            settled = "⏳" not in parent.text and state.replies(SUPPORT, parent.ts)
            return parent if settled else None

        return await state.wait_for(done, timeout=10)

    def thread_text(self, parent: Message) -> str:
        replies = self.emulator.state.replies(SUPPORT, parent.ts)
        return "\n".join(f"{r.text} {json.dumps(r.blocks, ensure_ascii=False)}" for r in replies)


@asynccontextmanager
async def running_socket_stack(tmp: Path) -> AsyncIterator[SocketStack]:
    async with running_sandbox() as sandbox, running_slack_emulator() as emulator:
        settings = socket_mode_settings(sandbox.base_url, emulator.api_url, tmp)
        async with running_socket_mode_bot(settings):
            yield SocketStack(emulator, SocketModeDriver(emulator))


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SocketStack]:
    async with running_socket_stack(tmp_path) as running:
        yield running


async def test_the_bot_connects_with_its_app_token(stack: SocketStack) -> None:
    connection = await stack.emulator.sockets.wait_connected()
    assert connection.is_open
    [opened] = stack.emulator.state.calls("apps.connections.open")
    assert opened.ok


async def test_get_over_the_socket(stack: SocketStack) -> None:
    envelope = await stack.slack.command("get GOOD100")
    assert envelope.acked and stack.slack.last_ack_outcome in {"shown", "empty"}
    parent = await stack.finished()
    assert parent.text.startswith(f"🎟️ <@{AGENT}> · get GOOD100") and "✅" in parent.text
    text = stack.thread_text(parent)
    assert "GOOD100" in text and "Not redeemed yet" in text and "••••3210" in text
    assert "+919876543210" not in text


async def test_junk_and_unknown_envelopes_do_not_stop_the_bot(stack: SocketStack) -> None:
    hub = stack.emulator.sockets
    await hub.send_raw("not json at all")
    await hub.send_raw('{"envelope_id": "broken", ')
    mystery = {"envelope_id": "mystery-1", "type": "mystery", "payload": {}}
    await hub.send_raw(json.dumps(mystery))
    unknown_event = {
        "type": "event_callback",
        "team_id": "T0SANDBOX",
        "api_app_id": "A0COUPON",
        "event": {"type": "reaction_added", "user": AGENT, "event_ts": "1.0"},
        "event_id": "Ev-unknown",
        "event_time": 1,
    }
    await hub.push("events_api", unknown_event, accepts_response_payload=False, wait=1.0)

    envelope = await stack.slack.command("get GOOD100")
    assert envelope.acked
    parent = await stack.finished()
    assert "✅" in parent.text and "GOOD100" in stack.thread_text(parent)
    frames = [frame for c in hub.connections for frame in c.received]
    assert not [frame for frame in frames if "mystery-1" in frame or "broken" in frame]
    assert hub.open_connections()  # still the first connection, never dropped
    assert len(stack.emulator.state.calls("apps.connections.open")) == 1


async def test_open_home_is_acknowledged_and_published(stack: SocketStack) -> None:
    envelope = await stack.slack.open_home(user=AGENT)
    assert envelope.acked and stack.slack.last_ack_outcome == "acked"
    home = await stack.emulator.state.wait_for(lambda: stack.emulator.state.home(AGENT))
    assert "Your recent requests" in json.dumps(home.payload)


async def test_a_redeem_requested_and_approved_over_the_socket(stack: SocketStack) -> None:
    state = stack.emulator.state
    assert (await stack.slack.command("redeem ARJUN100 +919812345678 txn=B-1", user=AGENT)).acked

    def card() -> Message | None:
        parents = state.messages(SUPPORT)
        replies = state.replies(SUPPORT, parents[0].ts) if parents else []
        return next((r for r in replies if buttons(r.blocks)), None)

    posted = await state.wait_for(card, timeout=10)
    assert (await stack.slack.click(ActionId.APPROVE, user=LEAD, message=posted)).acked
    view = await state.wait_for(lambda: state.current_view(LEAD))
    await stack.slack.submit(view.id, {BlockId.NOTE: "ok"}, user=LEAD)
    assert stack.slack.last_ack_outcome == "closed"
    parent = await stack.finished()
    assert "✅" in parent.text and "ARJUN100 redeemed for ••••5678" in stack.thread_text(parent)
    updated = state.message(SUPPORT, posted.ts)
    assert updated is not None and not buttons(updated.blocks)
    assert "Approved by <@U02LEAD>" in json.dumps(updated.blocks)


async def test_serve_socket_mode_from_the_command_line(tmp_path: Path) -> None:
    """``coupon-bot serve --socket-mode`` as an admin runs it: env only, no signing secret."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CAPILLARY_"))}
    async with running_slack_emulator() as emulator:
        env = {
            **keep,
            "SLACK_BOT_TOKEN": "xoxb-serve",
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": emulator.api_url,
            "CAPILLARY_BASE_URL": "sandbox",
            "COUPON_BOT_POLICY": str(DEMO_POLICY),
            "COUPON_BOT_DATABASE": str(tmp_path / "serve.sqlite3"),
            "COUPON_BOT_PORT": str(port := free_port()),
        }
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "serve", "--socket-mode"),
            env=env,
            cwd=tmp_path,  # no .env from the project directory
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await emulator.sockets.wait_connected(wait=30)
            stack = SocketStack(emulator, SocketModeDriver(emulator))
            assert (await stack.slack.command("get GOOD100")).acked
            parent = await stack.finished()
            assert "✅" in parent.text and "Not redeemed yet" in stack.thread_text(parent)
            async with httpx.AsyncClient() as http:  # a container's health check still works
                health = await http.get(f"http://127.0.0.1:{port}/healthz")
                events = await http.post(f"http://127.0.0.1:{port}/slack/events")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert events.status_code in (404, 405)  # Slack's events come over the socket
        finally:
            process.terminate()
            _, errors = await asyncio.wait_for(process.communicate(), 30)
    log = errors.decode()
    assert process.returncode == 0, log
    assert "connected over Socket Mode" in log and "Traceback" not in log
    assert "xapp-" not in log and "xoxb-" not in log  # tokens never reach the log
