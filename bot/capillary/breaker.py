"""A circuit breaker for Capillary: after repeated failures, stop calling it for a while.

Without one, every command during an outage waits for its own timeouts (three attempts of
up to 10 s for a read) before telling the agent what the previous command already knew.
With one, once Capillary has failed ``threshold`` times in a row, calls fail at once with
"Capillary isn't answering right now", and after ``cooldown_seconds`` one call is let
through as a probe: its success closes the circuit, its failure opens it again.

::

    CLOSED ──threshold failures in a row──▶ OPEN ──cooldown──▶ HALF_OPEN (one probe)
       ▲                                      ▲                    │
       └──────────── the probe succeeds ──────┼────────────────────┤
                                              └── the probe fails ─┘

"In a row" means with no success in between and no more than ``window_seconds`` between
one failure and the next: a trickle of failures hours apart never opens the circuit.
A probe whose caller never reports (cancelled mid-call) stops blocking others after another
cool-down.

What counts as a failure is the caller's decision (the client counts transport failures,
timeouts, unreadable answers and server errors, never a coupon-level refusal); this module
is a pure state machine with an injectable clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Admission", "BreakerPolicy", "BreakerSnapshot", "BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once
    HALF_OPEN = "half_open"  # the cool-down is over: the next call is a probe


class Admission(StrEnum):
    """What the breaker says about one call about to be made."""

    PASS = "pass"  # closed: send it
    PROBE = "probe"  # half-open: send it, its result decides the circuit
    REJECT = "reject"  # open (or a probe is already out): fail at once, send nothing


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When the circuit opens and how long it stays open before a probe."""

    threshold: int = 5
    window_seconds: float = 60.0
    cooldown_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be at least 1")
        if self.cooldown_seconds <= 0 or self.window_seconds <= 0:
            raise ValueError("cooldown_seconds and window_seconds must be positive")


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """The breaker's state at one moment, for ``/healthz`` and metrics."""

    state: BreakerState
    #: Failures in the current run (0 after a success).
    failures: int
    #: Seconds since the circuit opened (None when closed).
    open_for: float | None
    #: Seconds until a probe may go (0 when closed or half-open).
    retry_in: float


class CircuitBreaker:
    """One per Capillary client, shared by every endpoint (Capillary is up or it isn't).

    Single-threaded (asyncio): no locks; every method runs to completion between awaits.
    """

    def __init__(
        self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic
    ):
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._failures = 0
        self._last_failure: float | None = None
        self._opened_at: float | None = None  # None: closed
        self._probe_sent_at: float | None = None

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.policy.cooldown_seconds:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def failures(self) -> int:
        return self._failures

    def admit(self) -> Admission:
        """Whether the next call may be sent; a PROBE must be followed by a report."""
        state = self.state
        if state is BreakerState.CLOSED:
            return Admission.PASS
        if state is BreakerState.OPEN or self._probe_out():
            return Admission.REJECT
        self._probe_sent_at = self._clock()
        return Admission.PROBE

    def succeeded(self) -> None:
        """Capillary answered (a coupon-level refusal is an answer): close the circuit."""
        self._failures = 0
        self._last_failure = None
        self._opened_at = None
        self._probe_sent_at = None

    def failed(self) -> None:
        """Capillary failed a call: count it; open (or re-open) the circuit at the threshold."""
        now = self._clock()
        if self._last_failure is not None and now - self._last_failure > self.policy.window_seconds:
            self._failures = 0  # the previous run is too old to count
        self._failures += 1
        self._last_failure = now
        if self._opened_at is not None and self._probe_sent_at is None:
            return  # a call sent before the circuit opened: it stays open, the cool-down runs
        if self._opened_at is not None or self._failures >= self.policy.threshold:
            self._opened_at = now  # opened, or a failed probe: a new cool-down
            self._probe_sent_at = None

    def snapshot(self) -> BreakerSnapshot:
        state, now = self.state, self._clock()
        if self._opened_at is None:
            return BreakerSnapshot(state, self._failures, None, 0.0)
        retry_in = max(0.0, self._opened_at + self.policy.cooldown_seconds - now)
        return BreakerSnapshot(state, self._failures, now - self._opened_at, retry_in)

    def _probe_out(self) -> bool:
        """A probe was sent and has not reported, and it is not yet given up on."""
        sent = self._probe_sent_at
        return sent is not None and self._clock() - sent < self.policy.cooldown_seconds
