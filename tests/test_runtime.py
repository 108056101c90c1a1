"""Runtime: where a command goes (issue and redeem through their approval request), help."""

from __future__ import annotations

from typing import Any, cast

from bot.access import Access
from bot.approval_flow import ApprovalFlow, Refused
from bot.capillary.identifiers import parse_customer
from bot.commands import Check, Issue, Redeem, Verb
from bot.conversation import Conversation, RunnableCommand
from bot.policy import parse_policy
from bot.runtime import Runtime

RIYA = parse_customer("+919876543210")
POLICY = parse_policy(
    """
[roles]
admin  = ["U01ADMIN"]
agent  = ["U02AGENT"]
viewer = ["*"]

[channels]
allowed = ["C01SUPPORT"]

[limits]
issue_per_agent_per_day = 20
"""
)


class Approvals:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, Any]] = []

    async def open(self, user: str, channel: str, command: Any, team: str | None) -> object:
        self.calls.append(("open", command))
        return Refused("already asked") if self.refuse else "request-1"

    async def start(self, request: object) -> None:
        self.calls.append(("start", request))

    async def usage(self, user: str) -> list[tuple[Verb, int, int]]:
        return [(Verb.ISSUE, 3, 20)]


class Threads:
    def __init__(self) -> None:
        self.ran: list[RunnableCommand] = []

    async def run(self, user: str, channel: str, command: RunnableCommand, team: object) -> None:
        self.ran.append(command)


def runtime(approvals: Approvals, threads: Threads) -> Runtime:
    return Runtime(
        access=Access(POLICY),
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


async def help_text(user: str, channel: str, topic: Verb | None = None) -> str:
    message = await runtime(Approvals(refuse=False), Threads()).help(user, channel, topic)
    return str(message.as_kwargs()["blocks"])


async def test_help_names_the_role_the_verbs_and_the_limits_of_those_verbs() -> None:
    agent = await help_text("U02AGENT", "C01SUPPORT")
    assert "You are an *agent*" in agent and "issue 3 of 20" in agent
    assert "/coupon resend" in agent
    viewer = await help_text("U09VIEWER", "C01SUPPORT")
    assert "You are a *viewer*" in viewer and "/coupon resend" not in viewer
    assert "daily limits" not in viewer  # a limit on a verb they can't use isn't theirs


async def test_help_in_a_channel_the_bot_doesnt_work_in_names_where_it_does() -> None:
    text = await help_text("U02AGENT", "C03RANDOM")
    assert "aren't answered in this channel" in text and "C01SUPPORT" in text
