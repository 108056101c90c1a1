"""The stack the end-to-end benchmarks drive, and the load they put on it.

Processes on loopback, one per part, as they would be deployed:

- ``coupon-bot serve`` (the real CLI, settings from the environment as an admin sets them),
- the minimal pipeline (:mod:`benchmarks.minimal_pipeline`), the same-run baseline,
- the Capillary sandbox (``coupon-bot sandbox``),
- this process: the Slack emulator and the simulated users.

The bot gets a process of its own (not ``running_bot()`` in this event loop) because that is
how it runs in production, and because in one process every millisecond the emulator and the
load generator spend would be charged to the bot's latency, and its memory could not be told
apart. The emulator stays here because the reply has to be *seen*: :class:`ThreadWatch`
notes the moment each thread reply is stored, on the same clock that timed the command.

On a small machine the parts still share the CPU cores; :class:`CpuClock` says how much
CPU each process spent, so a report can say where the time went.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack import Call, EmulatorState, running_slack_emulator
from bot.sandbox.slack.payloads import command_form
from bot.sandbox.slack.seed import User

__all__ = [
    "AGENTS_GROUP",
    "BOT",
    "CHANNEL",
    "DEMO_POLICY",
    "MINIMAL",
    "ROOT",
    "SECRET",
    "BenchStack",
    "CpuClock",
    "Pipeline",
    "ThreadWatch",
    "bench_stack",
    "bench_users",
    "bot_env",
    "closed_loop",
    "command_to_reply",
    "free_port",
    "peak_rss_mb",
    "set_latency",
    "signed",
    "start_process",
    "stop_process",
    "stopped",
    "wait_healthy",
]

ROOT = Path(__file__).resolve().parents[1]
DEMO_POLICY = ROOT / "bot" / "sandbox" / "demo-policy.toml"
SECRET = "benchmark-signing-secret"
TOKEN = "xoxb-benchmark"
CHANNEL = "C01SUPPORT"
AGENTS_GROUP = "S02AGENTS"  # @support-agents: the demo policy's agents
REPLY_TIMEOUT_S = 60.0
_MENTION = re.compile(r"<@(U[A-Z0-9]+)>")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- watching the emulator ----------------------------------------------------------------


class ThreadWatch(EmulatorState):
    """The emulator's state, noting when each thread reply and final parent update is stored.

    A command's parent message names its user (``<@U…>``); each simulated user has at most
    one command in flight, so the reply in that parent's thread answers the user's command.
    """

    def __init__(self) -> None:
        super().__init__()
        self._owner: dict[str, str] = {}  # parent ts -> user
        self._waiting: dict[str, asyncio.Future[float]] = {}  # user -> when the reply came
        self.unsettled: set[str] = set()  # parents still showing ⏳
        self.failures: list[str] = []

    def expect_reply(self, user: str) -> asyncio.Future[float]:
        """A future set to ``time.perf_counter()`` when ``user``'s next thread reply is stored."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[user] = future
        return future

    def record(self, call: Call) -> None:
        super().record(call)
        if not call.ok:
            self.failures.append(call.describe())
        elif call.method == "chat.postMessage":
            self._posted(call)
        elif call.method == "chat.update" and "⏳" not in str(call.args.get("text")):
            self.unsettled.discard(str(call.args.get("ts")))

    def _posted(self, call: Call) -> None:
        thread = call.args.get("thread_ts")
        if thread is None:
            found = _MENTION.search(str(call.args.get("text")))
            ts = str(call.response["ts"])
            self._owner[ts] = found.group(1) if found else ""
            self.unsettled.add(ts)
            return
        future = self._waiting.pop(self._owner.get(str(thread), ""), None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def settled(self, timeout: float = REPLY_TIMEOUT_S) -> None:  # noqa: ASYNC109
        """Wait until every parent posted so far has its final status."""
        await self.wait_for(lambda: not self.unsettled, timeout=timeout)


def bench_users(state: EmulatorState, count: int) -> list[str]:
    """``count`` agents: new workspace members of #support-coupons and @support-agents
    (the demo policy's agent group), like a support floor's accounts."""
    ids = [f"U9BENCH{n:04d}" for n in range(count)]
    workspace = state.workspace
    for n, user_id in enumerate(ids):
        workspace.users[user_id] = User(user_id, f"agent{n}", f"Agent {n}")
        workspace.channels[CHANNEL].members.add(user_id)
    group = workspace.groups[AGENTS_GROUP]
    workspace.groups[AGENTS_GROUP] = dataclasses.replace(group, users=(*group.users, *ids))
    return ids


# ---- processes ----------------------------------------------------------------------------


def bot_env(*, sandbox_url: str, emulator_api: str, database: Path) -> dict[str, str]:
    """``coupon-bot serve``'s settings, from the environment as in a deployment."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emulator_api,
        "CAPILLARY_BASE_URL": sandbox_url,
        "CAPILLARY_USERNAME": "sandbox",
        "CAPILLARY_PASSWORD": "sandbox",
        "COUPON_BOT_POLICY": str(DEMO_POLICY),
        "COUPON_BOT_DATABASE": str(database),
        "COUPON_BOT_LOG_FORMAT": "text",
    }


def start_process(
    args: Sequence[str], *, env: dict[str, str], cwd: Path, log: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """Start a helper; its output goes to ``log`` (or nowhere)."""
    out = log if log is not None else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM (the bot drains and flushes its audit log), then wait; kill if it hangs."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


async def stopped(process: subprocess.Popen[bytes]) -> int:
    """:func:`stop_process` without blocking the event loop (the emulator runs in it)."""
    return await asyncio.to_thread(stop_process, process)


async def wait_healthy(
    http: aiohttp.ClientSession,
    url: str,
    process: subprocess.Popen[bytes],
    *,
    timeout: float = 30,  # noqa: ASYNC109
    poll: float = 0.005,
) -> float:
    """Poll ``url`` until it answers 200; return ``time.perf_counter()`` at that answer."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited early with {process.returncode}")
        with suppress(aiohttp.ClientError):
            async with http.get(url) as response:
                if response.status == 200:
                    return time.perf_counter()
        await asyncio.sleep(poll)
    raise RuntimeError(f"{url} never answered 200")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (``VmHWM``), in MB (10⁶ bytes; the kernel counts KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmHWM for {pid}")


class CpuClock:
    """CPU seconds (user + system) spent by some processes between two readings."""

    _TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: dict[str, int]):
        self._pids = pids
        self._start = self._read()

    def _read(self) -> dict[str, float]:
        return {name: _cpu_seconds(pid) for name, pid in self._pids.items()}

    def spent(self) -> dict[str, float]:
        now = self._read()
        return {name: now[name] - self._start[name] for name in now}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CpuClock._TICK  # utime, stime


# ---- the stack ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """Something that answers slash commands: the bot, or the minimal baseline."""

    name: str
    url: str  # its /slack/events
    process: subprocess.Popen[bytes]
    database: Path  # its audit log


@dataclass
class BenchStack:
    watch: ThreadWatch
    sandbox_url: str
    sandbox: subprocess.Popen[bytes]
    http: aiohttp.ClientSession
    users: list[str]
    pipelines: dict[str, Pipeline] = field(default_factory=dict)
    folder: Path = Path()

    def cpu_clock(self, pipeline: Pipeline) -> CpuClock:
        pids = {"pipeline": pipeline.process.pid, "sandbox": self.sandbox.pid}
        return CpuClock({**pids, "emulator + users": os.getpid()})


BOT = "coupon-bot serve"
MINIMAL = "minimal aiohttp pipeline"


@asynccontextmanager
async def bench_stack(user_count: int, *, minimal: bool = True) -> AsyncIterator[BenchStack]:
    """Emulator (here), sandbox, the bot and (with ``minimal``) the baseline, all started.

    The processes' output goes to a log that is shown if anything fails.
    """
    async with AsyncExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coupon-bench-")))
        watch = ThreadWatch()
        users = bench_users(watch, user_count)
        emulator = await stack.enter_async_context(running_slack_emulator(state=watch))
        http = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        log = stack.enter_context((folder / "processes.log").open("wb"))
        try:
            port = free_port()
            sandbox_args = ["-m", "bot", "sandbox", "--port", str(port)]
            sandbox = start_process(sandbox_args, env=dict(os.environ), cwd=folder, log=log)
            stack.push_async_callback(stopped, sandbox)
            sandbox_url = f"http://127.0.0.1:{port}"
            await wait_healthy(http, f"{sandbox_url}/__sandbox/faults", sandbox)
            bench = BenchStack(watch, sandbox_url, sandbox, http, users, folder=folder)
            await _start_pipelines(stack, bench, emulator.api_url, log, minimal)
            yield bench
        except Exception:
            log.flush()
            tail = (folder / "processes.log").read_text(errors="replace")[-4000:]
            sys.stderr.write(f"--- output of the processes:\n{tail}\n")
            raise


async def _start_pipelines(
    stack: AsyncExitStack, bench: BenchStack, emulator_api: str, log: IO[bytes], minimal: bool
) -> None:
    """The bot (and the baseline), each stopped when ``stack`` closes."""
    starts = [(BOT, ["-m", "bot", "serve", "--host", "127.0.0.1", "--port"])]
    if minimal:
        starts.append((MINIMAL, ["-m", "benchmarks.minimal_pipeline", "--port"]))
    for name, args in starts:
        port, database = free_port(), bench.folder / f"{name.split()[0]}.sqlite3"
        env = bot_env(sandbox_url=bench.sandbox_url, emulator_api=emulator_api, database=database)
        process = start_process([*args, str(port)], env=env, cwd=ROOT, log=log)
        stack.push_async_callback(stopped, process)
        await wait_healthy(bench.http, f"http://127.0.0.1:{port}/healthz", process)
        url = f"http://127.0.0.1:{port}/slack/events"
        bench.pipelines[name] = Pipeline(name, url, process, database)


async def set_latency(bench: BenchStack, latency_ms: int) -> None:
    """Capillary's fixed latency, through the sandbox's fault endpoint."""
    faults = f"{bench.sandbox_url}/__sandbox/faults"
    async with bench.http.post(faults, json={"latency_ms": latency_ms}) as response:
        if response.status != 200:
            raise RuntimeError(f"the sandbox refused latency_ms={latency_ms}: {response.status}")


# ---- the load -----------------------------------------------------------------------------


def signed(
    watch: EmulatorState, user: str, text: str, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    """A slash command as Slack sends it: the real form, signed now."""
    who = watch.workspace.users[user]
    channel = watch.workspace.channels[CHANNEL]
    form = command_form(
        text=text,
        user=who,
        channel=channel,
        command="/coupon",
        response_url=watch.issue_response_url(user, CHANNEL),
        trigger_id=watch.issue_trigger(user),
    )
    body = urllib.parse.urlencode(form).encode()
    stamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(signature),
    }
    return body, headers


async def command_to_reply(
    watch: ThreadWatch,
    http: aiohttp.ClientSession,
    url: str,
    user: str,
    text: str,
    *,
    secret: str = SECRET,
) -> float:
    """Send one command; milliseconds until its result is stored in the thread."""
    replied = watch.expect_reply(user)
    body, headers = signed(watch, user, text, secret)
    start = time.perf_counter()
    async with http.post(url, data=body, headers=headers) as response:
        ack = await response.read()
        if response.status != 200 or ack:
            raise RuntimeError(f"{url} acked {response.status} {ack[:200]!r}")
    done = await asyncio.wait_for(replied, REPLY_TIMEOUT_S)
    return (done - start) * 1000


async def closed_loop(
    bench: BenchStack,
    pipeline: Pipeline,
    users: Sequence[str],
    commands: int,
    text: str,
    *,
    warmup: int = 0,
) -> list[float]:
    """``users`` agents each send a command as soon as their previous result arrived,
    ``warmup + commands`` in all; the command-to-reply times (ms) of the last ``commands``
    sent, in the order they were sent. Returns once every parent has its final status.
    """
    sent = 0
    samples: dict[int, float] = {}

    async def agent(user: str) -> None:
        nonlocal sent
        while sent < warmup + commands:
            n, sent = sent, sent + 1
            samples[n] = await command_to_reply(bench.watch, bench.http, pipeline.url, user, text)

    await asyncio.gather(*(agent(user) for user in users))
    await bench.watch.settled()
    if bench.watch.failures:
        raise RuntimeError(f"Slack calls failed: {bench.watch.failures[:5]}")
    return [samples[n] for n in range(warmup, warmup + commands)]
