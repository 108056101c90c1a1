"""The benchmarks still import, format their table, and observe what they time.

Benchmarks are scripts, not tests: nothing here is timed or compared with a target. These
checks only keep them from rotting between runs: every module imports, the summary table
comes out of fake numbers as the README shows it, and the two things the end-to-end
benchmarks rely on (the emulator watch seeing a command's thread reply, and the minimal
pipeline doing the same work as the bot) hold against the real parts, in process.
"""

from __future__ import annotations

import importlib
import sqlite3
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from benchmarks import run_all, startup, thread_latency, throughput
from benchmarks.harness import (
    BOT,
    MINIMAL,
    ThreadWatch,
    bench_users,
    bot_env,
    command_to_reply,
)
from benchmarks.minimal_pipeline import Pipeline, build_app
from benchmarks.report import Figure, Target, machine, markdown_table, merge_runs
from bot.sandbox.capillary import running_sandbox
from bot.sandbox.slack import running_slack_emulator
from bot.server import running_bot
from tests.e2e.conftest import SIGNING_SECRET, make_settings

MODULES = [
    "ack_latency",
    "audit_log",
    "client_get",
    "harness",
    "http_client",
    "minimal_pipeline",
    "report",
    "run_all",
    "startup",
    "thread_latency",
    "throughput",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_module_imports(name: str) -> None:
    assert importlib.import_module(f"benchmarks.{name}").__doc__


def test_the_summary_table_from_fake_numbers() -> None:
    latency = thread_latency.figures(
        {
            1: {BOT: [10.0] * 99 + [40.0], MINIMAL: [5.0] * 100},
            100: {BOT: [20.0] * 99 + [150.0], MINIMAL: [10.0] * 100},
        }
    )
    measured = throughput.Measured([100.0, 120.0], {"pipeline": [9.0, 10.0, 11.0]}, 80.0)
    baseline = throughput.Measured([300.0], {"pipeline": [2.0]}, 40.0)
    rates = throughput.figures({BOT: measured, MINIMAL: baseline})
    started = startup.figures({BOT: [1.0, 1.2, 2.0], MINIMAL: [0.3, 0.4, 0.5]})

    rows = {(r.benchmark, r.figure.split()[0]): r for r in merge_runs([latency, rates, started])}

    at_100 = "bot-added latency, 100 agents (command → thread)"
    assert rows[(at_100, "p50")].figure == "p50 20.0 ms"
    assert rows[(at_100, "p50")].baseline == "10.0 ms (minimal pipeline)"
    assert (rows[(at_100, "p50")].ratio, rows[(at_100, "p50")].met) == ("2.00×", "yes")
    assert (rows[(at_100, "p99")].target, rows[(at_100, "p99")].met) == ("< 100 ms", "no")
    assert rows[("bot-added latency, 1 agent (command → thread)", "p99")].met == ""  # no target
    throughput_row = rows[("throughput at 0 ms Capillary latency", "commands/s")]
    assert (throughput_row.ratio, throughput_row.met) == ("0.37×", "no")
    assert rows[("CPU time per command at that load", "bot")].ratio == "5.00×"
    assert rows[("peak RSS of the bot under that load", "VmHWM")].met == "yes"
    assert rows[("start to first /healthz 200", "median")].figure == "median 1.20 s"
    table = markdown_table(list(rows.values())).splitlines()
    assert table[0] == "| benchmark | figure | baseline (same run) | ratio | target | met? |"
    assert len(table) == 2 + len(rows)


def test_repeated_runs_show_the_spread_and_how_often_the_target_was_met() -> None:
    target = Target("<", 100, "ms")
    runs = [
        [Figure("ack", "p99", 90.0, "ms", target, 30.0, "bare")],
        [Figure("ack", "p99", 120.0, "ms", target, 40.0, "bare")],
    ]
    summary = run_all.summary(runs, "Some CPU, 2 cores", 2, [1.25, 3.5, 0.5])
    assert (
        "| ack | p99 90.0–120 ms | 30.0–40.0 ms (bare) | 3.00× | < 100 ms | 1/2 runs |" in summary
    )
    assert "Machine: Some CPU, 2 cores." in summary
    assert "2 CPU cores" in summary and "it kept 0.5–3.5 cores busy" in summary


def test_the_machine_line_names_the_cpu(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Example CPU @ 2.0GHz\n")
    assert machine(cpuinfo).startswith("Example CPU @ 2.0GHz, ")


async def test_the_watch_times_the_bots_thread_reply(tmp_path: Path) -> None:
    watch = ThreadWatch()
    agent = bench_users(watch, 1)[0]  # a new member of @support-agents: an agent
    async with (
        running_sandbox() as sandbox,
        running_slack_emulator(state=watch) as emulator,
        running_bot(make_settings(sandbox.base_url, emulator.api_url, tmp_path)) as bot,
        aiohttp.ClientSession() as http,
    ):
        ms = await command_to_reply(
            watch, http, bot.url, agent, "get GOOD100", secret=SIGNING_SECRET
        )
        await watch.settled()
    parent = watch.messages("C01SUPPORT")[0]
    assert f"<@{agent}>" in parent.text and "✅" in parent.text
    assert "GOOD100" in watch.replies("C01SUPPORT", parent.ts)[0].text
    assert ms > 0 and not watch.failures


async def test_the_minimal_pipeline_does_the_bots_work(tmp_path: Path) -> None:
    watch = ThreadWatch()
    agent = bench_users(watch, 1)[0]
    database = tmp_path / "minimal.sqlite3"
    async with (
        running_sandbox() as sandbox,
        running_slack_emulator(state=watch) as emulator,
        aiohttp.ClientSession() as http,
    ):
        env = bot_env(
            sandbox_url=sandbox.base_url, emulator_api=emulator.api_url, database=database
        )
        runner = web.AppRunner(build_app(Pipeline(env)))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        forged = await http.post(url, data=b"text=get+GOOD100", headers=_forged_signature())
        await command_to_reply(watch, http, url, agent, "get GOOD100")
        await watch.settled()
        await runner.cleanup()
        capillary_calls = [call.path for call in sandbox.calls]
    assert forged.status == 401
    slack_calls = [call.method for call in watch.calls() if call.method.startswith("chat.")]
    assert slack_calls == ["chat.postMessage", "chat.postMessage", "chat.update"]
    assert capillary_calls == ["/v1.1/coupon/get"]
    with sqlite3.connect(database) as conn:
        events = [row[0] for row in conn.execute("SELECT event FROM audit_events ORDER BY id")]
    conn.close()
    assert events == ["command", "capillary_call", "outcome"]


def _forged_signature() -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
