"""Audit-log retention: ``[audit] retention_days`` in ``policy.toml`` prunes older rows.

:func:`prune_periodically` runs for as long as the bot does (:func:`bot.server.bot_deps`
starts it as a task and cancels it on exit). It prunes once at start, then every
``every_seconds``. :meth:`bot.storage.AuditLog.prune` keeps the last pruned row's id and hash,
so ``verify`` still checks the rows that remain. A failed pass is logged with its traceback
and tried again next time: retention must never stop the bot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Prunable", "prune_periodically"]

_LOG = logging.getLogger(__name__)


class Prunable(Protocol):
    """What retention needs of the audit log (:class:`bot.storage.AuditLog` is one)."""

    async def prune(self, before: datetime) -> int: ...


def _now() -> datetime:
    return datetime.now(UTC)


async def prune_periodically(
    log: Prunable,
    keep: timedelta,
    *,
    every_seconds: float = 3600.0,
    clock: Callable[[], datetime] = _now,
) -> None:
    """Delete rows older than ``keep`` now and every ``every_seconds``, until cancelled."""
    if keep <= timedelta(0):
        raise ValueError("keep must be longer than zero")
    if not every_seconds > 0:
        raise ValueError("every_seconds must be more than zero")
    while True:
        await _prune_once(log, keep, clock)
        await asyncio.sleep(every_seconds)


async def _prune_once(audit: Prunable, keep: timedelta, clock: Callable[[], datetime]) -> None:
    try:
        before = clock() - keep
        count = await audit.prune(before)
    except Exception:  # retried next pass; CancelledError (a BaseException) still ends the loop
        _LOG.exception("audit retention: pruning failed; trying again next time")
        return
    _LOG.info(
        "audit retention: pruned %d row%s older than %s",
        count,
        "" if count == 1 else "s",
        before.isoformat(timespec="seconds"),
    )
