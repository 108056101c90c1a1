"""``coupon-bot shell``: a local chat with the real bot, with no Slack and no Capillary account.

One process runs the Slack emulator, the real app over HTTP pointed at it, and Capillary (the
built-in sandbox, or the real one when ``CAPILLARY_BASE_URL`` says so). Lines typed on stdin
become slash commands, button clicks and modal submissions sent by :class:`SlackDriver`; after
each one the shell waits until the bot is quiet and prints what the user now sees that is new
or changed. The shell shows what the emulator holds and adds nothing to the bot's words.

:class:`Shell` is the transcript logic (lines in, text out) and does no I/O; :class:`Console`
reads and writes the terminal; :func:`run_shell` wires them to a running stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TextIO

import httpx
from pydantic import SecretStr

from bot.policy import Policy, PolicyError, load_policy
from bot.sandbox.slack import (
    BOT_USER_ID,
    Button,
    DriverError,
    EmulatorState,
    InvalidAck,
    Message,
    SlackDriver,
    SlackError,
    View,
    Workspace,
    buttons,
    render_message,
    render_view,
    running_slack_emulator,
    seed_workspace,
)
from bot.sandbox.slack.models import Json
from bot.server import running_bot
from bot.settings import SANDBOX, Settings, SlackSettings, load_settings, missing_credentials

__all__ = [
    "DEMO_POLICY",
    "FORM_HINT",
    "ROLE_USERS",
    "Changes",
    "Console",
    "FormField",
    "LineReader",
    "Seen",
    "Shell",
    "Target",
    "Thread",
    "converse",
    "find_changes",
    "form_fields",
    "form_values",
    "is_busy",
    "is_form",
    "mark_seen",
    "parse_answer",
    "recent",
    "resolve_channel",
    "resolve_user",
    "role_name",
    "run_shell",
    "shell_settings",
    "uses_real_capillary",
    "wait_until_quiet",
]

DEMO_POLICY: Final = Path(__file__).resolve().parent / "demo-policy.toml"
ROLE_USERS: Final[Mapping[str, str]] = {
    "admin": "U01ADMIN",
    "approver": "U02LEAD",
    "agent": "U03AGENT",
    "viewer": "U04VIEWER",
    "guest": "U05GUEST",
}
BOT_TOKEN: Final = "xoxb-shell"
QUIET_SECONDS: Final = 0.3
SETTLE_CAP_SECONDS: Final = 20.0
SHOW_THREADS: Final = 5
CANCEL: Final = "cancel"
CLEAR: Final = "-"
CANCEL_WORDS: Final = frozenset({CANCEL, f"/{CANCEL}"})
QUIT_WORDS: Final = frozenset({"/quit", "/exit"})
FORM_HINT: Final = (
    "Answer each field (Enter keeps what is in [ ], - empties an optional one); "
    f"{CANCEL} closes the form."
)
_TEXT_INPUTS: Final = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
)
_CHOICE_INPUTS: Final = frozenset({"static_select", "radio_buttons"})

Ask = Callable[[str], Awaitable[str | None]]
"""Shows its argument (text ending in a prompt) and returns the answer, None at end of input."""

EXAMPLES: Final = (
    "/coupon get GOOD100",
    "/coupon check GOOD100 +919876543210",
    "/coupon redeem ARJUN100 +919812345678 txn=B-1 amount=500",
    "/coupon              (the action menu: pick, then fill the form)",
)
HELP: Final = """\
Type /coupon … as you would in Slack (/coupon help lists what you may do).
Type a button's number to click it: [3] Check. Forms ask for each field in turn:
  Enter keeps the value shown, - empties an optional field, cancel closes the form.
  While a form is open a line starting with / is not an answer (/quit still leaves).
/as ROLE|NAME   become admin, approver, agent, viewer or guest
                (meera, ravi, asha, vik, sam; lena is a second approver)
/channel NAME   support-coupons, escalations, or random (the bot is not in it)
/who            who and where you are
/show           the channel's last threads and your open form again
/home           open the app's Home tab (the bot hears app_home_opened)
/help           this help
/quit           leave (or Ctrl-D)"""
HINT: Final = "Type /coupon …, a button number, or /help."


# ---- who and where (pure) -------------------------------------------------------------------


def resolve_user(word: str, workspace: Workspace) -> str | None:
    """A role (``approver``), user name (``lena``) or user id (``U02LEAD``) → user id."""
    wanted = word.strip().removeprefix("@").lower()
    if wanted in ROLE_USERS:
        return ROLE_USERS[wanted]
    for user in workspace.users.values():
        if not user.is_bot and wanted in (user.id.lower(), user.name.lower()):
            return user.id
    return None


def resolve_channel(word: str, workspace: Workspace) -> str | None:
    """A channel id, name (``escalations``, ``#random``) or unique name prefix → channel id."""
    wanted = word.strip().removeprefix("#").lower()
    public = [c for c in workspace.channels.values() if not c.is_im]
    for channel in public:
        if wanted in (channel.id.lower(), channel.name.lower()):
            return channel.id
    prefixed = [c.id for c in public if wanted and c.name.startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None


def role_name(user_id: str, workspace: Workspace, policy: Policy) -> str:
    """The user's role under ``policy`` (groups from the workspace), or ``no role``."""
    handles = [g.handle for g in workspace.groups.values() if user_id in g.users]
    role = policy.role_of(user_id, handles)
    return role.value if role is not None else "no role"


# ---- what changed (pure) --------------------------------------------------------------------


def _fingerprint(message: Message) -> str:
    return json.dumps([message.text, message.blocks], sort_keys=True, ensure_ascii=False)


def _view_fingerprint(view: View | None) -> str:
    if view is None:
        return ""
    return f"{view.id}:{view.hash}:{json.dumps(view.errors, sort_keys=True)}"


@dataclass
class Seen:
    """What has been printed: message fingerprints by key, and each user's open view."""

    messages: dict[str, str] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)

    def is_new(self, message: Message) -> bool:
        """Whether the message is new or changed since it was last printed."""
        return self.messages.get(_key(message)) != _fingerprint(message)


def _key(message: Message) -> str:
    return f"{message.channel}/{message.ts}/{message.ephemeral_for or ''}"


@dataclass(frozen=True)
class Thread:
    """A channel message and the replies to print under it."""

    parent: Message
    replies: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Changes:
    """What to print: threads in the channel, ephemerals for the user, their open view."""

    threads: tuple[Thread, ...] = ()
    ephemerals: tuple[Message, ...] = ()
    view: View | None = None
    view_fingerprint: str = ""

    @property
    def empty(self) -> bool:
        """Nothing to print."""
        return not self.threads and not self.ephemerals and self.view is None


def find_changes(state: EmulatorState, seen: Seen, user: str, channel: str) -> Changes:
    """What ``user`` sees in ``channel`` that is new or changed since ``seen``."""
    threads = []
    for parent in state.messages(channel):
        replies = tuple(r for r in state.replies(channel, parent.ts) if seen.is_new(r))
        if replies or seen.is_new(parent):
            threads.append(Thread(parent, replies))
    ephemerals = tuple(m for m in state.ephemerals(user) if m.channel == channel and seen.is_new(m))
    view = state.current_view(user)
    shown = _view_fingerprint(view)
    changed = view if shown != seen.views.get(user, "") else None
    return Changes(tuple(threads), ephemerals, changed, shown)


def recent(state: EmulatorState, user: str, channel: str, count: int = SHOW_THREADS) -> Changes:
    """The channel's last ``count`` threads in full, and the user's open view."""
    parents = state.messages(channel)[-count:]
    threads = tuple(Thread(p, tuple(state.replies(channel, p.ts))) for p in parents)
    view = state.current_view(user)
    return Changes(threads, (), view, _view_fingerprint(view))


def mark_seen(seen: Seen, changes: Changes, user: str) -> None:
    """Remember everything in ``changes`` as printed."""
    for thread in changes.threads:
        for message in (thread.parent, *thread.replies):
            seen.messages[_key(message)] = _fingerprint(message)
    for message in changes.ephemerals:
        seen.messages[_key(message)] = _fingerprint(message)
    seen.views[user] = changes.view_fingerprint


def is_busy(changes: Changes) -> bool:
    """A new or changed ⏳ parent with an empty thread: the bot is still working on it."""
    return any("⏳" in t.parent.text and t.parent.reply_count == 0 for t in changes.threads)


async def wait_until_quiet(
    state: EmulatorState,
    busy: Callable[[], bool] = lambda: False,
    *,
    quiet: float = QUIET_SECONDS,
    cap: float = SETTLE_CAP_SECONDS,
) -> None:
    """Return once no Web API call came for ``quiet`` seconds and not ``busy``, or at ``cap``."""
    deadline = time.monotonic() + cap
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            await state.wait_for(_new_call(state), min(quiet, remaining))
        except TimeoutError:
            if not busy():
                return


def _new_call(state: EmulatorState) -> Callable[[], bool]:
    """A predicate: has a call been recorded since now?"""
    last = _last_call(state)
    return lambda: _last_call(state) is not last


def _last_call(state: EmulatorState) -> object:
    calls = state.calls()
    return calls[-1] if calls else None


# ---- forms (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One input of a modal, as the shell asks for it."""

    block_id: str
    label: str
    optional: bool
    choices: tuple[tuple[str, str], ...] = ()  # (value, text) of a select or radio input

    def prompt(self, current: str, error: str | None = None) -> str:
        """``Customer [+91…]: ``, with the choices of a select and what was wrong before."""
        extra = f" ({' | '.join(text for _, text in self.choices)})" if self.choices else ""
        shown = f" [{self.text_of(current)}]" if current else ""
        optional = " (optional)" if self.optional else ""
        warning = f"  ⚠ {error}\n" if error else ""
        return f"{warning}{self.label}{optional}{extra}{shown}: "

    def text_of(self, value: str) -> str:
        """How a value is shown: the text of a choice, else the value itself."""
        return next((text for v, text in self.choices if v == value), value)

    def parse(self, answer: str) -> str | None:
        """A choice by value, text or number (None when none matches); text as typed."""
        if not self.choices:
            return answer
        for number, (value, text) in enumerate(self.choices, 1):
            if answer.lower() in (value.lower(), text.lower(), str(number)):
                return value
        return None


def form_fields(view: View) -> list[FormField]:
    """The inputs the shell can fill (text, select, radio), in order."""
    fields = []
    for block in view.blocks:
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        kind = str(element.get("type"))
        if kind not in _TEXT_INPUTS | _CHOICE_INPUTS:
            continue
        label = block.get("label")
        text = str(label.get("text", "")) if isinstance(label, dict) else str(block["block_id"])
        choices = tuple(_choice(o) for o in element.get("options") or [] if isinstance(o, dict))
        fields.append(FormField(str(block["block_id"]), text, bool(block.get("optional")), choices))
    return fields


def _choice(option: Mapping[str, object]) -> tuple[str, str]:
    text = option.get("text")
    return str(option.get("value", "")), str(text.get("text", "")) if isinstance(text, dict) else ""


def form_values(view: View) -> dict[str, str]:
    """What each input holds now: the last submitted value, else the initial one."""
    found: dict[str, str] = {}
    for block in view.blocks:
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        typed = view.values.get(str(block["block_id"]), {}).get(element.get("action_id"))
        source = typed if isinstance(typed, dict) else element
        option = source.get("selected_option") or source.get("initial_option")
        value = source.get("value") or source.get("initial_value")
        found[str(block["block_id"])] = str(
            value or (option.get("value", "") if isinstance(option, dict) else "")
        )
    return found


def is_form(view: View | None) -> bool:
    """An open modal with a submit button and something to fill in."""
    return view is not None and view.payload.get("submit") is not None and bool(form_fields(view))


# ---- the shell ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a button number clicks: a button in a message, a view, or the Home tab."""

    button: Button
    message: Message | None = None
    view_id: str | None = None
    home: bool = False


class Shell:
    """The transcript logic: one input line in, the text to print out. No I/O of its own."""

    def __init__(
        self,
        driver: SlackDriver,
        policy: Policy,
        *,
        user: str,
        channel: str,
        capillary: str = SANDBOX,
        policy_file: Path = DEMO_POLICY,
        color: bool = False,
    ) -> None:
        self.driver, self.state = driver, driver.state
        self.policy, self.policy_file = policy, policy_file
        self.user, self.channel, self.capillary, self.color = user, channel, capillary, color
        self.done = False
        self.seen = Seen()
        self._numbers: dict[tuple[str, str, str, str | None], int] = {}
        self._targets: dict[int, Target] = {}

    # ---- reading the line ------------------------------------------------------------------

    async def handle(self, line: str) -> str:
        """Run one input line; return what to print (possibly nothing)."""
        text = line.strip()
        if not text:
            return ""
        verb, _, rest = text.partition(" ")
        if verb == "/coupon":
            return await self.command(rest.strip())
        if verb.lower() == "/home":
            return await self.home()
        if text.isdigit():
            return await self.click(int(text))
        if verb.startswith("/"):
            return self._shell_command(verb, rest.strip())
        if verb.lower() == "coupon":
            return f"Slash commands start with a slash: /{text}"
        return HINT

    def _shell_command(self, verb: str, argument: str) -> str:
        commands: dict[str, Callable[[str], str]] = {
            "/as": self.become,
            "/channel": self.move,
            "/who": lambda _: self.who(),
            "/show": lambda _: self.show(),
            "/help": lambda _: HELP,
            **{word: lambda _: self.quit() for word in QUIT_WORDS},
        }
        run = commands.get(verb.lower())
        return run(argument) if run is not None else f"No shell command {verb}. {HINT}"

    # ---- shell commands --------------------------------------------------------------------

    def banner(self) -> str:
        """Who you are, where, which Capillary, and what to try."""
        lines = [
            "coupon-bot shell: the real bot, a local Slack and "
            + ("the Capillary sandbox." if self.capillary == SANDBOX else "your Capillary."),
            f"{self.who()} Capillary: {self._capillary_text()}.",
        ]
        if self.policy_file != DEMO_POLICY:
            lines.append(f"Roles and channels: {self.policy_file} (COUPON_BOT_POLICY).")
        examples = EXAMPLES if self.capillary == SANDBOX else ("/coupon help",)
        lines += ["Try:", *(f"  {example}" for example in examples)]
        lines.append("Shell: /as ROLE  /channel NAME  /who  /show  /home  /help  /quit")
        return "\n".join(lines)

    def _capillary_text(self) -> str:
        if self.capillary == SANDBOX:
            return "built-in sandbox (test data, nothing real changes)"
        return f"{self.capillary} (real: redeem and issue change real coupons)"

    def who(self) -> str:
        """``You are asha (agent) in #support-coupons (C01SUPPORT).``"""
        channel = self.state.workspace.channels[self.channel]
        return f"You are {self.describe_user()} in #{channel.name} ({channel.id})."

    def describe_user(self) -> str:
        """``asha (agent)``."""
        workspace = self.state.workspace
        name = workspace.users[self.user].name
        return f"{name} ({role_name(self.user, workspace, self.policy)})"

    def prompt(self) -> str:
        """``asha (agent) #support-coupons> ``."""
        return f"{self.describe_user()} #{self.state.workspace.channels[self.channel].name}> "

    def become(self, argument: str) -> str:
        """``/as ROLE|NAME|U…``."""
        user = resolve_user(argument, self.state.workspace) if argument else None
        if user is None:
            return "Usage: /as admin|approver|agent|viewer|guest (or a name: meera, ravi, lena…)"
        self.user = user
        return self.who()

    def move(self, argument: str) -> str:
        """``/channel C…|NAME``."""
        channel = resolve_channel(argument, self.state.workspace) if argument else None
        if channel is None:
            names = ", ".join(c.name for c in self.state.workspace.channels.values() if not c.is_im)
            return f"Usage: /channel NAME (one of {names}) or a C… id"
        self.channel = channel
        return self.who()

    def show(self) -> str:
        """The channel's last threads and the open view, buttons numbered."""
        changes = recent(self.state, self.user, self.channel)
        text = self.render(changes)
        mark_seen(self.seen, changes, self.user)
        return text or "Nothing here yet."

    def quit(self) -> str:
        """Leave the shell."""
        self.done = True
        return ""

    # ---- talking to the bot ----------------------------------------------------------------

    async def command(self, text: str) -> str:
        """``/coupon text`` as the current user, in the current channel."""
        return await self._step(
            lambda: self.driver.command(text, user=self.user, channel=self.channel)
        )

    async def click(self, number: int) -> str:
        """Click the button shown with ``number``."""
        target = self._targets.get(number)
        if target is None:
            return f"No button [{number}] has been shown. /show lists the channel's buttons."
        button = target.button
        if target.home:
            return await self._step(
                lambda: self.driver.click(
                    button.action_id, value=button.value, user=self.user, home=True
                )
            )
        if target.view_id is not None:
            view_id = target.view_id
            return await self._step(
                lambda: self.driver.click(
                    button.action_id, value=button.value, user=self.user, view_id=view_id
                )
            )
        message = target.message
        return await self._step(
            lambda: self.driver.click(
                button.action_id, value=button.value, user=self.user, message=message
            )
        )

    async def home(self) -> str:
        """Open the Home tab as the current user: the bot hears it, then the tab is shown."""
        shown = await self._step(lambda: self.driver.open_home(user=self.user))
        view = self.state.home(self.user)
        if view is None:
            tab = "(The bot has published no Home tab for you.)"
        else:
            text = render_view(view, users=self.state.user_names(), color=self.color)
            tab = self._number(text, view.blocks, f"h:{view.id}", lambda b: Target(b, home=True))
        return "\n".join(part for part in (shown, tab) if part)

    async def submit(self, view: View, values: Mapping[str, str]) -> str:
        """Submit ``view`` with ``values``."""
        return await self._step(lambda: self.driver.submit(view.id, values, user=self.user))

    async def _step(self, act: Callable[[], Awaitable[httpx.Response]]) -> str:
        """Do one thing as Slack would, wait until the bot is done, return what changed."""
        try:
            response = await act()
        except (DriverError, InvalidAck, SlackError) as exc:
            return f"Slack would not do that: {exc}"
        except httpx.HTTPError as exc:
            return f"The bot did not answer: {exc!r}"
        await wait_until_quiet(self.state, self._busy)
        note = self._ack_note(response)
        return "\n".join(part for part in (note, self.changes()) if part)

    def _busy(self) -> bool:
        return is_busy(find_changes(self.state, self.seen, self.user, self.channel))

    def _ack_note(self, response: httpx.Response) -> str:
        outcome = self.driver.last_ack_outcome
        if outcome == "failed":
            return f"(the bot answered HTTP {response.status_code}: Slack would show an error)"
        if outcome == "timeout":
            return "(the bot took over 3 s to answer: Slack would show an error)"
        return ""

    def changes(self) -> str:
        """What is new or changed for the current user and channel; marks it printed."""
        changes = find_changes(self.state, self.seen, self.user, self.channel)
        text = self.render(changes)
        mark_seen(self.seen, changes, self.user)
        return text

    # ---- forms -----------------------------------------------------------------------------

    def open_form(self) -> View | None:
        """The current user's open modal when it has fields to fill."""
        view = self.state.current_view(self.user)
        return view if is_form(view) else None

    async def fill_form(self, view: View, ask: Ask) -> str:
        """Ask for each field, submit, and ask again for fields the bot refused."""
        fields, values = form_fields(view), form_values(view)
        todo, shown = fields, FORM_HINT
        while True:
            for position, form_field in enumerate(todo):
                before = shown if position == 0 else ""
                answer = await self._ask_field(form_field, values, before, ask)
                if answer is None:
                    return self.cancel_form(view)
                values[form_field.block_id] = answer
            shown = await self.submit(view, values)
            todo = [f for f in fields if f.block_id in view.errors]
            if not todo or not self._form_still_open(view):
                return shown  # closed, replaced, or unchanged: the caller looks again

    def _form_still_open(self, view: View) -> bool:
        return view.is_open and self.state.current_view(self.user) is view

    async def _ask_field(
        self, form_field: FormField, values: Mapping[str, str], before: str, ask: Ask
    ) -> str | None:
        """One field's answer: typed, kept (Enter) or cleared (``-``); None to cancel.

        ``before`` (how to answer, or the form with the bot's errors under its fields) is
        shown first. ``/quit`` cancels and leaves the shell; other ``/`` lines are refused.
        """
        current = values.get(form_field.block_id, "")
        problem: str | None = None
        prefix = f"{before}\n" if before else ""
        while True:
            answer = await ask(prefix + form_field.prompt(current, problem))
            word = "" if answer is None else answer.strip().lower()
            if word in QUIT_WORDS:
                self.done = True
            if answer is None or word in CANCEL_WORDS | QUIT_WORDS:
                return None
            value, problem = parse_answer(form_field, answer.strip(), current)
            if problem is None:
                return value
            prefix = ""

    def cancel_form(self, view: View) -> str:
        """Close the modal (and any stacked under it), as the user's Cancel would."""
        for open_view in self.state.views(self.user, open_only=True):
            if open_view.root_view_id == view.root_view_id:
                open_view.is_open = False
        self.state.notify()
        self.seen.views[self.user] = _view_fingerprint(self.state.current_view(self.user))
        return "Form closed; nothing was sent."

    # ---- printing --------------------------------------------------------------------------

    def render(self, changes: Changes) -> str:
        """Threads (replies indented), ephemerals and the view, every button numbered."""
        parts: list[str] = []
        for thread in changes.threads:
            parts.append(self._message(thread.parent, "", "  "))
            parts += [self._message(reply, "  ↳ ", "    ") for reply in thread.replies]
        parts += [self._message(m, "(only you) ", "  ") for m in changes.ephemerals]
        if changes.view is not None:
            parts.append(self._view(changes.view))
        return "\n".join(parts)

    def _message(self, message: Message, first: str, rest: str) -> str:
        users = self.state.user_names()
        text = render_message(message, users=users, header=False, color=self.color)
        if message.user != BOT_USER_ID:
            text = f"@{users.get(message.user, message.user)}: {text}"
        where = f"m:{_key(message)}"
        text = self._number(text, message.blocks, where, lambda b: Target(b, message=message))
        lines = text.splitlines() or [""]
        return "\n".join([first + lines[0], *(rest + line if line else "" for line in lines[1:])])

    def _view(self, view: View) -> str:
        text = render_view(view, users=self.state.user_names(), color=self.color)
        return self._number(text, view.blocks, f"v:{view.id}", lambda b: Target(b, view_id=view.id))

    def _number(
        self, text: str, blocks: list[Json], where: str, target: Callable[[Button], Target]
    ) -> str:
        """Swap the renderer's per-message ``[1]`` for session-wide, stable numbers."""
        cursor = 0
        for local, button in enumerate(buttons(blocks), 1):
            number = self._register(where, button, target(button))
            old, new = f"[{local}] {button.text}", f"[{number}] {button.text}"
            found = text.find(old, cursor)
            if found < 0:
                continue
            text = text[:found] + new + text[found + len(old) :]
            cursor = found + len(new)
        return text

    def _register(self, where: str, button: Button, target: Target) -> int:
        key = (where, button.block_id, button.action_id, button.value)
        number = self._numbers.setdefault(key, len(self._numbers) + 1)
        self._targets[number] = target
        return number


def parse_answer(form_field: FormField, answer: str, current: str) -> tuple[str, str | None]:
    """(value, None) for a usable answer, else ("", what is wrong).

    A line starting with ``/`` is never a value: it is a command typed while the form was
    open (``/as lena``, ``/coupon pending``), and a note, reason, code, customer or amount
    does not start with one.
    """
    if answer.startswith("/"):
        label = form_field.label
        return "", f"A form is open: answer “{label}” or type {CANCEL} to close it first."
    if answer == CLEAR:
        value = ""
    elif not answer:
        value = current
    else:
        parsed = form_field.parse(answer)
        if parsed is None:
            choices = ", ".join(text for _, text in form_field.choices)
            return "", f"Pick one of: {choices}."
        value = parsed
    if not value and not form_field.optional:
        return "", f"{form_field.label} is required (or type {CANCEL})."
    return value, None


# ---- the terminal ---------------------------------------------------------------------------


class LineReader:
    """Lines from a stream, read by a daemon thread so the event loop (and Ctrl-C) never wait."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] | None = None

    async def readline(self) -> str | None:
        """The next line (with its newline), or None at end of input."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            args = (loop, self._queue)
            threading.Thread(target=self._pump, args=args, daemon=True).start()
        return await self._queue.get()

    def _pump(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            try:
                for line in iter(self._stream.readline, ""):
                    loop.call_soon_threadsafe(queue.put_nowait, line)
            except (OSError, ValueError):
                pass  # stdin closed or undecodable: treat as end of input
            loop.call_soon_threadsafe(queue.put_nowait, None)


class Console:
    """Line-based terminal I/O; prompts only on a TTY, answers echoed when piped."""

    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.interactive = stdin.isatty()
        self.color = self.interactive and stdout.isatty() and "NO_COLOR" not in os.environ
        self._reader = LineReader(stdin)
        self._out = stdout

    def write(self, text: str) -> None:
        """Print ``text`` (nothing for an empty string) and flush."""
        if text:
            self._out.write(text + "\n")
            self._out.flush()

    async def read(self, prompt: str) -> str | None:
        """The next command line (prompted on a TTY), None at end of input."""
        if self.interactive:
            self._show(prompt)
        line = await self._reader.readline()
        return None if line is None else line.rstrip("\r\n")

    async def ask(self, prompt: str) -> str | None:
        """A form answer: the prompt is always shown; piped answers are echoed after it."""
        self._show(prompt)
        line = await self._reader.readline()
        answer = None if line is None else line.rstrip("\r\n")
        if not self.interactive:
            self._show(f"{answer or ''}\n")
        return answer

    def _show(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()


async def converse(shell: Shell, console: Console) -> None:
    """The read–run–print loop, with forms filled as they open; returns at /quit or EOF."""
    console.write(shell.banner())
    while not shell.done:
        line = await console.read(shell.prompt())
        if line is None:
            return
        console.write(await shell.handle(line))
        while not shell.done and (view := shell.open_form()) is not None:
            console.write(await shell.fill_form(view, console.ask))


# ---- wiring ---------------------------------------------------------------------------------


def shell_settings(
    api_url: str, signing_secret: str, data_dir: Path, loaded: Settings | None = None
) -> Settings:
    """Settings for the shell's bot: the emulator, a fresh database, the demo policy by default.

    Capillary is the built-in sandbox unless ``CAPILLARY_BASE_URL`` names a real one; the
    policy is ``COUPON_BOT_POLICY`` when set.
    """
    loaded = loaded if loaded is not None else load_settings()
    capillary = loaded.capillary
    if not uses_real_capillary(loaded):
        capillary = capillary.model_copy(update={"base_url": SANDBOX})
    slack = SlackSettings(
        _env_file=None,
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(signing_secret),
        api_url=api_url,
    )
    policy = loaded.bot.policy if "policy" in loaded.bot.model_fields_set else DEMO_POLICY
    bot = loaded.bot.model_copy(
        update={"port": 0, "policy": policy, "database": data_dir / "coupon-bot.sqlite3"}
    )
    return Settings(capillary=capillary, slack=slack, bot=bot)


def uses_real_capillary(settings: Settings) -> bool:
    """Whether ``CAPILLARY_BASE_URL`` is set to something other than ``sandbox``."""
    return settings.capillary.base_url not in (None, "", SANDBOX)


def _problems(loaded: Settings, role: str, channel: str) -> list[str]:
    """Why the shell can't start: bad --as / --channel, missing real-Capillary credentials."""
    probe = seed_workspace()
    problems = []
    if resolve_user(role, probe) is None:
        problems.append(f"--as {role}: use admin, approver, agent, viewer, guest or a user name.")
    if resolve_channel(channel, probe) is None:
        problems.append(f"--channel {channel}: use C01SUPPORT, C02ESCALATIONS or C03RANDOM.")
    if uses_real_capillary(loaded):
        problems += [
            p for p in missing_credentials(loaded, socket_mode=False) if p.startswith("CAPILLARY_")
        ]
    return problems


def _quiet_logging() -> None:
    """Warnings and errors only, on stderr, so the transcript on stdout stays readable."""
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )


async def run_shell(
    role: str, channel: str, *, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run the shell on stdin/stdout until /quit or end of input; the process exit code."""
    loaded = load_settings()
    problems = _problems(loaded, role, channel)
    for problem in problems:
        print(f"coupon-bot shell: {problem}", file=sys.stderr)
    if problems:
        return 2
    _quiet_logging()
    console = Console(stdin or sys.stdin, stdout or sys.stdout)
    try:
        await _run(loaded, role, channel, console)
    except PolicyError as error:
        print(f"coupon-bot shell: {error}", file=sys.stderr)
        return 2
    return 0


async def _run(loaded: Settings, role: str, channel: str, console: Console) -> None:
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="coupon-bot-shell-") as data_dir:
        async with running_slack_emulator() as emulator:
            settings = shell_settings(emulator.api_url, secret, Path(data_dir), loaded)
            policy = load_policy(settings.bot.policy)
            async with running_bot(settings) as bot, httpx.AsyncClient(timeout=30) as http:
                driver = SlackDriver(bot.url, secret, emulator, http)
                workspace = emulator.state.workspace
                shell = Shell(
                    driver,
                    policy,
                    user=resolve_user(role, workspace) or ROLE_USERS["agent"],
                    channel=resolve_channel(channel, workspace) or "C01SUPPORT",
                    capillary=settings.capillary.base_url or SANDBOX,
                    policy_file=settings.bot.policy,
                    color=console.color,
                )
                await converse(shell, console)
