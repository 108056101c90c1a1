"""CPU time per Capillary GET in three HTTP clients, in the same run: httpx as the Capillary
client sets it up, httpx over an aiohttp transport, and bare aiohttp.

Why: under load the bot spends more CPU per ``get`` than anything else on its Capillary
call (see the README's Performance section). This measures how much of that is httpx's
own machinery (httpcore's pool scans each connection on every request, anyio's socket
wrappers) against aiohttp doing the same GET, so the team can weigh changing it.

The aiohttp transport here exists only to be measured. It is not one to ship: the client
tells a write that never left (``ConnectError``: safe to say "not done") from one that may
have been carried out, by httpx's exception types, and this transport maps no exceptions.
(The ``httpx-aiohttp`` package maps ``aiohttp.ClientConnectionError``, the parent of
``ServerDisconnectedError``, to ``ConnectTimeout``: a redeem cut off after it was sent
would read as never sent.)

One process (this one) runs the clients in alternating rounds against a sandbox process
at zero latency, sequentially and with ``--concurrency`` GETs in flight (at most 32, as
the Capillary client allows). Reported: CPU ms per GET (median of the rounds) and the
ratio to httpx.

    python -m benchmarks.http_client [--calls 1500] [--rounds 3] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from benchmarks.client_get import free_port, start_sandbox

__all__ = ["AiohttpTransport", "main"]

CODE = "GOOD100"
IN_FLIGHT = 32  # the Capillary client's max_in_flight default
_DIGEST = hashlib.md5(b"sandbox").hexdigest()  # the sandbox's till: sandbox / sandbox
AUTH = {"Authorization": "Basic " + base64.b64encode(f"sandbox:{_DIGEST}".encode()).decode()}
Get = Callable[[], Awaitable[None]]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx requests sent by an aiohttp session: for this measurement only (see above)."""

    def __init__(self, session: aiohttp.ClientSession):
        self._session = session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        async with self._session.request(
            request.method,
            str(request.url),
            headers=headers,
            data=request.content or None,
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
        return httpx.Response(answer.status, headers=list(answer.raw_headers), content=body)


async def cpu_ms_per_get(get: Get, calls: int, concurrency: int) -> float:
    slots = asyncio.Semaphore(min(concurrency, IN_FLIGHT))

    async def one() -> None:
        async with slots:
            await get()

    started = time.process_time()
    if concurrency == 1:
        for _ in range(calls):
            await get()
    else:
        await asyncio.gather(*(one() for _ in range(calls)))
    return (time.process_time() - started) * 1000 / calls


async def measure(args: argparse.Namespace, port: int) -> dict[tuple[str, int], list[float]]:
    url = f"http://127.0.0.1:{port}/v1.1/coupon/get"
    params = {"code": CODE, "format": "json"}
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    # No decompression in aiohttp: httpx decodes what the headers say, as it would anyway.
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        httpx.AsyncClient(limits=limits) as plain,
        httpx.AsyncClient(transport=AiohttpTransport(session)) as bridged,
    ):

        async def bare() -> None:
            async with session.get(url, params=params, headers=AUTH) as answer:
                answer.raise_for_status()
                await answer.read()

        async def via_httpx() -> None:
            (await plain.get(url, params=params, headers=AUTH)).raise_for_status()

        async def via_bridge() -> None:
            (await bridged.get(url, params=params, headers=AUTH)).raise_for_status()

        clients: dict[str, Get] = {
            "httpx": via_httpx,
            "httpx over aiohttp": via_bridge,
            "bare aiohttp": bare,
        }
        found: dict[tuple[str, int], list[float]] = {}
        for concurrency in (1, args.concurrency):
            for round_ in range(args.rounds + 1):  # round 0 warms up connections
                for name, get in clients.items():
                    ms = await cpu_ms_per_get(get, args.calls, concurrency)
                    if round_:
                        found.setdefault((name, concurrency), []).append(ms)
        return found


def report(found: dict[tuple[str, int], list[float]], args: argparse.Namespace) -> None:
    print(f"CPU ms per GET ({args.calls} GETs × {args.rounds} rounds; sandbox at 0 ms)")
    for concurrency in sorted({c for _, c in found}):
        base = statistics.median(found[("httpx", concurrency)])
        print(f"  {concurrency} in flight (at most {IN_FLIGHT}):")
        for (name, c), samples in found.items():
            if c == concurrency:
                ms = statistics.median(samples)
                print(f"    {name:20} {ms:6.3f} ms   {ms / base:5.2f}× httpx")


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    found.add_argument("--calls", type=int, default=1500)
    found.add_argument("--rounds", type=int, default=3)
    found.add_argument("--concurrency", type=int, default=50)
    return found


def main() -> None:
    args = parser().parse_args()
    port = free_port()
    sandbox = start_sandbox(port)
    try:
        report(asyncio.run(measure(args, port)), args)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
