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
