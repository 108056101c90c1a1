"""What ``GET /metrics`` shows (Prometheus text format), in a registry of the app's own.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (never the global one),
so tests and several apps in one process don't mix their counts. Everything is fed by hooks
that exist anyway:

- commands by verb and outcome, and their latency: the :class:`~bot.recording.Recorder`
  (``Recorder(sink, meter=metrics)``), timed from the request's arrival (:mod:`bot.logs`);
- Capillary calls by endpoint and code, and their latency: the client's observer
  (:meth:`Metrics.capillary_call`), and the circuit breaker's state (:meth:`watch_breaker`);
- Slack 429s: the Web API client's retry handler (:meth:`Metrics.slack_rate_limited`);
- pending approvals: ``metrics.pending_approvals.set_function(count)`` once approvals run
  (:func:`bot.server.approvals_running`; 0 until then). The callable runs on every scrape:
  keep it cheap (a counter the store keeps, not a query).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from bot.capillary.breaker import BreakerState, CircuitBreaker
from bot.capillary.client import CallRecord
from bot.logs import current_request

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Capillary answers in 100–500 ms on a good day; a timeout is 10 s.
_CAPILLARY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# A command includes Capillary, its retries and Slack; slow ones are the ones to see.
_COMMAND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_CIRCUIT = {BreakerState.CLOSED: 0.0, BreakerState.HALF_OPEN: 1.0, BreakerState.OPEN: 2.0}
_API_PREFIX = "/v1.1/"


class Metrics:
    """The bot's metrics. ``render()`` is the body of ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # memory, CPU, open files of this process
        self.commands = Counter(
            "coupon_bot_commands",
            "Commands that ended, by verb and outcome (ok, failed, unknown, refused).",
            ["verb", "outcome"],
            registry=r,
        )
        self.command_seconds = Histogram(
            "coupon_bot_command_seconds",
            "From the command reaching the bot until its outcome is known, by verb.",
            ["verb"],
            buckets=_COMMAND_BUCKETS,
            registry=r,
        )
        self.capillary_calls = Counter(
            "coupon_bot_capillary_calls",
            "HTTP attempts against Capillary, by endpoint and the code that decided them "
            "(item or request code, or timeout / connection_refused / malformed_body).",
            ["endpoint", "code"],
            registry=r,
        )
        self.capillary_seconds = Histogram(
            "coupon_bot_capillary_call_seconds",
            "Latency of one HTTP attempt against Capillary, by endpoint.",
            ["endpoint"],
            buckets=_CAPILLARY_BUCKETS,
            registry=r,
        )
        self.slack_rate_limits = Counter(
            "coupon_bot_slack_rate_limited",
            "Slack Web API answers of HTTP 429 (each waited out, then retried), by method.",
            ["method"],
            registry=r,
        )
        self.pending_approvals = Gauge(
            "coupon_bot_pending_approvals",
            "Approval requests waiting for a decision.",
            registry=r,
        )
        self.pending_approvals.set_function(lambda: 0.0)
        self.capillary_circuit = Gauge(
            "coupon_bot_capillary_circuit_state",
            "Capillary circuit breaker: 0 closed, 1 half-open (next call probes), 2 open.",
            registry=r,
        )
        self.capillary_failures = Gauge(
            "coupon_bot_capillary_consecutive_failures",
            "Capillary calls failed in a row (transport, unreadable, server error).",
            registry=r,
        )

    def command_ended(self, verb: str, outcome: str) -> None:
        """A command's outcome (the recorder's meter); timed from its request's arrival."""
        self.commands.labels(verb or "unknown", outcome).inc()
        request = current_request()
        if request is not None and outcome != "refused":
            self.command_seconds.labels(verb or "unknown").observe(request.elapsed())

    def capillary_call(self, call: CallRecord) -> None:
        """The Capillary client's observer: one HTTP attempt."""
        endpoint = call.endpoint.removeprefix(_API_PREFIX)
        self.capillary_calls.labels(endpoint, call.code or "none").inc()
        self.capillary_seconds.labels(endpoint).observe(call.latency_ms / 1000)

    def slack_rate_limited(self, method: str) -> None:
        """Slack answered 429 to ``method`` (``chat.postMessage``)."""
        self.slack_rate_limits.labels(method).inc()

    def watch_breaker(self, breaker: CircuitBreaker) -> None:
        """Read the breaker's state at each scrape."""
        self.capillary_circuit.set_function(lambda: _CIRCUIT[breaker.state])
        self.capillary_failures.set_function(lambda: float(breaker.failures))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
