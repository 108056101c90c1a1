"""What every benchmark hands to the summary: figures with a target and a same-run baseline,
percentiles, the markdown table and the machine it ran on. Pure functions, no I/O but
:func:`machine`.
"""

from __future__ import annotations

import operator
import os
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Figure",
    "OtherWork",
    "Target",
    "fmt",
    "load_now",
    "machine",
    "markdown_table",
    "merge_runs",
    "percentile",
]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "≤": operator.le,
    ">": operator.gt,
    "≥": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Target:
    """``value <op> bound``, e.g. ``Target("<", 100, "ms")``; with ``of_ratio`` the bound is
    on value / baseline, e.g. ``Target("≥", 0.5, of_ratio=True)``."""

    op: str
    bound: float
    unit: str = ""
    of_ratio: bool = False

    def met(self, figure: Figure) -> bool:
        value = figure.ratio if self.of_ratio else figure.value
        return value is not None and _OPS[self.op](value, self.bound)

    def describe(self) -> str:
        if self.of_ratio:
            return f"ratio {self.op} {fmt(self.bound, '×')}"
        return f"{self.op} {fmt(self.bound, self.unit)}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number, beside what the same run measured for the baseline."""

    benchmark: str  # what was measured, e.g. "bot-added latency, 100 users"
    name: str  # which statistic, e.g. "p99"
    value: float
    unit: str
    target: Target | None = None
    baseline: float | None = None
    baseline_name: str = ""  # e.g. "minimal aiohttp pipeline"

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank, as the existing benchmarks compute it."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt(value: float, unit: str = "") -> str:
    """A number with as many digits as are worth reading, and its unit."""
    magnitude = abs(value)
    if magnitude >= 100:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 0.1 or magnitude == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.1e}" if magnitude < 0.001 else f"{value:.3f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("×", "%") else f"{text} {unit}"


def _spread(values: Sequence[float], unit: str) -> str:
    """One value, or ``low–high`` over repeated runs."""
    low, high = min(values), max(values)
    if fmt(low) == fmt(high):
        return fmt(low, unit)
    return f"{fmt(low)}–{fmt(high, unit)}"


@dataclass(frozen=True, slots=True)
class Row:
    """Figures of the same benchmark and statistic from one or more runs, as table cells."""

    benchmark: str
    figure: str
    baseline: str
    ratio: str
    target: str
    met: str


def merge_runs(runs: Iterable[Sequence[Figure]]) -> list[Row]:
    """One row per (benchmark, statistic), in first-seen order; repeats become ranges.

    ``met?`` is ``yes`` when every run met the target, ``no`` when none did, else ``k/n runs``.
    """
    grouped: dict[tuple[str, str], list[Figure]] = {}
    for figures in runs:
        for figure in figures:
            grouped.setdefault((figure.benchmark, figure.name), []).append(figure)
    return [_row(same) for same in grouped.values()]


def _row(same: Sequence[Figure]) -> Row:
    first = same[0]
    baselines = [f.baseline for f in same if f.baseline is not None]
    ratios = [r for r in (f.ratio for f in same) if r is not None]
    baseline = ""
    if baselines:
        baseline = f"{_spread(baselines, first.unit)} ({first.baseline_name})".strip()
    met = ""
    if first.target is not None:
        hits = sum(first.target.met(f) for f in same)
        met = "yes" if hits == len(same) else "no" if hits == 0 else f"{hits}/{len(same)} runs"
    return Row(
        benchmark=first.benchmark,
        figure=f"{first.name} {_spread([f.value for f in same], first.unit)}",
        baseline=baseline,
        ratio=_spread(ratios, "×") if ratios else "",
        target=first.target.describe() if first.target else "",
        met=met,
    )


def markdown_table(rows: Sequence[Row]) -> str:
    """The summary as a GitHub markdown table."""
    header = ("benchmark", "figure", "baseline (same run)", "ratio", "target", "met?")
    lines = [_cells(header), _cells(["---"] * len(header))]
    lines += [_cells((r.benchmark, r.figure, r.baseline, r.ratio, r.target, r.met)) for r in rows]
    return "\n".join(lines)


def _cells(values: Iterable[str]) -> str:
    return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"


def machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """CPU model, cores, Python and OS."""
    model = "unknown CPU"
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


def load_now() -> str:
    """The 1-, 5- and 15-minute load averages: how busy the shared machine was."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


class OtherWork:
    """How many CPU cores *other* processes kept busy since this was made: the machine's busy
    time (``/proc/stat``) minus this process's and its finished children's CPU time.

    Read it after the benchmark's helper processes have been waited for, or their CPU time
    counts as other work.
    """

    def __init__(self, stat: Path = Path("/proc/stat")):
        self._stat = stat
        self._start = self._now()

    def _now(self) -> tuple[float, float, float]:
        mine = os.times()
        own = mine.user + mine.system + mine.children_user + mine.children_system
        return time.monotonic(), _busy_seconds(self._stat), own

    def cores(self) -> float:
        (wall0, busy0, own0), (wall, busy, own) = self._start, self._now()
        if wall <= wall0:
            return 0.0
        return max(0.0, ((busy - busy0) - (own - own0)) / (wall - wall0))


def _busy_seconds(stat: Path) -> float:
    """CPU seconds spent on anything but idling, all cores, since boot."""
    if not stat.exists():
        return 0.0
    fields = [int(x) for x in stat.read_text().splitlines()[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
