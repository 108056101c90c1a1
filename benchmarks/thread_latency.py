"""Bot-added latency: a signed ``/coupon get`` sent → its result stored in the thread, minus
Capillary's fixed latency, at 1, 20 and 100 concurrent agents, beside the minimal pipeline.

Closed loop: each agent (a distinct member of @support-agents in #support-coupons) sends its
next command as soon as the result of its previous one is in the thread. The sandbox adds
``--latency-ms`` (200) to every Capillary call through ``/__sandbox/faults``; that is
subtracted, so what remains is the bot's own time plus the loopback hops and the emulator's
handling of its three Slack calls. The minimal aiohttp pipeline (:mod:`benchmarks.minimal_pipeline`)
runs the same commands against the same emulator and sandbox in alternating rounds: its
figure is the floor that the machine and the harness impose. Target at 100 agents: p50 < 25 ms,
p99 < 100 ms. See :mod:`benchmarks.harness` for which process runs what.

    python -m benchmarks.thread_latency [--users 1,20,100] [--commands 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.harness import (
    BOT,
    MINIMAL,
    BenchStack,
    bench_stack,
    closed_loop,
    set_latency,
)
from benchmarks.report import (
    Figure,
    Target,
    fmt,
    load_now,
    machine,
    markdown_table,
    merge_runs,
    percentile,
)

__all__ = ["Options", "Results", "figures", "main", "measure", "run"]

TEXT = "get GOOD100"
TARGET_USERS = 100
P50_TARGET = Target("<", 25, "ms")
P99_TARGET = Target("<", 100, "ms")


@dataclass(frozen=True)
class Options:
    users: Sequence[int] = (1, 20, 100)
    commands: int = 300  # measured per level and pipeline
    rounds: int = 3  # bot and baseline alternate, commands / rounds at a time
    latency_ms: int = 200

    @classmethod
    def quick(cls) -> Options:
        return cls(commands=60, rounds=2)


#: users → pipeline → bot-added milliseconds, one per measured command
Results = dict[int, dict[str, list[float]]]


async def measure(options: Options) -> Results:
    results: Results = {}
    async with bench_stack(max(options.users)) as bench:
        await set_latency(bench, options.latency_ms)
        for count in options.users:
            results[count] = await _level(bench, options, count)
    return results


async def _level(bench: BenchStack, options: Options, count: int) -> dict[str, list[float]]:
    """Bot and baseline in alternating rounds; each round starts with ``count`` agents
    sending at once, a burst rather than the steady state, so the first ``2 × count``
    commands of a round (at least 10) are sent but not counted. A round gives each agent at
    least three counted commands, so there are fewer rounds at higher levels."""
    users = bench.users[:count]
    rounds = max(1, min(options.rounds, options.commands // (3 * count)))
    per_round, warmup = options.commands // rounds, max(10, 2 * count)
    found: dict[str, list[float]] = {name: [] for name in bench.pipelines}
    for _ in range(rounds):
        for name, pipeline in bench.pipelines.items():
            samples = await closed_loop(bench, pipeline, users, per_round, TEXT, warmup=warmup)
            found[name] += [ms - options.latency_ms for ms in samples]
    return found


def figures(results: Results) -> list[Figure]:
    """p50 and p99 per level; the targets apply at 100 agents."""
    found = []
    for count, by_pipeline in results.items():
        bot, minimal = by_pipeline[BOT], by_pipeline.get(MINIMAL)
        for name, q, target in (("p50", 0.5, P50_TARGET), ("p99", 0.99, P99_TARGET)):
            found.append(
                Figure(
                    f"bot-added latency, {count} agent{'s' * (count != 1)} (command → thread)",
                    name,
                    percentile(bot, q),
                    "ms",
                    target if count == TARGET_USERS else None,
                    percentile(minimal, q) if minimal else None,
                    "minimal pipeline",
                )
            )
    return found


def details(results: Results, options: Options) -> str:
    lines = [
        f"bot-added latency (ms): command sent → result stored in the thread, minus the "
        f"sandbox's {options.latency_ms} ms; closed loop, {options.commands} commands per level",
        f"{'agents':>6}  {'pipeline':<26} {'n':>5} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}",
    ]
    for count, by_pipeline in results.items():
        for name, samples in by_pipeline.items():
            stats = (percentile(samples, q) for q in (0.5, 0.9, 0.99, 1.0))
            cells = " ".join(f"{fmt(v):>7}" for v in stats)
            lines.append(f"{count:>6}  {name:<26} {len(samples):>5} {cells}")
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
    parser.add_argument("--users", default="1,20,100", help="comma-separated agent counts")
    parser.add_argument("--commands", type=int, default=Options.commands)
    parser.add_argument("--rounds", type=int, default=Options.rounds)
    parser.add_argument("--latency-ms", type=int, default=Options.latency_ms)
    args = parser.parse_args()
    users = tuple(int(n) for n in args.users.split(","))
    options = Options(users, args.commands, args.rounds, args.latency_ms)
    print(f"machine: {machine()}; {load_now()}")
    results = asyncio.run(measure(options))
    print(details(results, options))
    print()
    print(markdown_table(merge_runs([figures(results)])))


if __name__ == "__main__":
    main()
