"""Work that continues after the ack: tracked tasks whose failures reach the error exit.

Bolt runs listeners with ``process_before_response=True``, so the HTTP answer (the ack)
goes back as soon as the listener returns; anything slow is handed to :class:`Background`
first. Unlike Bolt's own background mode this does not poll for the ack every 10 ms per
request, which is what kept acks slow under a burst of commands.

Acks come first: Slack gives up on an ack after 3 s, while a thread reply has no deadline.
Work handed over here starts when a gate lets it through:

- The gate closes while a request is being acknowledged and, during a burst (acks less
  than ``burst_gap_seconds`` apart), until the acks have stopped for that long. An ack
  takes a fraction of a millisecond, so between two acks of a burst nothing is in flight:
  a plain in-flight count would let all the waiting work in, mid-burst.
- When it opens, waiting work goes through one task per turn of the event loop, in the
  order it was handed over, so a request that arrives meanwhile is read after at most one
  task's first step, not after all of them.
- A lone command's work starts right after its ack, and the gate never stays shut longer
  than ``yield_to_acks_seconds`` in a row: then everything waiting goes at once. Work is
  delayed, never starved.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Background"]


OnError = Callable[[Exception], Awaitable[object]]


class Background:
    """Keeps a reference to every task (so none is garbage-collected mid-flight)."""

    def __init__(
        self, *, yield_to_acks_seconds: float = 0.5, burst_gap_seconds: float = 0.005
    ) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._patience = yield_to_acks_seconds
        self._gap = burst_gap_seconds
        self._acking = 0
        self._open = True
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._releasing = False
        self._closed_at = 0.0  # loop time the gate last closed
        self._reopen_at = 0.0  # after a burst: the last ack + the gap
        self._last_ack = -math.inf
        self._timer: asyncio.TimerHandle | None = None

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Wrap one incoming request until its ack is sent: background work waits for it."""
        loop = asyncio.get_running_loop()
        self._acking += 1
        if self._open:
            self._open = False
            self._closed_at = self._reopen_at = loop.time()
            self._arm(loop)  # patience runs from now
        try:
            yield
        finally:
            self._acking -= 1
            now = loop.time()
            in_burst, self._last_ack = now - self._last_ack < self._gap, now
            if in_burst:
                self._reopen_at = now + self._gap
            if self._acking == 0 and not in_burst:
                self._reopen(loop)
            else:
                self._arm(loop)

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
            try:
                await self._turn()
            except asyncio.CancelledError:
                work.close()  # never started: no "coroutine was never awaited"
                raise
            await work
        except Exception as error:  # handed to the error exit, which tells the user and logs
            await on_error(error)

    # --- the gate ----------------------------------------------------------------------

    async def _turn(self) -> None:
        """Return when this task may start: at once if the gate is open and nobody waits."""
        if self._open and not self._waiting:
            return
        loop = asyncio.get_running_loop()
        turn = loop.create_future()
        self._waiting.append(turn)
        self._release_soon(loop)
        await turn

    def _release_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._open and self._waiting and not self._releasing:
            self._releasing = True
            loop.call_soon(self._release_one, loop)

    def _release_one(self, loop: asyncio.AbstractEventLoop) -> None:
        """One waiting task goes; the next one on the loop's next turn, if still open."""
        self._releasing = False
        if self._open:
            self._let_one_go()
            self._release_soon(loop)

    def _let_one_go(self) -> bool:
        """The longest-waiting task may start; False when nobody is waiting."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():  # a task cancelled while waiting has given up its turn
                turn.set_result(None)
                return True
        return False

    def _reopen(self, loop: asyncio.AbstractEventLoop) -> None:
        self._open = True
        self._release_soon(loop)

    def _due(self) -> float:
        """When the shut gate opens: after the burst, or once patience runs out."""
        limit = self._closed_at + self._patience
        return limit if self._acking else min(self._reopen_at, limit)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._open:
            return
        due = self._due()
        if self._timer is not None:
            if self._timer.when() <= due:
                return  # it goes off first and looks again
            self._timer.cancel()
        self._timer = loop.call_at(due, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        if now >= self._closed_at + self._patience:
            while self._let_one_go():  # shut for too long: nobody waits any longer
                pass
            self._closed_at = now  # if acks go on, patience starts over
        if now >= self._due():
            self._reopen(loop)
        else:
            self._arm(loop)
