"""``coupon-bot audit``: query or export the audit log, or verify its hash chain.

Runs beside a live bot: it opens its own connection (WAL lets it read while the bot writes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.audit import VerifyResult
from bot.audit_export import render
from bot.logquery import parse_log_filters
from bot.storage import AuditLog, open_database

__all__ = ["run_audit"]


async def run_audit(
    database: Path, filters: Sequence[str], fmt: str, verify: bool
) -> tuple[int, str]:
    """(exit code, text to print). Filters use the ``/coupon log`` grammar.

    The caller checks that ``database`` exists: opening it would create an empty one.
    """
    wanted = parse_log_filters(" ".join(filters))
    connection = await open_database(database)
    try:
        log = AuditLog(connection)
        if verify:
            return _verdict(await log.verify())
        if wanted.limit is None:
            return 0, render(await log.query_all(wanted), fmt)  # an export: every row
        return 0, render(await log.query(wanted), fmt)
    finally:
        await connection.close()


def _verdict(result: VerifyResult) -> tuple[int, str]:
    if result.ok:
        return 0, f"audit log intact: {result.rows_checked} rows verified"
    return 1, f"audit log NOT intact: {result.reason} (first bad row: {result.first_bad_id})"
