"""Audit rows as text: a table, CSV or JSON, customers masked. Pure.

``coupon-bot audit`` prints these; ``/coupon log`` attaches the CSV to its thread.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from bot.audit import AuditRow, Scalar

__all__ = ["COLUMNS", "render"]

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
