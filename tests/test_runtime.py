"""Runtime.begin: issue and redeem go through their approval request, the rest run at once."""

from __future__ import annotations

from typing import Any, cast

from bot.access import Access
from bot.approval_flow import ApprovalFlow, Refused
from bot.capillary.identifiers import parse_customer
from bot.commands import Check, Issue, Redeem
from bot.conversation import Conversation, RunnableCommand
from bot.runtime import Runtime

RIYA = parse_customer("+919876543210")


class Approvals:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, Any]] = []

    async def open(self, user: str, channel: str, command: Any, team: str | None) -> object:
        self.calls.append(("open", command))
        return Refused("already asked") if self.refuse else "request-1"

    async def start(self, request: object) -> None:
        self.calls.append(("start", request))


class Threads:
    def __init__(self) -> None:
        self.ran: list[RunnableCommand] = []

    async def run(self, user: str, channel: str, command: RunnableCommand, team: object) -> None:
        self.ran.append(command)


def runtime(approvals: Approvals, threads: Threads) -> Runtime:
    return Runtime(
        access=cast(Access, None),
        conversation=cast(Conversation, threads),
        approvals=cast(ApprovalFlow, approvals),
        client=cast(Any, None),
    )


async def test_issue_and_redeem_open_a_request_then_start_it_after_the_ack() -> None:
    for command in (Issue("1001", RIYA), Redeem("GOOD100", RIYA)):
        approvals, threads = Approvals(refuse=False), Threads()
        work = await runtime(approvals, threads).begin("U1", "C1", command, "T1")
        assert approvals.calls == [("open", command)]  # on the ack path
        assert not isinstance(work, Refused)
        await work
        assert approvals.calls[-1] == ("start", "request-1") and threads.ran == []


async def test_a_refused_request_starts_nothing() -> None:
    approvals, threads = Approvals(refuse=True), Threads()
    work = await runtime(approvals, threads).begin("U1", "C1", Issue("1001", RIYA), None)
    assert work == Refused("already asked")
    assert approvals.calls == [("open", Issue("1001", RIYA))] and threads.ran == []


async def test_other_commands_run_in_a_thread_after_the_ack() -> None:
    approvals, threads = Approvals(refuse=False), Threads()
    command = Check("GOOD100", RIYA)
    work = await runtime(approvals, threads).begin("U1", "C1", command, "T1")
    assert not isinstance(work, Refused) and threads.ran == []  # nothing before the ack
    await work
    assert threads.ran == [command] and approvals.calls == []
