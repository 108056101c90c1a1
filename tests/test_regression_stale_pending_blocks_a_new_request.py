"""Regression test (was a bug):
a request whose time is up but that the expiry round has not
marked yet still counts as "live" when the same request is asked again.

``may_decide`` (EXPIRED), ``pending_in`` and ``pending_for`` (``expires_at > now``) all treat
a pending request past ``expires_at`` as expired, but ``ApprovalStore._duplicate_of`` matches
any ``state = 'pending'`` row. Until the next round (up to 30 s, ``expiry_interval``) the
agent who asks again is refused with "The same redeem is already requested … and not
finished", pointing at a request nobody may approve any more. (``_used`` likewise still
counts it against the daily limit.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.approvals import Request, State, Why
from bot.capillary.identifiers import parse_customer
from bot.commands import Redeem
from bot.storage import open_database
from bot.storage.approvals import ApprovalStore, Opened

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def ask(request_id: str, at: datetime) -> Request:
    return Request(
        id=request_id,
        command=Redeem("GOOD100", parse_customer("+919876543210")),
        requester="U03AGENT",
        channel="C01SUPPORT",
        state=State.PENDING,
        created_at=at,
        expires_at=at + timedelta(hours=4),
        why=Why.POLICY,
    )


async def test_asking_again_after_the_first_ran_out_of_time_is_not_a_duplicate(
    tmp_path: Path,
) -> None:
    conn = await open_database(tmp_path / "x.sqlite3")
    try:
        store = ApprovalStore(conn)
        first = ask("R00000001", T0)
        assert isinstance(await store.open(first, limit=None), Opened)
        again = ask("R00000002", first.expires_at + timedelta(seconds=5))
        assert await store.pending_in("C01SUPPORT", again.created_at) == []  # "not waiting"
        assert isinstance(await store.open(again, limit=None), Opened)
    finally:
        await conn.close()
