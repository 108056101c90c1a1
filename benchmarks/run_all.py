"""Run every benchmark and print one markdown table: figure, same-run baseline, ratio,
target and whether it was met, with the machine it ran on.

    python -m benchmarks [--quick] [--only NAME,…] [--skip NAME,…] [--repeat N]

Names: thread_latency, throughput, startup, ack_latency, client_get, audit_log. ``--quick``
uses fewer commands and rows (a few minutes in all; figures are noisier). ``--repeat 2``
runs the selection twice and shows each figure as a range (the spread between runs).
The full run takes about ten minutes on 2 cores, most of it ``audit_log``'s million rows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import traceback
from collections.abc import Callable, Sequence

from benchmarks import (
    ack_latency,
    audit_log,
    client_get,
    startup,
    thread_latency,
    throughput,
)
from benchmarks.report import Figure, OtherWork, Target, machine, markdown_table, merge_runs

__all__ = ["BENCHMARKS", "main", "summary"]

Benchmark = Callable[[bool], list[Figure]]


def _client_get(quick: bool) -> list[Figure]:
    results = client_get.sandboxed(1000 if quick else 2000, 5)
    client_get.report(results)
    base, ours = (statistics.median(s) for s in results.values())
    return [
        Figure(
            "Capillary client GET, per call (sandbox, 0 ms)",
            "median",
            ours,
            "µs",
            Target("≤", 1.3, of_ratio=True),
            base,
            "bare httpx GET",
        )
    ]


def _ack_latency(quick: bool) -> list[Figure]:
    args = ack_latency.parser().parse_args(["--rounds", "1" if quick else "3"])
    found = ack_latency.measured(args)
    ack_latency.report(found, args)
    bare, bot = found.samples[ack_latency.BARE], found.samples[ack_latency.BOT]
    name = f"ack latency, {args.concurrency} concurrent commands"
    p99 = ack_latency.pct
    return [
        Figure(name, "p99", p99(bot, 0.99), "ms", Target("<", 100, "ms"), p99(bare, 0.99), "bare")
    ]


def _audit_log(quick: bool) -> list[Figure]:
    rows = 100_000 if quick else 1_000_000
    found = asyncio.run(audit_log.benchmark(rows, 200, 5 if quick else 20))
    name = f"audit log, {rows:,} rows"
    figures = [
        Figure(name, "inserts/s", found["inserts"], "", Target("≥", audit_log.INSERT_TARGET))
    ]
    for kind in audit_log.Population().pickers():
        figures.append(
            Figure(
                f"{name}: query {kind}, limit 20",
                "p99",
                found[kind],
                "ms",
                Target("<", audit_log.P99_TARGET_MS, "ms"),
                found[f"{kind}, no index"],
                "no index",
            )
        )
    return figures


BENCHMARKS: dict[str, Benchmark] = {
    "thread_latency": thread_latency.run,
    "throughput": throughput.run,
    "startup": startup.run,
    "ack_latency": _ack_latency,
    "client_get": _client_get,
    "audit_log": _audit_log,
}

NOTE = (
    "Every process of a run (the bot, the baseline, the Capillary sandbox, and the Slack "
    "emulator with the simulated agents) shares this machine's {cores} CPU cores. Other work "
    "on the machine was not stopped: it kept {others} cores busy on average while each "
    "benchmark ran (the machine's busy time minus the benchmarks' own)."
)


def summary(
    runs: Sequence[Sequence[Figure]], where: str, cores: int | None, others: Sequence[float]
) -> str:
    """The table, the machine and the caveat, as printed at the end (and pasted in the README)."""
    busy = f"{min(others):.1f}–{max(others):.1f}" if others else "an unknown number of"
    note = NOTE.format(cores=cores or "?", others=busy)
    return "\n\n".join([markdown_table(merge_runs(runs)), f"Machine: {where}.", note])


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown benchmark(s): {', '.join(unknown)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer commands and rows")
    parser.add_argument("--only", type=_names, default=list(BENCHMARKS), metavar="NAMES")
    parser.add_argument("--skip", type=_names, default=[], metavar="NAMES")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the selection")
    args = parser.parse_args(argv)
    selected = [name for name in args.only if name not in args.skip]
    where = machine()
    print(f"machine: {where}\n", flush=True)
    runs: list[list[Figure]] = []
    failed: list[str] = []
    others: list[float] = []
    for repeat in range(args.repeat):
        figures: list[Figure] = []
        for name in selected:
            print(f"== {name} (run {repeat + 1} of {args.repeat})", flush=True)
            began, other_work = time.perf_counter(), OtherWork()
            try:
                figures += BENCHMARKS[name](args.quick)
            except Exception:
                traceback.print_exc()
                failed.append(name)
            others.append(other_work.cores())
            elapsed = time.perf_counter() - began
            print(f"   ({elapsed:.0f} s; other work: {others[-1]:.1f} cores)\n", flush=True)
        runs.append(figures)
    print(summary(runs, where, os.cpu_count(), others))
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
