"""Start the sandbox on a real port: for tests (``running_sandbox``) and the CLI."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.sandbox.capillary.context import CONTEXT, RecordedCall
from bot.sandbox.capillary.describe import describe
from bot.sandbox.capillary.faults import Faults
from bot.sandbox.capillary.server import build_sandbox_app
from bot.sandbox.capillary.state import SandboxState

SHUTDOWN_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox listening on ``base_url`` (no trailing slash)."""

    base_url: str
    state: SandboxState
    faults: Faults
    calls: list[RecordedCall]
    app: web.Application


@asynccontextmanager
async def running_sandbox(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    state: SandboxState | None = None,
    token_ttl_seconds: int = 300,
) -> AsyncIterator[RunningSandbox]:
    """Run the sandbox in the current event loop (port 0 = a free port) until the block ends."""
    app = build_sandbox_app(state, token_ttl_seconds=token_ttl_seconds)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        ctx = app[CONTEXT]
        base_url = f"http://{_url_host(host)}:{bound_port}"
        yield RunningSandbox(base_url, ctx.state, ctx.faults, ctx.calls, app)
    finally:
        await runner.cleanup()


async def serve_forever(port: int, host: str = "127.0.0.1") -> None:
    """Start the sandbox, print its description to stdout, and run until cancelled."""
    async with running_sandbox(port, host=host) as sandbox:
        sys.stdout.write(describe(sandbox.state, sandbox.base_url))
        sys.stdout.write("Press Ctrl-C to stop.\n")
        sys.stdout.flush()
        await asyncio.Event().wait()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
