"""``coupon-bot serve`` stopped by SIGTERM in the middle of work: it stops taking requests,
lets the command in flight finish, writes its audit rows, and exits 0."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import httpx
from conftest import (
    SIGNING_SECRET,
    SUPPORT,
    Stack,
    free_port,
    make_settings,
    serve_env,
    serving,
    wait_until,
)

from bot.sandbox.capillary import running_sandbox
from bot.sandbox.slack import SlackDriver, running_slack_emulator


def audit_events(database: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(database) as db:
        return list(db.execute("SELECT event, outcome FROM audit_events ORDER BY id"))


async def test_sigterm_finishes_the_command_in_flight_flushes_the_audit_and_exits_0(
    tmp_path: Path,
) -> None:
    async with running_sandbox() as sandbox, running_slack_emulator() as emulator:
        settings = make_settings(sandbox.base_url, emulator.api_url, tmp_path)
        port = free_port()
        env = serve_env(settings.bot.database, sandbox.base_url, emulator.api_url, port)
        async with httpx.AsyncClient(timeout=30) as http:
            driver = SlackDriver(
                f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, emulator, http
            )
            stack = Stack(sandbox, emulator, None, driver)  # type: ignore[arg-type]
            async with serving(env, port, http) as bot:
                await stack.faults(latency_ms=1500)  # Capillary is slow: the lookup is in flight
                await stack.command("get GOOD100")
                await wait_until(lambda: any(c.path == "/v1.1/coupon/get" for c in sandbox.calls))
                bot.send_signal(signal.SIGTERM)
                await wait_until(lambda: refused(http, port), timeout=10)
                assert bot.returncode is None  # no new work taken while the old one drains
                code = await bot.wait()
            assert code == 0
            parent = emulator.state.messages(SUPPORT)[0]
            assert "✅" in parent.text  # the lookup in flight finished and was answered
            reply = emulator.state.replies(SUPPORT, parent.ts)[0]
            assert "GOOD100" in json.dumps(reply.blocks)
    events = audit_events(settings.bot.database)
    assert events[0] == ("command", None) and events[-1] == ("outcome", "ok")


async def refused(http: httpx.AsyncClient, port: int) -> bool:
    try:
        await http.get(f"http://127.0.0.1:{port}/healthz")
    except httpx.TransportError:
        return True
    return False
