"""Health, metrics, degraded mode and logs, end to end: the real app over HTTP, the Capillary
sandbox failing on demand, the Slack emulator, and the logs the app really writes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import AGENT, GUEST, RIYA, SIGNING_SECRET, Stack, make_settings
from prometheus_client.parser import text_string_to_metric_families

from bot.capillary.breaker import BreakerPolicy
from bot.logs import LIBRARY_FLOORS, configure_logging
from bot.sandbox.capillary import running_sandbox
from bot.sandbox.slack import SlackDriver, running_slack_emulator
from bot.server import running_bot

# Fails fast for the test: 3 failures in a row open the circuit, a probe after 0.5 s.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
FAST_BREAKER = BreakerPolicy(threshold=3, window_seconds=60, cooldown_seconds=0.5)


@asynccontextmanager
async def observed_stack(tmp: Path, **settings: Any) -> AsyncIterator[Stack]:
    """``running_stack``, with the fast breaker."""
    async with (
        running_sandbox() as sandbox,
        running_slack_emulator() as emulator,
        running_bot(
            make_settings(sandbox.base_url, emulator.api_url, tmp, **settings),
            breaker=FAST_BREAKER,
        ) as bot,
        httpx.AsyncClient(timeout=30) as http,
    ):
        yield Stack(sandbox, emulator, bot, SlackDriver(bot.url, SIGNING_SECRET, emulator, http))


def base(stack: Stack) -> str:
    return stack.bot.url.removesuffix("/slack/events")


async def healthz(stack: Stack) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base(stack)}/healthz")
    return response.status_code, response.json()


async def metrics(stack: Stack) -> Samples:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base(stack)}/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


async def capillary_once(
    stack: Stack, condition: Callable[[dict[str, Any]], bool], wait: float = 10
) -> dict[str, Any]:
    """Poll /healthz until Capillary's part of it meets ``condition``; return that part."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        capillary: dict[str, Any] = (await healthz(stack))[1]["capillary"]
        if condition(capillary):
            return capillary
        assert asyncio.get_running_loop().time() < deadline, capillary
        await asyncio.sleep(0.05)


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def thread_of(stack: Stack, count: int) -> str:
    parent = stack.parents()[count - 1]
    return "\n".join(f"{r.text} {json.dumps(r.blocks)}" for r in stack.replies(parent))


async def test_capillary_down_then_back(tmp_path: Path) -> None:
    async with observed_stack(tmp_path) as stack:
        status, health = await healthz(stack)
        assert (status, health["status"], health["capillary"]["circuit"]) == (200, "ok", "closed")
        assert health["database"] == {"status": "ok"}
        assert health["capillary"]["last_call"] is None  # /healthz never calls Capillary

        # Capillary fails: one lookup tries three times, and the circuit opens.
        await stack.faults(http_500_next=1000)
        await stack.command("get GOOD100")
        assert "❌" in (await stack.finished(count=1, wait=15)).text  # "rejected": code 500
        assert stack.capillary_calls() == 3
        status, health = await healthz(stack)
        assert (status, health["status"]) == (200, "degraded")
        assert health["capillary"]["status"] == "degraded"
        assert health["capillary"]["consecutive_failures"] == 3
        assert health["capillary"]["last_call"]["http_status"] == 500
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", health["capillary"]["since"])

        # The next lookup is answered without asking Capillary at all.
        await stack.command("get GOOD100")
        assert "⚠️" in (await stack.finished(count=2)).text
        assert stack.capillary_calls() == 3
        answer = thread_of(stack, 2)
        assert "Capillary isn't answering right now (3 failures in a row; next try in" in answer
        assert "). Nothing was changed." in answer
        assert "lookups will work as soon as Capillary is back" in answer

        # Capillary comes back; after the cool-down the next command probes, and succeeds.
        await stack.faults(http_500_next=0)

        capillary = await capillary_once(stack, lambda c: c["circuit"] == "half_open")
        assert capillary["status"] == "degraded"  # until a call gets through
        await stack.command("get GOOD100")
        assert "✅" in (await stack.finished(count=3)).text
        status, health = await healthz(stack)
        assert (status, health["status"], health["capillary"]["circuit"]) == (200, "ok", "closed")
        assert health["capillary"]["last_call"]["code"] == "700"

        samples = await metrics(stack)
        commands = "coupon_bot_commands_total"
        assert value(samples, commands, verb="get", outcome="failed") == 2
        assert value(samples, commands, verb="get", outcome="ok") == 1
        calls = "coupon_bot_capillary_calls_total"
        assert value(samples, calls, endpoint="coupon/get", code="500") == 3
        assert value(samples, calls, endpoint="coupon/get", code="700") == 1
        assert value(samples, "coupon_bot_command_seconds_count", verb="get") == 3
        assert value(samples, "coupon_bot_capillary_call_seconds_count", endpoint="coupon/get") == 4
        assert value(samples, "coupon_bot_capillary_circuit_state") == 0
        assert value(samples, "coupon_bot_pending_approvals") == 0


# What must never be logged: the seeded customers' mobiles (with and without the country
# code) and emails, the bot token, the signing secret, and the Capillary credential as sent
# (Basic auth carries the MD5 of the password, base64-encoded with the username).
_MD5 = hashlib.md5(b"sandbox").hexdigest()
SECRETS = (
    "919876543210",
    "9876543210",
    "919812345678",
    "9812345678",
    "riya.sharma",
    "arjun.mehta",
    "@example.com",
    "xoxb-test",
    SIGNING_SECRET,
    _MD5,
    base64.b64encode(f"sandbox:{_MD5}".encode()).decode(),
)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """The app's own logging setup, at DEBUG, into a buffer; the previous setup restored."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in LIBRARY_FLOORS}
    stream = io.StringIO()
    configure_logging("json", logging.DEBUG, stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


async def test_a_session_logs_no_secret_and_no_customer(
    tmp_path: Path, captured_logs: io.StringIO
) -> None:
    async with observed_stack(tmp_path) as stack:
        session = [
            (f"get GOOD100 {RIYA}", AGENT),
            ("check GOOD100 9876543210", AGENT),
            ("check GOOD100 riya.sharma@example.com", AGENT),
            ("resend GOOD100 +919876543210", AGENT),
            ("issue 1001 arjun.mehta@example.com", AGENT),
            ("redeem GOOD100 919876543210 txn=B-1 amount=500", AGENT),
            ("check NOPE1 +919999999999", AGENT),
        ]
        for count, (text, user) in enumerate(session, start=1):
            await stack.command(text, user=user)
            if text.startswith(("issue", "redeem")):  # waits for an approver
                await stack.decide(await stack.card(count=count), note="ok for 9876543210")
            await stack.finished(count=count, wait=15)
        await stack.command("redeem GOOD100 +919812345678", user=GUEST)  # refused: no role
        await stack.command("check GOOD100 +91 98765")  # a usage error
        await stack.faults(http_500_next=1)
        await stack.command("check GOOD200 +919812345678")  # Capillary fails, then answers
        await stack.finished(count=len(session) + 1, wait=15)
        # Slack refuses every post: an unexpected error, shown with a correlation id.
        stack.emulator.state.rate_limits.set("chat.postMessage", next=6, retry_after=0)
        await stack.command("get GOOD100 riya.sharma@example.com")
        told = await stack.emulator.state.wait_for(
            lambda: [m for m in stack.emulator.state.ephemerals(AGENT) if "went wrong" in m.text],
            timeout=20,
        )
    logged = captured_logs.getvalue()
    entries = [json.loads(line) for line in logged.splitlines()]
    assert entries, "the session should have logged something"
    leaked = [secret for secret in SECRETS if secret in logged]
    assert leaked == [], "\n".join(
        line for line in logged.splitlines() if any(s in line for s in leaked)
    )
    # Every line about a command (its end, its Capillary calls, its error) carries its id.
    about_commands = [e for e in entries if e["logger"] in ("bot.recording", "coupon_bot.errors")]
    ends = [e for e in about_commands if e["logger"] == "bot.recording" and e["level"] == "info"]
    assert len(ends) == len(session) + 3  # + the refusal, the failing check, the last get
    assert [e for e in about_commands if "correlation_id" not in e] == []
    assert len({e["correlation_id"] for e in ends}) == len(ends)  # one id per command
    # The id the user was shown finds the error's line, and that line carries it.
    shown = re.search(r"`([0-9a-f]{8})`", told[0].text)
    assert shown is not None
    errors = [e for e in entries if e["level"] == "error" and "unexpected error" in e["message"]]
    assert [e["correlation_id"] for e in errors] == [shown[1]]
