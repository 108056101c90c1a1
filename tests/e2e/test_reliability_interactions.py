"""Reliability: clicks and modal submissions that don't make sense, signed and sent over HTTP.

Two requests are waiting for approval (a redeem and an issue by the agent), the agent has a
form open and the lead an approval modal. Hypothesis then sends, in concurrent batches:

- ``block_actions`` built with the emulator's payload builders: random or garbage action ids,
  values (real and made-up request ids, junk, up to 10,000 characters), block ids, users, on
  a real card or in a real view; Approve and Reject with real request ids, by anyone;
- ``view_submission`` payloads as raw JSON: the bot's callback ids and others, any
  ``private_metadata`` (a real request id, made-up ones, form metadata for channels the bot
  may not answer in, junk, up to 10,000 characters), any ``state.values`` and blocks;
- a third of those with fields missing or replaced by other JSON (``FIELDS``: Slack always
  sends most of them); signed bodies of any shape: forms without a payload, payloads and
  JSON bodies that are not objects or not JSON, bytes that are not UTF-8.

Left out because it fails today (/work/notes/reliability-bugs/04-bolt-matching-unexpected.md):
an action without a string ``action_id``, a ``view`` or ``actions`` that are not objects.

Junk never decides a request: where ``private_metadata`` is a real request id with an
approve or reject callback, the submitter is never an approver (an approver's submission
would be a real decision). Checked for every payload: no 5xx (a body Bolt can't read is a
400), nothing logged at ERROR (the error exit logs every unexpected failure there), no
unhandled exception in the loop, nobody told "Something went wrong". After the run: not one
Capillary call since the setup, both requests still pending in the database with their
cards' buttons, no approve or reject in the audit log, whose hash chain verifies.

Budget: ``EXAMPLES`` batches of ``BATCH // 2`` to ``BATCH`` payloads, about 800 payloads in
all, run in about 12 s on this 2-core machine.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from conftest import ADMIN, AGENT, GUEST, LEAD, RIYA, SUPPORT, VIEWER, Stack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import (
    INTERNAL_ERROR,
    audit_rows,
    audit_verifies,
    driver,
    live_stack,
    sign_bytes,
    wait_idle,
)

from bot.ids import ActionId, BlockId, CallbackId
from bot.sandbox.slack import Message, View, payloads
from bot.sandbox.slack.render import Button, buttons
from bot.sandbox.slack.seed import APP_ID, TEAM_DOMAIN, TEAM_ID

EXAMPLES = 35
BATCH = 30
LEAD2 = "U06LEAD2"
APPROVERS = (LEAD, LEAD2, ADMIN)
NOT_APPROVERS = (AGENT, VIEWER, GUEST)
DECISIONS = (CallbackId.APPROVE_FORM, CallbackId.REJECT_FORM)


@dataclass(frozen=True, slots=True)
class Scene:
    """What the setup left open: the junk aims at it."""

    request_ids: tuple[str, ...]
    cards: tuple[Message, ...]
    views: tuple[View, ...]
    blocks: tuple[list[Any], ...]  # the views' blocks, copied when the scene was set


# --- the setup ---------------------------------------------------------------------------------


async def set_the_scene(stack: Stack) -> Scene:
    await stack.command(f"redeem GOOD100 {RIYA} txn=B-1")
    await stack.command("issue 1001 +919812345678")
    cards = (await stack.card(count=1), await stack.card(count=2))
    ids = tuple(
        next(b.value for b in buttons(c.blocks) if b.action_id == ActionId.APPROVE) for c in cards
    )
    approve_modal = await stack.open_decision(cards[0], by=LEAD)
    await stack.command("redeem good100")  # a form, with its metadata
    form = await stack.emulator.state.wait_for(lambda: stack.emulator.state.current_view(AGENT))
    views = (approve_modal, form)
    blocks = tuple(copy.deepcopy(view.blocks) for view in views)
    return Scene(tuple(str(i) for i in ids), cards, views, blocks)


# --- strategies --------------------------------------------------------------------------------

very_long = st.builds(
    lambda unit, length: (unit * length)[:length],
    st.text(min_size=1, max_size=8),
    st.integers(2000, 10_000),
)
junk = st.text(max_size=40) | very_long
made_up_ids = st.from_regex(r"\AR[0-9A-F]{8}\Z") | st.from_regex(r"\AR[0-9a-z]{0,12}\Z")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
junk_users = st.sampled_from(["U0NOBODY", "", "W123", "U03AGENT "])


def action_ids() -> st.SearchStrategy[str]:
    verbs = st.sampled_from(["get", "check", "redeem", "issue", "frobnicate", "", "log"])
    return (
        st.sampled_from([ActionId.APPROVE, ActionId.REJECT, ActionId.PICK_VERB, ActionId.INPUT])
        | verbs.map(f"{ActionId.PICK_VERB}:{{}}".format)
        | st.text(max_size=30)
    )


def metadata(scene: Scene) -> st.SearchStrategy[str]:
    """Request ids (real and not), form metadata nobody may run, junk, very long text."""
    form_metadata = st.builds(
        lambda channel, verb: json.dumps({"channel_id": channel, "verb": verb}),
        st.sampled_from(["C03RANDOM", "C0NOPE", "", "D03AGENT"]),
        st.sampled_from(["get", "redeem", "issue", "frobnicate", None]) | st.text(max_size=8),
    )
    return (
        st.sampled_from(scene.request_ids)
        | made_up_ids
        | form_metadata
        | junk
        | json_values.map(json.dumps)
    )


def state_values() -> st.SearchStrategy[dict[str, Any]]:
    blocks = st.sampled_from([*(b.value for b in BlockId), "x", ""])
    entry = st.builds(
        lambda value: {ActionId.INPUT: {"type": "plain_text_input", "value": value}},
        st.none() | st.text(max_size=60) | st.sampled_from(["GOOD100", RIYA, "1001", "  "]),
    )
    odd = st.dictionaries(
        st.text(max_size=12),
        st.dictionaries(st.text(max_size=8), json_values, max_size=2),
        max_size=2,
    )
    return st.dictionaries(blocks, entry | odd, max_size=3)


def user_json(user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": "someone", "name": "someone", "team_id": TEAM_ID}


#: Where a field may go missing or turn into other JSON (``view.x``: inside the view,
#: ``action.x``: inside the first action, ``user.x``: inside the user). Not here, because
#: they are unexpected errors today (/work/notes/reliability-bugs/04-bolt-matching-
#: unexpected.md): an action without a string ``action_id``, and ``view`` or ``actions``
#: that are not objects (so those two may only go missing).
FIELDS = (
    *("type", "user", "team", "enterprise", "api_app_id", "token", "trigger_id"),
    *("message", "channel", "container", "state", "response_url", "response_urls"),
    *("user.id", "view.id", "view.type", "view.callback_id", "view.private_metadata"),
    *("view.state", "view.blocks", "view.hash", "action.value", "action.block_id"),
    "action.type",
)


@dataclass(frozen=True, slots=True)
class Mangling:
    """Fields to take out of a payload, and fields to replace with other JSON."""

    drop: frozenset[str] = frozenset()
    odd: tuple[tuple[str, Any], ...] = ()

    def apply(self, payload: dict[str, Any]) -> dict[str, Any]:
        for name in self.drop:
            parent, key = _parent(payload, name)
            if parent is not None:
                parent.pop(key, None)
        for name, value in self.odd:
            parent, key = _parent(payload, name)
            if parent is not None:
                parent[key] = value
        return payload


def _parent(payload: dict[str, Any], name: str) -> tuple[dict[str, Any] | None, str]:
    where, _, key = name.rpartition(".")
    if not where:
        return payload, key
    inner = payload.get("actions" if where == "action" else where)
    if where == "action" and isinstance(inner, list) and inner:
        inner = inner[0]
    return (inner if isinstance(inner, dict) else None), key


json_values_small = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
manglings = st.builds(
    Mangling,
    drop=st.frozensets(st.sampled_from([*FIELDS, "view", "actions"]), max_size=3),
    odd=st.lists(
        st.tuples(st.sampled_from(FIELDS), json_values_small | json_values), max_size=2
    ).map(tuple),
)
unmangled = Mangling()
# Mostly whole payloads (so that the junk in their values reaches the listeners), else mangled.
some_manglings = st.just(unmangled) | st.just(unmangled) | manglings


ANY_CALLBACK = [*(c.value for c in CallbackId), "", "other_app_form"]


@st.composite
def submissions(draw: st.DrawFn, scene: Scene, deciding_only: bool = False) -> dict[str, Any]:
    """A submission of any of the bot's modals or none, with junk in it; ``deciding_only``:
    an approve or reject modal with a real request id (by someone who may not decide it)."""
    if deciding_only:
        callback, private = (
            draw(st.sampled_from(DECISIONS)),
            draw(st.sampled_from(scene.request_ids)),
        )
    else:
        callback, private = draw(st.sampled_from(ANY_CALLBACK)), draw(metadata(scene))
    deciding = callback in DECISIONS and private in scene.request_ids
    # An approver's signed submission with a real request id is a real decision, not junk.
    user = draw(
        st.sampled_from(NOT_APPROVERS)
        | (junk_users if deciding else st.sampled_from([*NOT_APPROVERS, *APPROVERS]))
    )
    view_id = draw(
        st.sampled_from([v.id for v in scene.views]) | st.text("V0123456789ABCDEF", max_size=11)
    )
    some_blocks = st.dictionaries(st.sampled_from(["type", "block_id", "x"]), json_values)
    blocks = draw(
        st.sampled_from(scene.blocks)
        | st.lists(some_blocks, max_size=3)
        | st.lists(json_values, max_size=2)
    )
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": user_json(user),
        "api_app_id": APP_ID,
        "token": payloads.VERIFICATION_TOKEN,
        "trigger_id": draw(st.text(max_size=20)),
        "view": {
            "id": view_id,
            "type": "modal",
            "team_id": TEAM_ID,
            "callback_id": callback,
            "private_metadata": private,
            "state": {"values": draw(state_values())},
            "blocks": blocks,
            "hash": draw(st.text(max_size=12)),
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


@dataclass(frozen=True, slots=True)
class Click:
    """A click to build on the stack's loop (where the emulator issues triggers and URLs)."""

    user: str
    button: Button
    card: int | None  # index into Scene.cards; None: in Scene.views[view]
    view: int = 0
    mangling: Mangling = unmangled

    def payload(self, stack: Stack, scene: Scene) -> dict[str, Any]:
        return self.mangling.apply(self._built(stack, scene))

    def _built(self, stack: Stack, scene: Scene) -> dict[str, Any]:
        state = stack.emulator.state
        user = state.workspace.users[self.user]
        trigger = state.issue_trigger(user.id)
        if self.card is None:
            view = scene.views[self.view]
            return payloads.block_actions(
                user=user, button=self.button, trigger_id=trigger, view=view
            )
        card = scene.cards[self.card]
        channel = state.workspace.channels[SUPPORT]
        return payloads.block_actions(
            user=user,
            button=self.button,
            trigger_id=trigger,
            message=state.message(card.channel, card.ts) or card,
            channel=channel,
            response_url=state.issue_response_url(user.id, channel.id),
        )


def clicks(scene: Scene, deciding_only: bool = False) -> st.SearchStrategy[Click]:
    """Buttons with junk in them, clicked on a real card or in a real view, by anyone;
    ``deciding_only``: Approve or Reject with a real request id."""
    deciding = st.sampled_from([ActionId.APPROVE.value, ActionId.REJECT.value])
    real_ids = st.sampled_from(scene.request_ids)
    buttons = st.builds(
        Button,
        action_id=deciding if deciding_only else action_ids(),
        text=st.text(max_size=10),
        value=real_ids if deciding_only else st.none() | real_ids | made_up_ids | junk,
        style=st.sampled_from([None, "primary", "danger", "weird"]),
        block_id=st.sampled_from([BlockId.DECISION.value, "", "x"]) | st.text(max_size=10),
    )
    return st.builds(
        Click,
        user=st.sampled_from([*NOT_APPROVERS, *APPROVERS]),
        button=buttons,
        card=st.none() | st.integers(0, len(scene.cards) - 1),
        view=st.integers(0, len(scene.views) - 1),
        mangling=some_manglings,
    )


@dataclass(frozen=True, slots=True)
class Raw:
    """A body exactly as sent (signed), for what no builder makes."""

    body: bytes
    content_type: str = "application/x-www-form-urlencoded"


def raw_bodies() -> st.SearchStrategy[Raw]:
    """Forms without a payload; payloads and JSON bodies of any shape, JSON or not; bytes
    that are not UTF-8."""
    fields = st.sampled_from(["type", "command", "text", "x", "user_id", "payload"])
    kinds = st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "x"])
    keys = st.sampled_from(["user", "team", "enterprise", "channel", "response_urls", "x"])
    # ``view`` an object and ``actions`` objects with an action_id: see FIELDS.
    views = st.dictionaries(st.sampled_from(["type", "callback_id", "id", "state"]), json_values)
    actions = st.lists(st.builds(lambda a, rest: {**rest, "action_id": a}, st.text(), views))
    objects = st.builds(
        lambda kind, rest, shaped: {"type": kind, **rest, **shaped},
        kinds,
        st.dictionaries(keys, json_values),
        st.fixed_dictionaries({}, optional={"view": views, "actions": actions}),
    )
    anything = objects | json_values
    return (
        st.dictionaries(fields, st.text(max_size=40)).map(lambda f: Raw(urlencode(f).encode()))
        | anything.map(lambda value: Raw(urlencode({"payload": json.dumps(value)}).encode()))
        | anything.map(lambda value: Raw(json.dumps(value).encode(), "application/json"))
        | st.text(max_size=60).map(lambda text: Raw(urlencode({"payload": text}).encode()))
        | st.binary(max_size=60).map(Raw)
    )


Sent = Click | dict[str, Any] | Raw


def interactions(scene: Scene) -> st.SearchStrategy[Sent]:
    submitted = st.builds(Mangling.apply, some_manglings, submissions(scene))
    deciding = st.builds(Mangling.apply, some_manglings, submissions(scene, deciding_only=True))
    return st.one_of(
        clicks(scene), clicks(scene, deciding_only=True), submitted, deciding, raw_bodies()
    )


# --- sending -------------------------------------------------------------------------------------


async def post(stack: Stack, scene: Scene, sent: Sent) -> httpx.Response:
    slack = driver(stack)
    if isinstance(sent, Click):
        sent = sent.payload(stack, scene)
    raw = sent if isinstance(sent, Raw) else Raw(urlencode({"payload": json.dumps(sent)}).encode())
    return await slack.post_raw(raw.body, sign_bytes(raw.body), raw.content_type)


async def one_batch(stack: Stack, scene: Scene, batch: list[Sent]) -> list[httpx.Response]:
    answers = await asyncio.gather(*(post(stack, scene, sent) for sent in batch))
    await wait_idle()  # whatever the batch started after its acks has finished
    return list(answers)


def approval_states(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as db:
        return [row[0] for row in db.execute("SELECT state FROM approvals ORDER BY created_at")]


NOT_YOURS = ("Only approvers can approve or reject", "so someone else has to approve it")


def answer_kind(answer: httpx.Response) -> str:
    if answer.status_code != 200:
        return str(answer.status_code)  # 404: no listener for it (Bolt's "unhandled request")
    if '"response_action": "errors"' not in answer.text:
        return "200"
    return "not yours" if any(m in answer.text for m in NOT_YOURS) else "form errors"


def test_junk_interactions_are_answered_without_a_crash_a_call_or_a_decision(
    tmp_path: Path,
) -> None:
    kinds: Counter[str] = Counter()
    with live_stack(tmp_path) as (live, errors):
        scene = live.run(set_the_scene)
        stack = live.stack
        calls_before = stack.capillary_calls()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.lists(interactions(scene), min_size=BATCH // 2, max_size=BATCH))
        def each_batch(batch: list[Sent]) -> None:
            answers = live.run(lambda stack: one_batch(stack, scene, batch))
            for payload, answer in zip(batch, answers, strict=True):
                assert answer.status_code < 500, (payload, answer.status_code, answer.text)
                assert INTERNAL_ERROR not in answer.text, payload
            errors.assert_none()
            kinds.update(answer_kind(answer) for answer in answers)

        each_batch()
        assert stack.capillary_calls() == calls_before
        posted = stack.everything_posted()
        assert INTERNAL_ERROR not in posted
        for card in scene.cards:
            current = stack.emulator.state.message(card.channel, card.ts)
            assert current is not None
            assert any(b.get("block_id") == BlockId.DECISION for b in current.blocks)
    errors.assert_none()
    # The junk reached the listeners and their refusals, not only Bolt's "unhandled request".
    assert {"200", "404", "not yours"} <= set(kinds), kinds
    assert kinds.total() >= EXAMPLES * BATCH // 2
    assert approval_states(live.database) == ["pending", "pending"]
    events = {row["event"] for row in audit_rows(live.database)}
    assert events.isdisjoint({"approved", "rejected"}), events
    assert audit_verifies(live.database)
