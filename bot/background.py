"""Work that continues after the ack: tracked tasks whose failures reach the error exit.

Bolt runs listeners with ``process_before_response=True``, so the HTTP answer (the ack)
goes back as soon as the listener returns; anything slow is handed to :class:`Background`
first. Unlike Bolt's own background mode this does not poll for the ack every 10 ms per
request, which is what kept acks slow under a burst of commands.

Acks come first: Slack gives up on an ack after 3 s, while a thread reply has no deadline.
Work handed over here waits while other requests are still being acknowledged (at most
``yield_to_acks_seconds``), instead of taking the CPU from them in the middle of a burst.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any

__all__ = ["Background"]


OnError = Callable[[Exception], Awaitable[object]]


class Background:
    """Keeps a reference to every task (so none is garbage-collected mid-flight)."""

    def __init__(self, *, yield_to_acks_seconds: float = 0.5) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._acking = 0
        self._no_acks = asyncio.Event()
        self._no_acks.set()
        self._patience = yield_to_acks_seconds

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Wrap one incoming request until its ack is sent: background work waits for it."""
        self._acking += 1
        self._no_acks.clear()
        try:
            yield
        finally:
            self._acking -= 1
            if self._acking == 0:
                self._no_acks.set()

    async def _after_acks(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._no_acks.wait(), self._patience)

    def spawn(self, work: Coroutine[Any, Any, object], on_error: OnError) -> None:
        """Run ``work`` after the ack; an exception goes to ``on_error`` (the error exit)."""
        task = asyncio.get_running_loop().create_task(self._guarded(work, on_error))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, within_seconds: float) -> bool:
        """Wait for in-flight work (shutdown); True when everything finished in time."""
        if not self._tasks:
            return True
        _, unfinished = await asyncio.wait(set(self._tasks), timeout=within_seconds)
        return not unfinished

    async def _guarded(self, work: Coroutine[Any, Any, object], on_error: OnError) -> None:
        try:
            await self._after_acks()
            await work
        except Exception as error:  # handed to the error exit, which tells the user and logs
            await on_error(error)
