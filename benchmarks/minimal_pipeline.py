"""The baseline: ``/coupon get <code>`` hand-written on bare aiohttp, with no framework.

Per command it does the work the bot does, in the bot's order, and nothing else: verify
Slack's signature (HMAC-SHA256, timestamp within 5 minutes), parse the form, ack with an
empty 200, then in a background task post the parent message (``chat.postMessage``), GET the
coupon from Capillary (Basic auth) and read its JSON, post the result in the thread, update
the parent's status (``chat.update``), and insert the three audit rows the bot writes for a
``get`` (command, capillary_call, outcome) into SQLite (WAL, ``synchronous=NORMAL``, one
transaction, each row's hash chained to the previous one's).

It leaves out what a real bot needs and the benchmark does not exercise: permissions, the
command grammar, other verbs, error translation, retries, 429 handling, shutdown draining.
So its throughput is a ceiling for this work in Python on this machine, not a rival design.

Settings come from the same environment variables as ``coupon-bot serve``.

    python -m benchmarks.minimal_pipeline --port 3100
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sqlite3
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["build_app", "main"]

_COLUMNS = (
    "at, event, actor, verb, code, outcome, capillary_endpoint, capillary_request_id, "
    "http_status, capillary_code, latency_ms, team, channel, thread_ts, prev_hash, hash"
)
_SCHEMA = f"CREATE TABLE IF NOT EXISTS audit_events (id INTEGER PRIMARY KEY, {_COLUMNS})"
_INSERT = f"INSERT INTO audit_events ({_COLUMNS}) VALUES ({', '.join('?' * 16)})"


class Pipeline:
    """One process's connections: Slack, Capillary, SQLite."""

    def __init__(self, env: dict[str, str]):
        self.secret = env["SLACK_SIGNING_SECRET"].encode()
        self.slack_api = env["SLACK_API_URL"].rstrip("/")
        self.slack_auth = {"Authorization": f"Bearer {env['SLACK_BOT_TOKEN']}"}
        self.capillary = env["CAPILLARY_BASE_URL"].rstrip("/")
        md5 = hashlib.md5(env["CAPILLARY_PASSWORD"].encode()).hexdigest()
        basic = base64.b64encode(f"{env['CAPILLARY_USERNAME']}:{md5}".encode()).decode()
        self.capillary_auth = {"Authorization": f"Basic {basic}"}
        self.db = sqlite3.connect(env.get("COUPON_BOT_DATABASE", "minimal.sqlite3"))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(_SCHEMA)
        self.prev_hash = "0" * 64
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def verified(self, body: bytes, headers: Any) -> bool:
        stamp = headers.get("X-Slack-Request-Timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return False
        digest = hmac.new(self.secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        expected = "v0=" + digest.hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Slack-Signature", ""))

    async def slack(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.session is not None
        url = f"{self.slack_api}/{method}"
        async with self.session.post(url, json=payload, headers=self.slack_auth) as response:
            answer: dict[str, Any] = await response.json()
        if not answer.get("ok"):
            raise RuntimeError(f"{method}: {answer.get('error')}")
        return answer

    async def coupon(self, code: str) -> tuple[dict[str, Any], str, int, float]:
        assert self.session is not None
        url = f"{self.capillary}/v1.1/coupon/get"
        began = time.perf_counter()
        params = {"code": code, "format": "json"}
        async with self.session.get(url, params=params, headers=self.capillary_auth) as response:
            data = json.loads(await response.read())
            request_id = response.headers.get("X-Cap-Requestid", "")
            status = response.status
        latency_ms = (time.perf_counter() - began) * 1000
        return data["response"]["coupons"]["coupon"][0], request_id, status, latency_ms

    async def get(self, form: dict[str, str]) -> None:
        user, channel, code = form["user_id"], form["channel_id"], form["text"].split()[1]
        received = datetime.now(UTC).isoformat()
        line = f"🎟️ <@{user}> · get {code}"
        parent = await self.slack("chat.postMessage", _message(channel, f"{line} · ⏳"))
        ts = parent["ts"]
        coupon, request_id, status, latency_ms = await self.coupon(code)
        called = datetime.now(UTC).isoformat()
        await self.slack("chat.postMessage", {**_result(channel, coupon), "thread_ts": ts})
        await self.slack("chat.update", {**_message(channel, f"{line} · ✅"), "ts": ts})
        item = str(coupon["item_status"]["code"])
        scene = (user, "get", code)
        call = ("ok", "/v1.1/coupon/get", request_id, status, item, round(latency_ms, 1))
        rows = [
            (received, "command", *scene, *(None,) * 6),
            (called, "capillary_call", *scene, *call),
            (called, "outcome", *scene, "ok", None, request_id, None, item, None),
        ]
        self.audit(rows, form.get("team_id"), channel, ts)

    def audit(self, rows: list[tuple[Any, ...]], team: Any, channel: str, ts: str) -> None:
        chained = []
        for row in rows:
            values = (*row, team, channel, ts)
            digest = hashlib.sha256((self.prev_hash + json.dumps(values)).encode()).hexdigest()
            chained.append((*values, self.prev_hash, digest))
            self.prev_hash = digest
        with self.db:
            self.db.executemany(_INSERT, chained)


def _message(channel: str, text: str) -> dict[str, Any]:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return {"channel": channel, "text": text, "blocks": [section]}


def _result(channel: str, coupon: dict[str, Any]) -> dict[str, Any]:
    code = coupon["code"]
    customer = coupon["customer"]
    fields = [
        f"*Valid till*\n{coupon['valid_till']}",
        f"*Issued*\n{coupon['issued_on']} at {coupon['issued_store']['name']} to "
        f"••••{str(customer['mobile'])[-4:]}",
        "*Redeemed*\nNot redeemed yet",
    ]
    head = f"*{code}* — ₹{coupon['value']} off · series {coupon['series_id']}"
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": head},
            "fields": [{"type": "mrkdwn", "text": f} for f in fields],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "request id"}]},
    ]
    return {"channel": channel, "text": f"Coupon details: {code}", "blocks": blocks}


def build_app(pipeline: Pipeline) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not pipeline.verified(body, request.headers):
            return web.Response(status=401)
        form = dict(urllib.parse.parse_qsl(body.decode()))
        task = asyncio.create_task(pipeline.get(form))
        pipeline.tasks.add(task)
        task.add_done_callback(pipeline.tasks.discard)
        return web.Response(status=200)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def session(app: web.Application) -> Any:
        pipeline.session = aiohttp.ClientSession()
        yield
        if pipeline.tasks:
            await asyncio.wait(pipeline.tasks, timeout=10)
        await pipeline.session.close()
        pipeline.db.close()

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(session)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = build_app(Pipeline(dict(os.environ)))
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None, backlog=1024)


if __name__ == "__main__":
    main()
