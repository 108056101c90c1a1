"""Median per-call time of CapillaryClient.get against the sandbox, beside a bare httpx GET.

Both run in the same process, one after the other in alternating rounds, against the same
sandbox (a separate process, zero latency) and the same URL, query and auth header. The bare
client only sends the request and reads the body; ours also builds the request, parses the
envelope into typed results and reports to no observer.

    python benchmarks/client_get.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx
from pydantic import SecretStr

from bot.capillary.auth import BasicAuth
from bot.capillary.client import CapillaryClient

CODE = "GOOD100"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise SystemExit("the sandbox did not start")


async def timed(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(base_url: str, calls: int, rounds: int) -> dict[str, list[float]]:
    digest = hashlib.md5(b"sandbox").hexdigest()
    auth = "Basic " + base64.b64encode(f"sandbox:{digest}".encode()).decode()
    bare = httpx.AsyncClient(base_url=base_url, headers={"Accept": "application/json"})
    ours = CapillaryClient(base_url, BasicAuth("sandbox", SecretStr("sandbox")))
    params = {"code": CODE, "format": "json"}
    auth_header = {"Authorization": auth}

    async def bare_get() -> object:
        response = await bare.get("/v1.1/coupon/get", params=params, headers=auth_header)
        return response.content

    async def client_get() -> object:
        return await ours.get(CODE)

    lookup = await ours.get(CODE)
    assert lookup.coupons, "the sandbox should know GOOD100"
    await timed(bare_get, 200)  # warm both connection pools
    await timed(client_get, 200)
    results: dict[str, list[float]] = {"bare httpx GET": [], "CapillaryClient.get": []}
    for _ in range(rounds):
        results["bare httpx GET"] += await timed(bare_get, calls // rounds)
        results["CapillaryClient.get"] += await timed(client_get, calls // rounds)
    await bare.aclose()
    await ours.aclose()
    return results


def report(results: dict[str, list[float]]) -> None:
    print(f"{'':22} {'n':>6} {'p50 µs':>9} {'p90 µs':>9} {'p99 µs':>9}")
    for name, samples in results.items():
        print(
            f"{name:22} {len(samples):6d} {statistics.median(samples):9.0f} "
            f"{pct(samples, 0.90):9.0f} {pct(samples, 0.99):9.0f}"
        )
    base, ours = (statistics.median(s) for s in results.values())
    print(f"ratio (client / bare), median: {ours / base:.2f}x  (target ≤ 1.3x)")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


def sandboxed(calls: int, rounds: int) -> dict[str, list[float]]:
    """Per-call µs of the bare GET and of the client, against a sandbox started for it."""
    port = free_port()
    sandbox = start_sandbox(port)
    try:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", calls, rounds))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report(sandboxed(args.calls, args.rounds))


if __name__ == "__main__":
    main()
