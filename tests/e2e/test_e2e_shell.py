"""``coupon-bot shell``: a subprocess driven through stdin/stdout; its parts in process."""

from __future__ import annotations

import asyncio
import codecs
import io
import os
import re
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from conftest import AGENT, DEMO_POLICY, RIYA, SUPPORT, VIEWER, Stack

from bot.policy import load_policy
from bot.sandbox.shell import (
    FORM_HINT,
    Console,
    FormField,
    Seen,
    Shell,
    converse,
    find_changes,
    is_busy,
    mark_seen,
    parse_answer,
    resolve_channel,
    resolve_user,
    role_name,
    run_shell,
)
from bot.sandbox.slack import (
    EmulatorState,
    Message,
    RunningEmulator,
    SlackDriver,
    build_emulator_app,
    seed_workspace,
)
from bot.sandbox.slack.models import Json

TIMEOUT = 30.0

# ---- the shell as a subprocess ----------------------------------------------------------------


def clean_env(tmp: Path) -> dict[str, str]:
    """No Slack or Capillary settings from the developer's environment; the database in tmp."""
    prefixes = ("CAPILLARY_", "SLACK_", "COUPON_BOT_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.update(COUPON_BOT_DATABASE=str(tmp / "shell.sqlite3"), PYTHONIOENCODING="utf-8")
    env.pop("NO_COLOR", None)
    return env


class ShellProcess:
    """``python -m bot shell`` on pipes: send lines, wait for text, then collect the rest."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.out = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    async def send(self, *lines: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("".join(f"{line}\n" for line in lines).encode())
        await self.process.stdin.drain()

    async def expect(self, pattern: str) -> re.Match[str]:
        """Read until ``pattern`` appears in what was printed."""
        assert self.process.stdout is not None
        async with asyncio.timeout(TIMEOUT):
            while (found := re.search(pattern, self.out)) is None:
                chunk = await self.process.stdout.read(4096)
                assert chunk, f"the shell ended before {pattern!r}:\n{self.out}"
                self.out += self._decoder.decode(chunk)
        return found

    async def finish(self) -> tuple[int, str, str]:
        """Close stdin (EOF), read everything; (exit code, stdout, stderr)."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        async with asyncio.timeout(TIMEOUT):
            rest, errors = await self.process.communicate()
        self.out += self._decoder.decode(rest, final=True)
        return int(self.process.returncode or 0), self.out, errors.decode()


@asynccontextmanager
async def shell_process(tmp: Path, *args: str) -> AsyncIterator[ShellProcess]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "shell",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp,  # no .env from the project directory
        env=clean_env(tmp),
    )
    try:
        yield ShellProcess(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def transcript(tmp: Path, lines: Iterable[str], *args: str) -> str:
    """Pipe ``lines`` in, then EOF; the shell must exit 0 with nothing alarming on stderr."""
    async with shell_process(tmp, *args) as shell:
        await shell.send(*lines)
        code, out, errors = await shell.finish()
    assert code == 0, f"exit {code}\n{out}\n{errors}"
    assert "Traceback" not in errors, errors
    return out


async def test_get_then_eof(tmp_path: Path) -> None:
    out = await transcript(tmp_path, ["/coupon get GOOD100"])
    assert "You are asha (agent)" in out and "/coupon get GOOD100" in out  # the banner
    assert "Not redeemed yet" in out and "••••3210" in out and "series 1001" in out
    assert "919876543210" not in out.split("Shell:", 1)[1]  # examples aside, nothing raw
    assert "asha (agent) #support-coupons> " not in out  # no prompt on a pipe


async def test_viewer_is_refused_redeem(tmp_path: Path) -> None:
    out = await transcript(tmp_path, [f"/coupon redeem GOOD100 {RIYA}"], "--as", "viewer")
    assert "You are vik (viewer)" in out
    assert "(only you) You need the agent role to redeem coupons" in out


async def test_form_with_a_validation_error(tmp_path: Path) -> None:
    lines = ["/coupon redeem GOOD100", "", "nobody", "", "", "", RIYA]
    out = await transcript(tmp_path, lines)
    assert "Coupon code [GOOD100]: \n" in out  # piped answers are echoed after the prompt
    assert "Customer: nobody\n" in out
    refused = out.index("⚠ “nobody” is not a customer")
    retried = out.index(f"Customer [nobody]: {RIYA}\n")
    requested = out.index("*Approval needed* — redeem GOOD100 for ••••3210")
    assert refused < retried < requested
    assert "🎟️ @asha · redeem GOOD100 for ••••3210 · ⏳ waiting for approval" in out


async def test_a_redeem_asked_by_an_agent_and_approved_by_a_lead(tmp_path: Path) -> None:
    lines = [f"/coupon redeem GOOD100 {RIYA} txn=B-5", "1", "/as approver", "1", "fine by me"]
    out = await transcript(tmp_path, lines)
    assert "[1] Approve  [2] Reject" in out
    asked_self = out.index("(only you) You asked for this one, so someone else has to approve")
    approved = out.index("✅ Approved by @ravi")
    assert asked_self < approved and "“fine by me”" in out
    assert "GOOD100 redeemed for ••••3210 · redemption id" in out
    assert "🎟️ @asha · redeem GOOD100 for ••••3210 · bill B-5 · ✅" in out


FORM_OPEN = "⚠ A form is open: answer “{}” or type cancel to close it first."


async def test_a_slash_line_at_the_note_prompt_is_not_the_approval_note(tmp_path: Path) -> None:
    lines = [f"/coupon redeem GOOD100 {RIYA} txn=B-5", "/as approver", "1", "/as agent"]
    lines += ["fine by me"]
    out = await transcript(tmp_path, lines)
    assert "/as agent”" not in out and "“fine by me”" in out
    assert "You are asha (agent)" not in out.split("Shell:", 1)[1]  # /as did not run either
    warned = out.index(FORM_OPEN.format("Note") + "\nNote (optional): fine by me\n")
    approved = out.index("✅ Approved by @ravi")
    assert out.index("Note (optional): /as agent\n") < warned < approved
    assert "\nAnswer each field (Enter keeps what is in [ ], - empties an optional one); " in out


async def test_a_slash_line_at_the_reason_prompt_is_not_the_rejection(tmp_path: Path) -> None:
    lines = [f"/coupon redeem GOOD100 {RIYA}", "/as lena", "2", "/coupon pending"]
    lines += ["cancel", "/coupon pending"]
    out = await transcript(tmp_path, lines)
    warned = out.index(FORM_OPEN.format("Reason") + "\nReason: cancel\n")
    closed = out.index("Form closed; nothing was sent.")
    assert out.index("Reason: /coupon pending\n") < warned < closed
    assert "Rejected by" not in out and "/coupon pending”" not in out
    assert "(only you) *1 request waiting for approval*" in out[closed:]  # still open


async def test_action_menu_by_number(tmp_path: Path) -> None:
    async with shell_process(tmp_path) as shell:
        await shell.send("/coupon")
        check = await shell.expect(r"\[(\d+)\] Check")
        await shell.send(check.group(1))
        await shell.expect(r"Coupon code: $")
        await shell.send("GOOD100", RIYA)
        await shell.expect(r"can be redeemed by ••••3210")
        code, out, _ = await shell.finish()
    assert code == 0
    assert "┌ Coupons ┐" in out and "┌ Check a coupon ┐" in out
    assert "🎟️ @asha · check GOOD100 for ••••3210" in out


async def test_as_approver_then_who(tmp_path: Path) -> None:
    out = await transcript(tmp_path, ["/as approver", "/who", "/channel escalations", "/quit", "x"])
    assert "You are ravi (approver) in #support-coupons (C01SUPPORT)." in out
    assert out.rstrip().endswith("You are ravi (approver) in #escalations (C02ESCALATIONS).")


async def test_bad_role_or_channel_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    stdout = io.StringIO()
    assert await run_shell("ceo", "general", stdin=io.StringIO(), stdout=stdout) == 2
    errors = capsys.readouterr().err
    assert "--as ceo" in errors and "--channel general" in errors and stdout.getvalue() == ""


# ---- pure parts, in process -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "user"),
    [
        ("admin", "U01ADMIN"),
        ("approver", "U02LEAD"),
        ("Agent", "U03AGENT"),
        ("viewer", "U04VIEWER"),
        ("guest", "U05GUEST"),
        ("lena", "U06LEAD2"),
        ("@ravi", "U02LEAD"),
        ("u04viewer", "U04VIEWER"),
        ("coupon-bot", None),
        ("nobody", None),
    ],
)
def test_resolve_user(word: str, user: str | None) -> None:
    assert resolve_user(word, seed_workspace()) == user


@pytest.mark.parametrize(
    ("word", "channel"),
    [
        ("C02ESCALATIONS", "C02ESCALATIONS"),
        ("escalations", "C02ESCALATIONS"),
        ("#random", "C03RANDOM"),
        ("support", "C01SUPPORT"),
        ("", None),
        ("general", None),
    ],
)
def test_resolve_channel(word: str, channel: str | None) -> None:
    assert resolve_channel(word, seed_workspace()) == channel


def test_roles_come_from_the_policy_and_groups() -> None:
    policy, workspace = load_policy(DEMO_POLICY), seed_workspace()
    assert role_name("U06LEAD2", workspace, policy) == "approver"  # via @support-leads
    assert role_name("U05GUEST", workspace, policy) == "no role"


def post(
    state: EmulatorState,
    text: str,
    *,
    thread: str | None = None,
    blocks: list[Json] | None = None,
    only_for: str | None = None,
) -> Message:
    """A bot message in #support-coupons, as the emulator stores it."""
    message = Message(SUPPORT, state.new_ts(), text, blocks or [], thread_ts=thread)
    message.ephemeral_for = only_for
    return state.add_message(message)


def test_changes_are_shown_once_and_updates_again() -> None:
    state, seen = EmulatorState(), Seen()
    parent = post(state, "⏳ get GOOD100")
    assert is_busy(find_changes(state, seen, AGENT, SUPPORT))
    reply = post(state, "GOOD100 details", thread=parent.ts)
    post(state, "only for vik", only_for=VIEWER)
    changes = find_changes(state, seen, AGENT, SUPPORT)
    assert [(t.parent, t.replies) for t in changes.threads] == [(parent, (reply,))]
    assert changes.ephemerals == () and changes.view is None and not is_busy(changes)
    mark_seen(seen, changes, AGENT)
    assert find_changes(state, seen, AGENT, SUPPORT).empty
    parent.revise("✅ get GOOD100", [], at=0)
    (thread,) = find_changes(state, seen, AGENT, SUPPORT).threads
    assert thread.parent is parent and thread.replies == ()


def offline_shell(state: EmulatorState) -> Shell:
    emulator = RunningEmulator("http://emulator.invalid", state, build_emulator_app(state))
    driver = SlackDriver("http://bot.invalid/slack/events", "secret", emulator)
    return Shell(driver, load_policy(DEMO_POLICY), user=AGENT, channel=SUPPORT)


def actions(*labels: str) -> list[Json]:
    elements = [
        {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": label}
        for label in labels
    ]
    return [
        {"type": "section", "block_id": "b0", "text": {"type": "mrkdwn", "text": "[1] is text"}},
        {"type": "actions", "block_id": "b1", "elements": elements},
    ]


async def test_button_numbers_are_stable_across_the_session() -> None:
    state = EmulatorState()
    shell = offline_shell(state)
    card = post(state, "card", blocks=actions("Approve", "Reject"))
    first = shell.changes()
    assert "[1] is text" in first and "[1] Approve  [2] Reject" in first
    post(state, "another", thread=card.ts, blocks=actions("Approve"))
    assert "  ↳ [1] is text\n    [3] Approve" in shell.changes()
    assert "[1] Approve  [2] Reject" in shell.show()
    assert "No button [9]" in await shell.handle("9")


@pytest.mark.parametrize(
    ("answer", "current", "optional", "expected"),
    [
        ("", "GOOD100", False, ("GOOD100", None)),
        ("GOOD200", "GOOD100", False, ("GOOD200", None)),
        ("-", "B-1", True, ("", None)),
        ("-", "GOOD100", False, ("", "Coupon code is required (or type cancel).")),
        ("", "", False, ("", "Coupon code is required (or type cancel).")),
        ("/as lena", "GOOD100", False, ("", FORM_OPEN.format("Coupon code")[2:])),
        ("/coupon pending", "", True, ("", FORM_OPEN.format("Coupon code")[2:])),
    ],
)
def test_parse_answer(
    answer: str, current: str, optional: bool, expected: tuple[str, str | None]
) -> None:
    assert parse_answer(FormField("code", "Coupon code", optional), answer, current) == expected


def test_choices_by_value_text_or_number() -> None:
    field = FormField("verb", "Verb", False, (("get", "Look up"), ("check", "Check")))
    assert [field.parse(a) for a in ("check", "look up", "2", "nope")] == [
        "check",
        "get",
        "check",
        None,
    ]
    assert field.prompt("get") == "Verb (Look up | Check) [Look up]: "


# ---- the shell in process, against the real app -----------------------------------------------


class Answers:
    """An input-line provider that records what it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, prompt: str) -> str | None:
        self.asked.append(prompt)
        return self.answers.pop(0) if self.answers else None


async def test_form_flow_in_process(stack: Stack) -> None:
    shell = Shell(stack.slack, load_policy(DEMO_POLICY), user=AGENT, channel=SUPPORT)
    opened = await shell.handle("/coupon redeem GOOD100")
    assert "┌ Redeem a coupon ┐" in opened
    view = shell.open_form()
    assert view is not None
    answers = Answers("", "nobody", "", "", "", RIYA)
    result = await shell.fill_form(view, answers)
    assert answers.asked[:2] == [f"{FORM_HINT}\nCoupon code [GOOD100]: ", "Customer: "]
    assert "⚠ “nobody” is not a customer" in answers.asked[5]
    assert answers.asked[5].endswith("Customer [nobody]: ")
    assert "*Approval needed* — redeem GOOD100 for ••••3210" in result
    assert shell.open_form() is None


async def test_cancel_and_eof_close_the_form(stack: Stack) -> None:
    shell = Shell(stack.slack, load_policy(DEMO_POLICY), user=AGENT, channel=SUPPORT)
    for typed in (("cancel",), ("GOOD100", "/Cancel"), ()):  # () is end of input
        left = ["unread"] if typed else []
        answers = Answers(*typed, *left)
        await shell.handle("/coupon check")
        view = shell.open_form()
        assert view is not None
        assert await shell.fill_form(view, answers) == "Form closed; nothing was sent."
        assert not view.is_open and shell.open_form() is None and not shell.done
        assert answers.answers == left  # closed at the cancel, not at the end of input
    assert stack.capillary_calls() == 0


async def test_quit_in_a_form_closes_it_and_leaves(stack: Stack) -> None:
    shell = Shell(stack.slack, load_policy(DEMO_POLICY), user=AGENT, channel=SUPPORT)
    await shell.handle("/coupon check")
    view = shell.open_form()
    assert view is not None
    answers = Answers("/who", "/quit", "GOOD100")
    assert await shell.fill_form(view, answers) == "Form closed; nothing was sent."
    assert shell.done and not view.is_open and answers.answers == ["GOOD100"]
    assert answers.asked[1] == f"  {FORM_OPEN.format('Coupon code')}\nCoupon code: "
    assert stack.capillary_calls() == 0


async def test_converse_over_a_pipe(stack: Stack) -> None:
    shell = Shell(stack.slack, load_policy(DEMO_POLICY), user=AGENT, channel=SUPPORT)
    stdout = io.StringIO()
    stdin = io.StringIO("/help\n/as viewer\n/coupon check GOOD100\n\n+919876543210\nhello\n")
    await converse(shell, Console(stdin, stdout))
    out = stdout.getvalue()
    assert "/as ROLE|NAME" in out and "You are vik (viewer)" in out
    assert "Coupon code [GOOD100]: \nCustomer: +919876543210\n" in out
    assert "🎟️ @vik · check GOOD100 for ••••3210" in out
    assert out.rstrip().endswith("Type /coupon …, a button number, or /help.")
