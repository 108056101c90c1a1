"""Serving the app: HTTP mode (aiohttp, ``POST /slack/events``, ``GET /healthz``,
``GET /metrics``) or Socket Mode, plus the wiring ``serve`` and ``shell`` share:
settings → policy → Capillary client → app.

Each incoming request gets a correlation id (:func:`bot.logs.request_context`) that every
log line of its handling carries, including the work that continues after the ack.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.access import GroupLookup
from bot.app import Deps, build_app, build_runtime, web_client
from bot.background import Background
from bot.capillary.auth import BasicAuth
from bot.capillary.breaker import BreakerPolicy, CircuitBreaker
from bot.capillary.client import CallObserver, CallRecord, CapillaryClient
from bot.directory import SlackGroupDirectory
from bot.health import DatabaseProbe, Health
from bot.logs import request_context
from bot.memory import settle_after_startup
from bot.metrics import CONTENT_TYPE, Metrics
from bot.policy import Policy, load_policy
from bot.recording import Recorder
from bot.retention import prune_periodically
from bot.runtime import Runtime
from bot.settings import SANDBOX, Settings
from bot.storage import AuditLog, open_database
from bot.storage.approvals import ApprovalStore

__all__ = [
    "EVENTS_PATH",
    "CannotListen",
    "RunningBot",
    "bot_deps",
    "capillary_client",
    "running_bot",
    "running_socket_mode_bot",
    "serve_http",
    "serve_socket_mode",
    "web_application",
]

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
DRAIN_SECONDS = 10.0
log = logging.getLogger("coupon_bot")


def web_application(
    app: AsyncApp,
    background: Background,
    *,
    health: Health | None = None,
    metrics: Metrics | None = None,
    slack_events: bool = True,
) -> web.Application:
    """``POST /slack/events`` → Bolt (signature checked there), ``GET /healthz`` and, with
    ``metrics``, ``GET /metrics``. Without ``health``, ``/healthz`` only says it is up.
    Socket Mode serves only the last two (``slack_events=False``): its events come over
    the WebSocket, but a container's health check and a metrics scraper still need them."""

    async def events(request: web.Request) -> web.Response:
        with request_context(), background.acknowledging():
            try:
                bolt_request = await to_bolt_request(request)
            except Exception as error:
                # Bolt parses the body and builds its context before any listener (and the
                # error exit) runs: a body Slack would never send fails there. It is the
                # sender's error, not ours: 400, one line, no traceback and no body logged.
                log.warning("unreadable request to %s (%s): 400", EVENTS_PATH, type(error).__name__)
                return web.Response(status=400, text="unreadable request")
            bolt_response = await app.async_dispatch(bolt_request)
            if bolt_response.status == 401:  # Bolt's own line carries the body: held back
                log.info("refused a request to %s: bad or stale signature (401)", EVENTS_PATH)
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        if health is None:
            return web.json_response({"status": "ok"})
        status, body = await health.report()
        return web.json_response(body, status=status)

    application = web.Application()
    if slack_events:
        application.router.add_post(EVENTS_PATH, events)
    application.router.add_get(HEALTH_PATH, healthz)
    if metrics is not None:
        application.router.add_get(METRICS_PATH, _prometheus(metrics))
    return application


def _prometheus(metrics: Metrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def scrape(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    return scrape


@asynccontextmanager
async def capillary_client(
    settings: Settings,
    observer: CallObserver | None = None,
    *,
    breaker: CircuitBreaker | None = None,
) -> AsyncIterator[CapillaryClient]:
    """The configured Capillary, or the built-in sandbox (in this process) for ``sandbox``."""
    if settings.capillary.base_url != SANDBOX:
        client = CapillaryClient.from_settings(
            settings.capillary, observer=observer, breaker=breaker
        )
        async with client:
            yield client
        return
    from bot.sandbox.capillary import SANDBOX_PASSWORD, SANDBOX_USERNAME, running_sandbox

    async with running_sandbox() as sandbox:
        auth = BasicAuth(SANDBOX_USERNAME, SecretStr(SANDBOX_PASSWORD))
        timeout = settings.capillary.timeout_seconds
        async with CapillaryClient(
            sandbox.base_url, auth, timeout_seconds=timeout, observer=observer, breaker=breaker
        ) as client:
            log.info("Capillary: built-in sandbox at %s", sandbox.base_url)
            yield client


class CannotListen(Exception):
    """The port can't be bound (in use, say): one line for the person starting the bot."""


@dataclass(frozen=True, slots=True)
class RunningBot:
    url: str  # the events URL, e.g. http://127.0.0.1:3000/slack/events
    app: AsyncApp


@asynccontextmanager
async def bot_deps(
    settings: Settings,
    *,
    groups: GroupLookup | None = None,
    breaker: BreakerPolicy | None = None,
) -> AsyncIterator[Deps]:
    """Policy, the audit log, Capillary, one Slack HTTP session and a warm user-group cache,
    with the health checks and metrics that watch them.

    ``breaker``: when Capillary's circuit opens and for how long (default
    :class:`BreakerPolicy`).

    With ``[audit] retention_days`` set, older audit rows are pruned at start and hourly.
    On exit, in order: work still in flight after acks gets ``DRAIN_SECONDS`` to finish,
    pruning stops, then the audit log writes what it has queued, then connections close.
    """
    policy = load_policy(settings.bot.policy)
    async with AsyncExitStack() as stack:
        connection = await open_database(settings.bot.database)
        stack.push_async_callback(connection.close)
        audit = await stack.enter_async_context(AuditLog(connection))
        if policy.audit_retention is not None:
            pruning = asyncio.create_task(
                prune_periodically(audit, policy.audit_retention), name="audit-retention"
            )
            stack.push_async_callback(_cancel, pruning)  # before the audit log stops
        approvals_db = await open_database(settings.bot.database)  # its own transactions
        stack.push_async_callback(approvals_db.close)
        metrics = Metrics()
        circuit = CircuitBreaker(breaker)
        health = Health(DatabaseProbe(connection, settings.bot.database), circuit)
        metrics.watch_breaker(circuit)
        recorder = Recorder(audit, meter=metrics)
        observer = _each(recorder.capillary_call, metrics.capillary_call, health.capillary_call)
        capillary = await stack.enter_async_context(
            capillary_client(settings, observer=observer, breaker=circuit)
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        client = web_client(settings.slack, session, on_rate_limited=metrics.slack_rate_limited)
        if groups is None and policy.groups():
            directory = SlackGroupDirectory(client)
            await directory.warm()
            groups = directory
        deps = Deps(
            capillary=capillary,
            policy=policy,
            approvals=ApprovalStore(approvals_db),
            client=client,
            groups=groups,
            currency=settings.bot.currency,
            recorder=recorder,
            audit=audit,
            metrics=metrics,
            health=health,
        )
        try:
            yield deps
        finally:
            if not await deps.background.drain(DRAIN_SECONDS):
                log.warning("stopped with work still in flight after %s s", DRAIN_SECONDS)


async def warm_authorization(app: AsyncApp) -> None:
    """Ask Slack who the bot is once, before serving.

    Bolt calls ``auth.test`` on the first request and keeps the answer, but every request
    that arrives before that answer calls it too: after a restart under load, hundreds of
    calls (which Slack rate-limits) in the ack path. Bolt has no public hook for this, so
    the answer is handed to its single-team authorization middleware; if Slack can't be
    reached now, Bolt asks on the first request as before.
    """
    from slack_bolt.middleware.authorization.async_single_team_authorization import (
        AsyncSingleTeamAuthorization,
    )

    middleware = getattr(app, "_async_middleware_list", [])
    for authorization in middleware:
        if isinstance(authorization, AsyncSingleTeamAuthorization):
            try:
                authorization.auth_test_result = await app.client.auth_test()
            except (SlackApiError, aiohttp.ClientError, OSError) as error:
                log.warning("auth.test before serving failed (%s); Bolt will retry", error)


@asynccontextmanager
async def approvals_running(
    runtime: Runtime, policy: Policy, metrics: Metrics | None = None
) -> AsyncIterator[None]:
    """Recovery of requests a previous run left mid-way (in the background, tracked), then
    expiry rounds for as long as the block runs; the pending count for ``/metrics``."""
    store = runtime.approvals.store
    await store.recount()
    if metrics is not None:
        metrics.pending_approvals.set_function(lambda: float(store.pending))

    async def report(error: Exception) -> None:
        log.error("recovering approval requests failed", exc_info=error)

    left = await runtime.approvals.left_behind()  # before any new request comes in
    if left:
        log.info("picking up %d approval request(s) left mid-way", len(left))
        runtime.background.spawn(runtime.approvals.recover(left), report)
    every = expiry_interval(policy.approval.expires_after)
    expiry = asyncio.create_task(
        runtime.approvals.expire_periodically(every), name="approval-expiry"
    )
    try:
        yield
    finally:
        await _cancel(expiry)


def expiry_interval(expires_after: timedelta) -> float:
    """How often to look for expired requests: a tenth of their life, 0.2–30 s. A click
    in between is refused anyway (the request's time is checked on every decision)."""
    return min(30.0, max(0.2, expires_after.total_seconds() / 10))


def _each(*observers: Callable[[CallRecord], None]) -> CallObserver:
    """One observer that hands every call record to each of ``observers`` in turn."""

    def observe(call: CallRecord) -> None:
        for observer in observers:
            observer(call)

    return observe


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has ended; an error it ended with is logged."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        log.error("%s ended with an error", task.get_name(), exc_info=task.exception())


@asynccontextmanager
async def running_bot(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    groups: GroupLookup | None = None,
    breaker: BreakerPolicy | None = None,
) -> AsyncIterator[RunningBot]:
    """The bot serving HTTP on ``settings.bot.port`` (0: a free port) until the block ends."""
    async with bot_deps(settings, groups=groups, breaker=breaker) as deps:
        runtime = build_runtime(settings, deps)
        app = build_app(settings, deps, runtime=runtime)
        await warm_authorization(app)
        async with approvals_running(runtime, deps.policy, deps.metrics):
            served = web_application(app, deps.background, health=deps.health, metrics=deps.metrics)
            # Slack sends bursts (a shift starting, an outage): a deep accept queue keeps new
            # connections from waiting on SYN retries behind the default 128. Leaving the
            # block stops taking requests before bot_deps lets in-flight work drain.
            async with _site(served, host, settings.bot.port, backlog=1024) as port:
                yield RunningBot(f"http://{host}:{port}{EVENTS_PATH}", app)


async def _until_stopped() -> None:
    """Wait for SIGTERM or SIGINT (Ctrl-C); the caller then shuts down in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve_http(settings: Settings, host: str) -> None:
    """Serve until SIGTERM/SIGINT, then stop accepting and let in-flight work finish."""
    async with running_bot(settings, host=host) as bot:
        settle_after_startup()
        log.info("coupon-bot listening on %s", bot.url)
        await _until_stopped()
    log.info("coupon-bot stopped")


@asynccontextmanager
async def running_socket_mode_bot(
    settings: Settings, *, groups: GroupLookup | None = None, health_host: str | None = None
) -> AsyncIterator[AsyncApp]:
    """The bot connected over Socket Mode until the block ends; with ``health_host``, also
    ``GET /healthz`` and ``GET /metrics`` on ``COUPON_BOT_PORT`` there.

    ``apps.connections.open`` (with ``SLACK_APP_TOKEN``) goes to ``SLACK_API_URL`` like every
    other Web API call, so the Slack emulator serves Socket Mode too.
    """
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.socket_mode.aiohttp import SocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest

    class CorrelatedHandler(AsyncSocketModeHandler):
        """Each envelope gets a correlation id, as each HTTP request does."""

        async def handle(  # type: ignore[override]  # slack_bolt narrows it the same way
            self, client: SocketModeClient, req: SocketModeRequest
        ) -> None:
            with request_context(), deps.background.acknowledging():
                await super().handle(client, req)

    token = settings.slack.app_token.get_secret_value() if settings.slack.app_token else ""
    async with bot_deps(settings, groups=groups) as deps:
        runtime = build_runtime(settings, deps)
        app = build_app(settings, deps, socket_mode=True, runtime=runtime)
        await warm_authorization(app)
        async with AsyncExitStack() as serving:
            await serving.enter_async_context(approvals_running(runtime, deps.policy, deps.metrics))
            if health_host is not None:
                probes = web_application(
                    app,
                    deps.background,
                    health=deps.health,
                    metrics=deps.metrics,
                    slack_events=False,
                )
                await serving.enter_async_context(_site(probes, health_host, settings.bot.port))
            handler = CorrelatedHandler(app, token)
            try:  # a stop while slack_sdk still retries a refused connection closes it too
                await handler.connect_async()  # type: ignore[no-untyped-call]  # untyped
                yield app
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]


@asynccontextmanager
async def _site(
    application: web.Application, host: str, port: int, *, backlog: int = 128
) -> AsyncIterator[int]:
    """``application`` served on ``host:port`` (0: a free port) until the block ends, when it
    stops taking requests."""
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port, backlog=backlog).start()
        except OSError as error:  # in use, not allowed, no such address
            why = os.strerror(error.errno) if error.errno else str(error)
            raise CannotListen(f"can't listen on {host}:{port}: {why}") from error
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def serve_socket_mode(settings: Settings, host: str = "0.0.0.0") -> None:
    """Connect out to Slack over a WebSocket (no public URL needed); ``/healthz`` and
    ``/metrics`` on ``COUPON_BOT_PORT``."""
    async with running_socket_mode_bot(settings, health_host=host):
        settle_after_startup()
        log.info("coupon-bot connected over Socket Mode")
        await _until_stopped()
    log.info("coupon-bot stopped")
