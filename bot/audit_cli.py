"""``coupon-bot audit``: query or export the audit log, or verify its hash chain.

Runs beside a live bot: it opens its own connection (WAL lets it read while the bot writes).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.audit import AuditRow, Scalar, VerifyResult
from bot.logquery import parse_log_filters
from bot.storage import AuditLog, open_database

__all__ = ["COLUMNS", "render", "run_audit"]

#: The columns of ``--format table`` and ``csv`` (json carries every field).
COLUMNS = (
    "id",
    "at",
    "event",
    "actor",
    "verb",
    "code",
    "series_id",
    "customer",
    "outcome",
    "capillary_code",
    "capillary_request_id",
    "approval_id",
    "channel",
    "thread_ts",
)


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


def render(rows: Sequence[AuditRow], fmt: str) -> str:
    """Rows as ``table``, ``csv`` or ``json`` (customers masked in all three)."""
    records = [row.as_json() for row in rows]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return out.getvalue().rstrip("\n")
    return _table(records)


def _table(records: Sequence[Mapping[str, Scalar]]) -> str:
    if not records:
        return "(no audit rows match)"
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in COLUMNS] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
