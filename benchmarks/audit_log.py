"""Audit log throughput and query latency, with and without the indexes of migration 2.

Writes ROWS events through ``AuditLog.record`` (the real writer: chaining, batches of 500,
one transaction each) into a temporary database: ~50k coupon codes, ~20k customers, ~200
actors (a few busy, most quiet), times spread over a year. Then times ``AuditLog.query`` by
code, by customer and by actor (``limit=20``) on that database, and on a copy of it with the
indexes dropped.

    python benchmarks/audit_log.py [--rows 1000000] [--queries 200] [--unindexed-queries 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit import AuditEvent, AuditEventKind, AuditFilter, AuditOutcome
from bot.capillary.identifiers import parse_customer
from bot.storage import AuditLog, open_database

CODES = 50_000
CUSTOMERS = 20_000
ACTORS = 200
CHUNK = 50_000  # events built and recorded between flushes (bounds the queue's memory)
INSERT_TARGET = 5_000  # rows/s
P99_TARGET_MS = 10.0
KINDS = list(AuditEventKind)
CALL = AuditEventKind.CAPILLARY_CALL
KIND_WEIGHTS = [30, 2, 5, 4, 1, 1, 40, 17]
VERBS = ["get", "check", "resend", "issue", "redeem", "series", "log"]
VERB_WEIGHTS = [30, 30, 10, 10, 15, 3, 2]
OUTCOMES = [None, AuditOutcome.OK, AuditOutcome.FAILED, AuditOutcome.UNKNOWN]
OUTCOME_WEIGHTS = [70, 25, 4, 1]
Picker = Callable[[], AuditFilter]


class Population:
    """The values events draw from, and a seeded random source for both writes and queries."""

    def __init__(self, seed: int = 7):
        self.rand = random.Random(seed)
        self.codes = [f"C{i:07d}" for i in range(CODES)]
        self.customers = [f"91{self.rand.randrange(10**9, 10**10)}" for _ in range(CUSTOMERS)]
        self.actors = [f"U{i:08d}" for i in range(ACTORS)]
        # A few agents do most of the work: weights fall off like 1/rank.
        self.actor_weights = [1 / (rank + 1) for rank in range(ACTORS)]

    def events(self, start: int, count: int, total: int, first_at: datetime) -> list[AuditEvent]:
        r = self.rand
        step = timedelta(days=365) / total
        kinds = r.choices(KINDS, KIND_WEIGHTS, k=count)
        verbs = r.choices(VERBS, VERB_WEIGHTS, k=count)
        outcomes = r.choices(OUTCOMES, OUTCOME_WEIGHTS, k=count)
        actors = r.choices(self.actors, self.actor_weights, k=count)
        return [
            AuditEvent(
                kinds[n],
                first_at + step * (start + n),
                actor=actors[n],
                verb=verbs[n],
                code=r.choice(self.codes),
                customer_kind="mobile",
                customer=r.choice(self.customers),
                outcome=outcomes[n],
                channel="C01SUPPORT",
                thread_ts=f"{1_700_000_000 + start + n}.000100",
                latency_ms=r.uniform(20, 400) if kinds[n] is CALL else None,
            )
            for n in range(count)
        ]

    def pickers(self) -> dict[str, Picker]:
        r = self.rand
        return {
            "by code": lambda: AuditFilter(code=r.choice(self.codes), limit=20),
            "by customer": lambda: AuditFilter(
                customer=parse_customer(r.choice(self.customers)), limit=20
            ),
            "by actor": lambda: AuditFilter(
                actor=r.choices(self.actors, self.actor_weights)[0], limit=20
            ),
        }


async def fill(path: Path, rows: int, population: Population) -> tuple[float, float]:
    """Record ``rows`` events; return (seconds spent in record + writer, seconds building)."""
    conn = await open_database(path)
    writing = building = 0.0
    first_at = datetime.now(UTC) - timedelta(days=365)
    try:
        async with AuditLog(conn) as log:
            for start in range(0, rows, CHUNK):
                began = time.perf_counter()
                events = population.events(start, min(CHUNK, rows - start), rows, first_at)
                built = time.perf_counter()
                for event in events:
                    log.record(event)
                await log.flush()
                building += built - began
                writing += time.perf_counter() - built
            verified = time.perf_counter()
            result = await log.verify()
            print(
                f"verify: ok={result.ok}, {result.rows_checked:,} rows in "
                f"{time.perf_counter() - verified:.1f} s"
            )
    finally:
        await conn.close()
    return writing, building


async def time_queries(path: Path, picks: Sequence[AuditFilter]) -> list[float]:
    conn = await open_database(path)
    try:
        log = AuditLog(conn)  # queries only: no writer needed
        samples = []
        for f in picks:
            began = time.perf_counter()
            await log.query(f)
            samples.append((time.perf_counter() - began) * 1000)
        return samples
    finally:
        await conn.close()


def unindexed_copy(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    copy = path.with_name("unindexed.sqlite3")
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events'"
        " AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        conn.execute(f'DROP INDEX "{name}"')
    conn.close()
    return copy


def size_mib(path: Path) -> float:
    return os.path.getsize(path) / 2**20


def quantile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def benchmark(rows: int, queries: int, unindexed_queries: int) -> dict[str, float]:
    """Print the report; return inserts/s (``inserts``) and each query kind's p99 in ms,
    with (``by code``…) and without (``by code, no index``…) the indexes."""
    found: dict[str, float] = {}
    population = Population()
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as folder:
        path = Path(folder) / "audit.sqlite3"
        print(f"writing {rows:,} events through AuditLog.record (batch_size=500) …")
        writing, building = await fill(path, rows, population)
        rate = found["inserts"] = rows / writing
        print(
            f"inserts: {rate:,.0f} rows/s through the writer ({writing:.1f} s; building the "
            f"events took another {building:.1f} s, not counted)  "
            f"target ≥ {INSERT_TARGET:,}/s: {'PASS' if rate >= INSERT_TARGET else 'FAIL'}"
        )
        print(f"database: {size_mib(path):,.0f} MiB")
        copy = unindexed_copy(path)
        pickers = population.pickers()
        print(
            f"\nqueries, limit=20 (ms): {queries} per kind with indexes, "
            f"{unindexed_queries} per kind without (each scans the table)"
        )
        print(f"{'query':<12} {'p50':>7} {'p99':>7}   {'no index p50':>12} {'p99':>7}   target")
        for label, pick in pickers.items():
            indexed = await time_queries(path, [pick() for _ in range(queries)])
            plain = await time_queries(copy, [pick() for _ in range(unindexed_queries)])
            p99 = found[label] = quantile(indexed, 0.99)
            found[f"{label}, no index"] = quantile(plain, 0.99)
            verdict = "PASS" if p99 < P99_TARGET_MS else "FAIL"
            print(
                f"{label:<12} {quantile(indexed, 0.5):>7.2f} {p99:>7.2f}   "
                f"{quantile(plain, 0.5):>12.1f} {quantile(plain, 0.99):>7.1f}   "
                f"p99 < {P99_TARGET_MS:.0f} ms: {verdict}"
            )
        print(f"(python {sqlite3.sqlite_version=}, {os.cpu_count()} CPUs)")
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--unindexed-queries", type=int, default=20)
    args = parser.parse_args()
    await benchmark(args.rows, args.queries, args.unindexed_queries)


if __name__ == "__main__":
    asyncio.run(main())
