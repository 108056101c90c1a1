"""Time from starting ``coupon-bot serve`` to its first ``GET /healthz`` 200, beside the
minimal aiohttp pipeline started the same way.

Each start is a new process (``python -m bot serve``, settings from the environment, a new
database file, so migrations run), timed from just before it is spawned until ``/healthz``
answers 200, polled every 5 ms; then it is stopped with SIGTERM. Startup includes warming
the user-group cache from the Slack emulator (running in this process) and opening the
Capillary client (the sandbox runs in its own process). Bot and baseline alternate; the
median of ``--starts`` is reported. Target: < 1.5 s.

    python -m benchmarks.startup [--starts 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from benchmarks.harness import (
    BOT,
    MINIMAL,
    ROOT,
    bot_env,
    free_port,
    start_process,
    stopped,
    wait_healthy,
)
from benchmarks.report import (
    Figure,
    Target,
    fmt,
    load_now,
    machine,
    markdown_table,
    merge_runs,
)
from bot.sandbox.slack import running_slack_emulator

__all__ = ["Results", "figures", "main", "measure", "run"]

TARGET = Target("<", 1.5, "s")
COMMANDS = {
    BOT: ["-m", "bot", "serve", "--host", "127.0.0.1", "--port"],
    MINIMAL: ["-m", "benchmarks.minimal_pipeline", "--port"],
}

#: pipeline → seconds from spawn to the first /healthz 200, one per start
Results = dict[str, list[float]]


async def measure(starts: int) -> Results:
    results: Results = {name: [] for name in COMMANDS}
    async with AsyncExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coupon-start-")))
        emulator = await stack.enter_async_context(running_slack_emulator())
        http = await stack.enter_async_context(aiohttp.ClientSession())
        port = free_port()
        sandbox = start_process(
            ["-m", "bot", "sandbox", "--port", str(port)], env=dict(os.environ), cwd=folder
        )
        stack.push_async_callback(stopped, sandbox)
        sandbox_url = f"http://127.0.0.1:{port}"
        await wait_healthy(http, f"{sandbox_url}/__sandbox/faults", sandbox)
        for n in range(starts + 1):  # the first of each warms the OS's file cache: not counted
            for name, command in COMMANDS.items():
                env = bot_env(
                    sandbox_url=sandbox_url,
                    emulator_api=emulator.api_url,
                    database=folder / f"{n}-{len(results[name])}-{name[:3]}.db",
                )
                seconds = await _start_once(http, command, env)
                if n > 0:
                    results[name].append(seconds)
    return results


async def _start_once(
    http: aiohttp.ClientSession, command: list[str], env: dict[str, str]
) -> float:
    port = free_port()
    began = time.perf_counter()
    process = start_process([*command, str(port)], env=env, cwd=ROOT)
    try:
        healthy = await wait_healthy(http, f"http://127.0.0.1:{port}/healthz", process)
    finally:
        await stopped(process)
    return healthy - began


def figures(results: Results) -> list[Figure]:
    return [
        Figure(
            "start to first /healthz 200",
            "median",
            statistics.median(results[BOT]),
            "s",
            TARGET,
            statistics.median(results[MINIMAL]),
            "minimal pipeline",
        )
    ]


def details(results: Results) -> str:
    lines = ["start → first /healthz 200 (s), each start a new process:"]
    for name, seconds in results.items():
        each = ", ".join(fmt(s) for s in seconds)
        lines.append(f"  {name}: median {fmt(statistics.median(seconds))} ({each})")
    return "\n".join(lines)


def run(quick: bool = False) -> list[Figure]:
    """Measure (3 starts when quick, else 5), print the details, return the figures."""
    results = asyncio.run(measure(3 if quick else 5))
    print(details(results), flush=True)
    return figures(results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}; {load_now()}")
    results = asyncio.run(measure(args.starts))
    print(details(results))
    print()
    print(markdown_table(merge_runs([figures(results)])))


if __name__ == "__main__":
    main()
