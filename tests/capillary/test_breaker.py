"""The circuit breaker as a state machine, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from bot.capillary.breaker import (
    Admission,
    BreakerPolicy,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


POLICY = BreakerPolicy(threshold=3, window_seconds=60, cooldown_seconds=30)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(POLICY, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.admit() is not Admission.REJECT
        breaker.failed()


def test_closed_lets_calls_through(breaker: CircuitBreaker) -> None:
    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit() is Admission.PASS
    assert breaker.snapshot() == BreakerSnapshot(BreakerState.CLOSED, 0, None, 0.0)


def test_opens_at_the_threshold_of_failures_in_a_row(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit() is Admission.PASS
    breaker.failed()
    assert breaker.state is BreakerState.OPEN
    assert breaker.admit() is Admission.REJECT
    assert breaker.failures == 3


def test_a_success_starts_the_count_again(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.succeeded()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.failures == 2


def test_failures_further_apart_than_the_window_do_not_add_up(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    for _ in range(5):
        fail(breaker, 1)
        clock.advance(61)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.failures == 1


def test_failures_within_the_window_of_each_other_add_up(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    for _ in range(3):
        fail(breaker, 1)
        clock.advance(59)
    assert breaker.failures == 3
    assert breaker.state is not BreakerState.CLOSED


def test_after_the_cooldown_exactly_one_probe_goes(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.advance(29.9)
    assert breaker.admit() is Admission.REJECT
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit() is Admission.PROBE
    assert breaker.admit() is Admission.REJECT  # the probe is still out
    assert breaker.admit() is Admission.REJECT


def test_a_successful_probe_closes_the_circuit(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.advance(30)
    assert breaker.admit() is Admission.PROBE
    breaker.succeeded()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit() is Admission.PASS
    assert breaker.snapshot().failures == 0


def test_a_failed_probe_opens_it_for_another_cooldown(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.advance(30)
    assert breaker.admit() is Admission.PROBE
    clock.advance(5)  # the probe took its time
    breaker.failed()
    assert breaker.state is BreakerState.OPEN
    assert breaker.failures == 4
    clock.advance(29)
    assert breaker.admit() is Admission.REJECT
    clock.advance(1)
    assert breaker.admit() is Admission.PROBE


def test_a_late_failure_from_before_the_opening_does_not_extend_the_cooldown(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.advance(20)
    breaker.failed()  # a call sent while it was still closed, failing late
    clock.advance(10)
    assert breaker.admit() is Admission.PROBE


def test_a_probe_that_never_reports_is_given_up_after_a_cooldown(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.advance(30)
    assert breaker.admit() is Admission.PROBE  # then its caller is cancelled
    clock.advance(29)
    assert breaker.admit() is Admission.REJECT
    clock.advance(1)
    assert breaker.admit() is Admission.PROBE


def test_snapshot_says_how_long_it_has_been_open_and_when_the_next_probe_goes(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.advance(12)
    assert breaker.snapshot() == BreakerSnapshot(BreakerState.OPEN, 3, 12.0, 18.0)
    clock.advance(40)
    assert breaker.snapshot() == BreakerSnapshot(BreakerState.HALF_OPEN, 3, 52.0, 0.0)


@pytest.mark.parametrize(
    "policy",
    [
        {"threshold": 0},
        {"cooldown_seconds": 0},
        {"window_seconds": -1},
    ],
)
def test_nonsense_policies_are_refused(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        BreakerPolicy(**policy)  # type: ignore[arg-type]


def test_defaults_are_the_documented_ones() -> None:
    assert BreakerPolicy() == BreakerPolicy(threshold=5, window_seconds=60, cooldown_seconds=30)
