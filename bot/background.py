"""Work that continues after the ack: tracked tasks whose failures reach the error exit.

Bolt runs listeners with ``process_before_response=True``, so the HTTP answer (the ack)
goes back as soon as the listener returns; anything slow is handed to :class:`Background`
first. Unlike Bolt's own background mode this does not poll for the ack every 10 ms per
request, which is what kept acks slow under a burst of commands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

__all__ = ["Background"]


OnError = Callable[[Exception], Awaitable[object]]


class Background:
    """Keeps a reference to every task (so none is garbage-collected mid-flight)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, object], on_error: OnError) -> None:
        """Run ``work`` after the ack; an exception goes to ``on_error`` (the error exit)."""
        task = asyncio.get_running_loop().create_task(self._guarded(work, on_error))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, within_seconds: float) -> bool:
        """Wait for in-flight work (shutdown); True when everything finished in time."""
        if not self._tasks:
            return True
        _, unfinished = await asyncio.wait(set(self._tasks), timeout=within_seconds)
        return not unfinished

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, object], on_error: OnError) -> None:
        try:
            await work
        except Exception as error:  # handed to the error exit, which tells the user and logs
            await on_error(error)
