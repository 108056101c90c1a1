"""Background work: acks first, failures reported, shutdown can wait for it."""

from __future__ import annotations

import asyncio

from bot.background import Background


async def test_work_waits_while_requests_are_being_acknowledged() -> None:
    background, order = Background(yield_to_acks_seconds=5), []

    async def work() -> None:
        order.append("work")

    async def no_error(error: Exception) -> None:
        raise AssertionError(error)

    with background.acknowledging():
        background.spawn(work(), no_error)
        await asyncio.sleep(0.05)
        order.append("ack sent")
    assert await background.drain(1)
    assert order == ["ack sent", "work"]


async def test_patience_is_bounded_when_acks_never_stop() -> None:
    background, done = Background(yield_to_acks_seconds=0.05), asyncio.Event()

    async def work() -> None:
        done.set()

    async def no_error(error: Exception) -> None:
        raise AssertionError(error)

    with background.acknowledging():
        background.spawn(work(), no_error)
        await asyncio.wait_for(done.wait(), 2)


async def test_a_failure_goes_to_the_error_exit() -> None:
    background, seen = Background(), []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def report(error: Exception) -> None:
        seen.append(str(error))

    background.spawn(broken(), report)
    assert await background.drain(1)
    assert seen == ["boom"]


async def test_drain_reports_unfinished_work() -> None:
    background = Background()

    async def report(error: Exception) -> None:
        raise AssertionError(error)

    background.spawn(asyncio.sleep(5), report)
    assert not await background.drain(0.05)


async def _acks(background: Background, count: int, apart: float) -> float:
    """``count`` requests acknowledged one after another, ``apart`` seconds between;
    returns the loop time of the last ack."""
    last = 0.0
    for _ in range(count):
        with background.acknowledging():
            pass
        last = asyncio.get_running_loop().time()
        await asyncio.sleep(apart)
    return last


async def _no_error(error: Exception) -> None:
    raise AssertionError(error)


async def test_a_lone_commands_work_starts_right_after_its_ack() -> None:
    background, started = Background(burst_gap_seconds=0.5), asyncio.Event()

    async def work() -> None:
        started.set()

    with background.acknowledging():
        background.spawn(work(), _no_error)
    await asyncio.wait_for(started.wait(), 0.2)  # far sooner than the burst gap


async def test_during_a_burst_work_waits_until_the_acks_stop() -> None:
    loop = asyncio.get_running_loop()
    background, started_at = Background(burst_gap_seconds=0.05, yield_to_acks_seconds=5), []

    async def work() -> None:
        started_at.append(loop.time())

    with background.acknowledging():
        background.spawn(work(), _no_error)
    await _acks(background, 1, 0)  # a second ack at once: a burst
    with background.acknowledging():
        background.spawn(work(), _no_error)
    last_ack = await _acks(background, 10, 0.01)  # gaps shorter than the burst gap
    assert await background.drain(1)
    # The first one went before the burst showed; the second waited for its end.
    assert len(started_at) == 2
    assert started_at[1] >= last_ack + 0.05


async def test_waiting_work_goes_one_task_per_turn_in_the_order_handed_over() -> None:
    background, trace = Background(burst_gap_seconds=0.02), []

    async def work(n: int) -> None:
        trace.append(f"start {n}")
        await asyncio.sleep(0)
        trace.append(f"step {n}")

    await _acks(background, 2, 0)  # a burst: the gate is shut
    for n in range(3):
        background.spawn(work(n), _no_error)
    assert await background.drain(1)
    starts = [entry for entry in trace if entry.startswith("start")]
    assert starts == ["start 0", "start 1", "start 2"]
    # One task a turn: the first has taken its next step before the last has begun
    # (all let in at once, the three would start before any of them steps on).
    assert trace.index("step 0") < trace.index("start 2")


async def test_a_task_cancelled_while_waiting_gives_up_its_turn() -> None:
    background, done = Background(burst_gap_seconds=0.02), []

    async def work(n: int) -> None:
        done.append(n)

    await _acks(background, 2, 0)  # a burst: both wait
    background.spawn(work(1), _no_error)
    (first,) = background._tasks
    background.spawn(work(2), _no_error)
    await asyncio.sleep(0)
    first.cancel()
    await background.drain(1)
    assert done == [2]
