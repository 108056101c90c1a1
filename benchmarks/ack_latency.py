"""Ack latency of ``coupon-bot serve`` under 200 concurrent signed ``/coupon get`` commands,
beside a bare aiohttp handler that only returns 200, in the same run.

Four processes on loopback: the Capillary sandbox (2 s latency switched on), the Slack
emulator, the bot (``python -m bot serve``) and the bare server; this script is the load.
Slack needs an ack within 3 s; the target is p99 < 100 ms while Capillary takes 2 s.

Each burst also reports the CPU time each server spent while it lasted (Linux, from
``/proc``, 10 ms ticks): the acks are CPU-bound, so a burst's p99 follows its CPU time,
and the bare server's CPU in the same run shows how fast the machine was at that moment.

    python benchmarks/ack_latency.py [--concurrency 200] [--rounds 3] [--latency-ms 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-signing-secret"
TEXT = os.environ.get("BENCH_TEXT", "get GOOD100")
BARE, BOT = "bare aiohttp 200", "coupon-bot serve"
BARE_SERVER = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.Response(status=200)
app = web.Application()
app.router.add_post("/slack/events", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None, backlog=1024)
"""
EMULATOR = (
    "import asyncio, sys; from bot.sandbox.slack import serve_forever; "
    "asyncio.run(serve_forever(int(sys.argv[1])))"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a helper process exited early: {process.args!r}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


@contextmanager
def processes(sandbox: int, emulator: int, bot: int, bare: int) -> Iterator[dict[int, int]]:
    """The four processes, running until the block ends; yields each one's pid by port."""
    with tempfile.TemporaryDirectory(prefix="ack-bench-") as folder:
        yield from _processes(sandbox, emulator, bot, bare, Path(folder) / "bot.sqlite3")


def _processes(
    sandbox: int, emulator: int, bot: int, bare: int, database: Path
) -> Iterator[dict[int, int]]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-benchmark",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"http://127.0.0.1:{emulator}/api/",
        "CAPILLARY_BASE_URL": f"http://127.0.0.1:{sandbox}",
        "CAPILLARY_USERNAME": "sandbox",
        "CAPILLARY_PASSWORD": "sandbox",
        "COUPON_BOT_POLICY": str(ROOT / "bot" / "sandbox" / "demo-policy.toml"),
        "COUPON_BOT_LOG_FORMAT": "text",
        "COUPON_BOT_DATABASE": str(database),  # not a file left in the working directory
    }
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": ROOT}
    started = [
        (
            sandbox,
            subprocess.Popen(
                [sys.executable, "-m", "bot", "sandbox", "--port", str(sandbox)], **quiet
            ),
        ),
        (emulator, subprocess.Popen([sys.executable, "-c", EMULATOR, str(emulator)], **quiet)),
        (
            bot,
            subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(bot)],
                **quiet,
            ),
        ),
        (bare, subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare)], **quiet)),
    ]
    try:
        for port, process in started:
            wait_for_port(port, process)
        yield {port: process.pid for port, process in started}
    finally:
        for _, process in started:
            process.terminate()
        for _, process in started:
            process.wait(timeout=10)


def signed_command(emulator: int, n: int) -> tuple[bytes, dict[str, str]]:
    form = {
        "token": "legacy",
        "team_id": "T0SANDBOX",
        "team_domain": "sandbox-retail",
        "channel_id": "C01SUPPORT",
        "channel_name": "support-coupons",
        "user_id": "U03AGENT",
        "user_name": "asha",
        "command": "/coupon",
        "text": TEXT,
        "api_app_id": "A0COUPON",
        "response_url": f"http://127.0.0.1:{emulator}/response/benchmark-{n}",
        "trigger_id": f"benchmark.{n}",
    }
    body = urllib.parse.urlencode(form).encode()
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return body, headers


async def burst(
    http: aiohttp.ClientSession, url: str, emulator: int, concurrency: int
) -> list[float]:
    requests = [signed_command(emulator, n) for n in range(concurrency)]

    async def one(body: bytes, headers: dict[str, str]) -> float:
        start = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                raise SystemExit(f"{url} answered {response.status}")
        return elapsed

    return list(await asyncio.gather(*(one(b, h) for b, h in requests)))


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_ms(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far; None where ``/proc`` isn't."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Burst:
    p99_ms: float
    cpu_ms: float | None  # the server's CPU time while the burst lasted; None: not known


@dataclass(slots=True)
class Measured:
    """Every ack's ms, and each measured burst, by server (``BARE``, ``BOT``)."""

    samples: dict[str, list[float]] = field(default_factory=lambda: {BARE: [], BOT: []})
    bursts: dict[str, list[Burst]] = field(default_factory=lambda: {BARE: [], BOT: []})


async def measure(
    args: argparse.Namespace, ports: dict[str, int], pids: dict[str, int]
) -> Measured:
    # Connections stay open between bursts (a burst takes longer than the 15 s default).
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=600)
    async with aiohttp.ClientSession(connector=connector) as http:
        faults = f"http://127.0.0.1:{ports['sandbox']}/__sandbox/faults"
        async with http.post(faults, json={"latency_ms": args.latency_ms}) as switched:
            assert switched.status == 200
        targets = {
            BARE: f"http://127.0.0.1:{ports['bare']}/slack/events",
            BOT: f"http://127.0.0.1:{ports['bot']}/slack/events",
        }
        metrics = f"http://127.0.0.1:{ports['bot']}/metrics"
        found = Measured()
        for round_ in range(args.rounds + 1):  # round 0 warms up: connections, caches, imports
            for name, url in targets.items():
                ended = await commands_ended(http, metrics)
                cpu_before = cpu_ms(pids[name])
                samples = await burst(http, url, ports["emulator"], args.concurrency)
                cpu_after = cpu_ms(pids[name])
                if round_:
                    found.samples[name] += samples
                    used = None if cpu_before is None else (cpu_after or 0.0) - cpu_before
                    found.bursts[name].append(Burst(pct(samples, 0.99), used))
                if name == BOT:
                    await settled(http, metrics, ended + args.concurrency)
    return found


async def commands_ended(http: aiohttp.ClientSession, metrics: str) -> float:
    """How many commands the bot has finished (its ``coupon_bot_commands_total``)."""
    async with http.get(metrics) as response:
        text = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("coupon_bot_commands_total{")
    )


async def settled(http: aiohttp.ClientSession, metrics: str, target: float) -> None:
    """Wait until the bot has finished every command of the burst (Capillary answers,
    thread replies), so the next burst, the bot's or the bare server's, is measured on a
    quiet machine: at 32 Capillary calls in flight a burst takes several latencies."""
    deadline = time.monotonic() + 120
    while await commands_ended(http, metrics) < target:
        if time.monotonic() > deadline:
            raise SystemExit("the bot did not finish the burst's commands within 120 s")
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # the last thread replies and parent updates


def report(found: Measured, args: argparse.Namespace) -> None:
    print(
        f"{args.concurrency} concurrent signed /coupon get × {args.rounds} rounds, "
        f"Capillary latency {args.latency_ms} ms"
    )
    print(f"{'':18} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, samples in found.samples.items():
        print(
            f"{name:18} {len(samples):5d} {statistics.median(samples):8.1f} "
            f"{pct(samples, 0.9):8.1f} {pct(samples, 0.99):8.1f} {max(samples):8.1f}"
        )
    bare, bot = (pct(found.samples[name], 0.99) for name in (BARE, BOT))
    print(f"p99 ratio (bot / bare): {bot / bare:.2f}x; target: bot p99 < 100 ms")
    print("each burst, p99 ms / server CPU ms while it lasted:")
    for name, bursts in found.bursts.items():
        shown = (
            f"{b.p99_ms:.0f} / {'?' if b.cpu_ms is None else f'{b.cpu_ms:.0f}'}" for b in bursts
        )
        print(f"  {name:18} {'   '.join(shown)}")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    found.add_argument("--concurrency", type=int, default=200)
    found.add_argument("--rounds", type=int, default=3)
    found.add_argument("--latency-ms", type=int, default=2000)
    return found


def measured(args: argparse.Namespace) -> Measured:
    """Ack ms of the bare handler and of the bot, with the four processes started for it."""
    ports = {name: free_port() for name in ("sandbox", "emulator", "bot", "bare")}
    with processes(ports["sandbox"], ports["emulator"], ports["bot"], ports["bare"]) as pids:
        servers = {BARE: pids[ports["bare"]], BOT: pids[ports["bot"]]}
        return asyncio.run(measure(args, ports, servers))


def main() -> None:
    args = parser().parse_args()
    report(measured(args), args)


if __name__ == "__main__":
    main()
