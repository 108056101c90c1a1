"""Metrics: what each hook counts, one registry per app, and Slack 429s counted against the
real Slack emulator."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import web_client
from bot.audit import AuditEvent
from bot.capillary.breaker import BreakerPolicy, CircuitBreaker
from bot.capillary.catalogue import explain_item
from bot.capillary.client import CallRecord
from bot.capillary.identifiers import parse_customer
from bot.capillary.models import CouponDetails
from bot.commands import Check, Get
from bot.logs import request_context
from bot.metrics import Metrics
from bot.recording import Recorder, scene_of
from bot.sandbox.slack import RunningEmulator, running_slack_emulator
from bot.service import Failed, Looked
from bot.settings import SlackSettings


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The value of one sample, read back from the rendered text as Prometheus would."""
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


def call(endpoint: str, code: str | None, latency_ms: float = 120.0) -> CallRecord:
    return CallRecord(
        endpoint=endpoint,
        method="GET",
        attempt=1,
        latency_ms=latency_ms,
        http_status=200,
        request_id="rid",
        code=code,
        outcome="ok",
    )


class Sink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)


def test_capillary_calls_by_endpoint_and_code_with_latency() -> None:
    metrics = Metrics()
    metrics.capillary_call(call("/v1.1/coupon/get", "700", 120))
    metrics.capillary_call(call("/v1.1/coupon/get", "700", 80))
    metrics.capillary_call(call("/v1.1/coupon/redeem", "timeout", 10_000))
    metrics.capillary_call(call("/v1.1/coupon/series", None, 5))
    total = "coupon_bot_capillary_calls_total"
    assert sample(metrics, total, endpoint="coupon/get", code="700") == 2
    assert sample(metrics, total, endpoint="coupon/redeem", code="timeout") == 1
    assert sample(metrics, total, endpoint="coupon/series", code="none") == 1
    latency = "coupon_bot_capillary_call_seconds"
    assert sample(metrics, f"{latency}_count", endpoint="coupon/get") == 2
    assert sample(metrics, f"{latency}_sum", endpoint="coupon/get") == pytest.approx(0.2)
    assert sample(metrics, f"{latency}_bucket", endpoint="coupon/get", le="0.1") == 1
    assert sample(metrics, f"{latency}_bucket", endpoint="coupon/redeem", le="5.0") == 0


def test_commands_by_verb_and_outcome_through_the_recorder() -> None:
    metrics = Metrics()
    recorder = Recorder(Sink(), meter=metrics)
    get = Get(codes=("GOOD100",))
    check = Check(code="OLD500", customer=parse_customer("+919876543210"))
    with request_context():
        recorder.received(scene_of(get, "U1", "C1"))  # accepted: not an end
        found = (CouponDetails(code="GOOD100"),)
        recorder.outcome(scene_of(get, "U1", "C1"), Looked(get, found, (), "rid"))
    recorder.received(scene_of(check, "U2", "C1"), refused_because="no_role")
    recorder.outcome(scene_of(check, "U1", "C1"), Failed(check, explain_item(713)))
    recorder.failed(scene_of(check, "U1", "C1"))
    recorder.not_run(scene_of(get, "U1", "C1"), "no thread")
    total = "coupon_bot_commands_total"
    assert sample(metrics, total, verb="get", outcome="ok") == 1
    assert sample(metrics, total, verb="get", outcome="failed") == 1
    assert sample(metrics, total, verb="check", outcome="refused") == 1
    assert sample(metrics, total, verb="check", outcome="failed") == 1
    assert sample(metrics, total, verb="check", outcome="unknown") == 1
    # Only the command that ran inside a request is timed (from the request's arrival).
    assert sample(metrics, "coupon_bot_command_seconds_count", verb="get") == 1
    assert sample(metrics, "coupon_bot_command_seconds_count", verb="check") is None


def test_the_recorder_still_writes_the_same_audit_rows_with_a_meter() -> None:
    plain, metered = Sink(), Sink()
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    get = Get(codes=("GOOD100",))
    for recorder in (
        Recorder(plain, clock=lambda: moment),
        Recorder(metered, clock=lambda: moment, meter=Metrics()),
    ):
        recorder.received(scene_of(get, "U1", "C1"), refused_because="no_role")
        found = (CouponDetails(code="GOOD100"),)
        recorder.outcome(scene_of(get, "U1", "C1"), Looked(get, found, (), "rid"))
    assert metered.events == plain.events


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.slack_rate_limited("chat.postMessage")
    assert sample(first, "coupon_bot_slack_rate_limited_total", method="chat.postMessage") == 1
    assert sample(second, "coupon_bot_slack_rate_limited_total", method="chat.postMessage") is None


def test_pending_approvals_default_to_zero_until_a_source_is_set() -> None:
    metrics = Metrics()
    assert sample(metrics, "coupon_bot_pending_approvals") == 0
    pending = [1, 2, 3]
    metrics.pending_approvals.set_function(lambda: float(len(pending)))
    assert sample(metrics, "coupon_bot_pending_approvals") == 3


def test_circuit_state_is_read_at_each_scrape() -> None:
    now = [0.0]
    breaker = CircuitBreaker(BreakerPolicy(threshold=2, cooldown_seconds=30), clock=lambda: now[0])
    metrics = Metrics()
    metrics.watch_breaker(breaker)
    assert sample(metrics, "coupon_bot_capillary_circuit_state") == 0
    breaker.failed()
    assert sample(metrics, "coupon_bot_capillary_consecutive_failures") == 1
    breaker.failed()
    assert sample(metrics, "coupon_bot_capillary_circuit_state") == 2
    now[0] = 30
    assert sample(metrics, "coupon_bot_capillary_circuit_state") == 1


def test_process_metrics_are_included() -> None:
    assert (sample(Metrics(), "process_resident_memory_bytes") or 0) > 0


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with running_slack_emulator() as running:
        yield running


async def test_slack_429s_are_counted_and_still_waited_out(emulator: RunningEmulator) -> None:
    metrics = Metrics()
    emulator.state.rate_limits.set("chat.postMessage", next=2, retry_after=0)
    slack = SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=emulator.api_url)
    async with aiohttp.ClientSession() as session:
        client = web_client(slack, session, on_rate_limited=metrics.slack_rate_limited)
        posted = await client.chat_postMessage(channel="C01SUPPORT", text="once")
    assert posted["ok"] is True
    assert [c.status for c in emulator.state.calls("chat.postMessage")] == [429, 429, 200]
    assert sample(metrics, "coupon_bot_slack_rate_limited_total", method="chat.postMessage") == 2


def test_the_readme_lists_every_metric() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    listed = set(re.findall(r"`(coupon_bot_\w+)`", readme))
    exposed = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in Metrics().registry.collect()
        if family.name.startswith("coupon_bot_")
    }
    assert listed == exposed
