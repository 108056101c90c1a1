"""Throughput of ``/coupon get`` at zero Capillary latency, beside the minimal aiohttp
pipeline in the same run, and the bot's peak memory under that load.

``--users`` agents (closed loop, as in :mod:`benchmarks.thread_latency`) keep the pipeline
busy; a round is ``--commands`` commands, timed from the first one sent until every parent
message shows its final status. The bot and the minimal pipeline
(:mod:`benchmarks.minimal_pipeline`) alternate rounds against the same emulator and sandbox.
Reported: commands/s (median of the rounds) and bot / minimal (target ≥ 0.5); CPU time per
command of each process (where the time goes); the bot's peak RSS (``VmHWM``, target
< 150 MB); and a check that the bot wrote its three audit rows for every command.

    python -m benchmarks.throughput [--users 50] [--commands 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import (
    BOT,
    MINIMAL,
    BenchStack,
    Pipeline,
    bench_stack,
    closed_loop,
    peak_rss_mb,
    set_latency,
    stopped,
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

__all__ = ["Options", "Results", "figures", "main", "measure", "run"]

TEXT = "get GOOD100"
AUDIT_ROWS_PER_GET = 3  # command, capillary_call, outcome
RATIO_TARGET = Target("≥", 0.5, of_ratio=True)
RSS_TARGET = Target("<", 150, "MB")


@dataclass(frozen=True)
class Options:
    users: int = 50
    commands: int = 1000  # per round and pipeline
    rounds: int = 3
    warmup: int = 200

    @classmethod
    def quick(cls) -> Options:
        return cls(commands=300, rounds=2, warmup=100)


@dataclass
class Measured:
    """One pipeline's rounds."""

    rates: list[float] = field(default_factory=list)  # commands/s
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)  # process → CPU ms/command
    peak_rss_mb: float = 0.0
    audit_rows: int = 0
    commands: int = 0  # sent in all, warm-up included


Results = dict[str, Measured]


async def measure(options: Options) -> Results:
    results: Results = {}
    async with bench_stack(options.users) as bench:
        await set_latency(bench, 0)
        for name, pipeline in bench.pipelines.items():
            results[name] = Measured()
            await _round(bench, pipeline, options.warmup, options, results[name], counted=False)
        for _ in range(options.rounds):
            for name, pipeline in bench.pipelines.items():
                await _round(bench, pipeline, options.commands, options, results[name])
        for name, pipeline in bench.pipelines.items():
            measured = results[name]
            measured.peak_rss_mb = peak_rss_mb(pipeline.process.pid)
            await stopped(pipeline.process)  # the bot flushes its audit log on SIGTERM
            measured.audit_rows = _count_rows(pipeline.database)
    _check_audit(results)
    return results


def _check_audit(results: Results) -> None:
    """Fast but losing audit rows is not a result: refuse to report it."""
    for name, measured in results.items():
        expected = measured.commands * AUDIT_ROWS_PER_GET
        if measured.audit_rows != expected:
            raise RuntimeError(f"{name} wrote {measured.audit_rows:,} audit rows, not {expected:,}")


async def _round(
    bench: BenchStack,
    pipeline: Pipeline,
    commands: int,
    options: Options,
    into: Measured,
    *,
    counted: bool = True,
) -> None:
    users = bench.users[: options.users]
    clock = bench.cpu_clock(pipeline)
    began = time.perf_counter()
    await closed_loop(bench, pipeline, users, commands, TEXT)  # waits for the last update
    elapsed = time.perf_counter() - began
    into.commands += commands
    if not counted:
        return
    into.rates.append(commands / elapsed)
    for process, seconds in clock.spent().items():
        into.cpu_ms.setdefault(process, []).append(seconds * 1000 / commands)


def _count_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute("SELECT count(*) FROM audit_events").fetchone()
    conn.close()
    return int(count)


def figures(results: Results) -> list[Figure]:
    bot, minimal = results[BOT], results.get(MINIMAL)
    return [
        Figure(
            "throughput at 0 ms Capillary latency",
            "commands/s",
            statistics.median(bot.rates),
            "",
            RATIO_TARGET,
            statistics.median(minimal.rates) if minimal else None,
            "minimal pipeline",
        ),
        Figure(
            "CPU time per command at that load",
            "bot process",
            statistics.median(bot.cpu_ms["pipeline"]),
            "ms",
            None,
            statistics.median(minimal.cpu_ms["pipeline"]) if minimal else None,
            "minimal pipeline",
        ),
        Figure(
            "peak RSS of the bot under that load",
            "VmHWM",
            bot.peak_rss_mb,
            "MB",
            RSS_TARGET,
            minimal.peak_rss_mb if minimal else None,
            "minimal pipeline",
        ),
    ]


def details(results: Results, options: Options) -> str:
    lines = [
        f"throughput: {options.users} agents, closed loop, Capillary latency 0 ms, "
        f"{options.rounds} rounds of {options.commands} commands per pipeline "
        f"(after {options.warmup} warm-up)",
    ]
    for name, measured in results.items():
        rates = ", ".join(fmt(rate) for rate in measured.rates)
        cpu = ", ".join(
            f"{process} {fmt(statistics.median(ms))}" for process, ms in measured.cpu_ms.items()
        )
        lines += [
            f"  {name}: {rates} commands/s",
            f"    CPU ms per command: {cpu}",
            f"    peak RSS {fmt(measured.peak_rss_mb, 'MB')}; audit rows {measured.audit_rows:,}"
            f" for {measured.commands:,} commands",
        ]
    return "\n".join(lines)


def run(quick: bool = False) -> list[Figure]:
    """Measure with the default (or quick) options, print the details, return the figures."""
    options = Options.quick() if quick else Options()
    results = asyncio.run(measure(options))
    print(details(results, options), flush=True)
    return figures(results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=Options.users)
    parser.add_argument("--commands", type=int, default=Options.commands)
    parser.add_argument("--rounds", type=int, default=Options.rounds)
    parser.add_argument("--warmup", type=int, default=Options.warmup)
    args = parser.parse_args()
    options = Options(args.users, args.commands, args.rounds, args.warmup)
    print(f"machine: {machine()}; {load_now()}")
    results = asyncio.run(measure(options))
    print(details(results, options))
    print()
    print(markdown_table(merge_runs([figures(results)])))


if __name__ == "__main__":
    main()
