"""Regression tests for what the reliability suite found: payloads that used to get HTTP 500
or an "unexpected error" (logged at ERROR with a correlation id):

- bodies Bolt can't parse (before the signature is checked) → now 400, one WARNING line;
- fields Slack always sends, missing or of the wrong type → now a no-op after the ack;
- the error exit itself raising on odd view blocks → now it answers anyway;
- actions or views that are not objects, which Bolt trips over while matching listeners →
  now acknowledged and dropped first (handlers/guard.py).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from conftest import (
    AGENT,
    LEAD,
    RIYA,
    SIGNING_SECRET,
    SUPPORT,
    VIEWER,
    Stack,
    running_stack,
)
from reliability_support import ErrorWatch, wait_idle

from bot.ids import ActionId
from bot.sandbox.slack import payloads
from bot.sandbox.slack.render import buttons

FORM = "application/x-www-form-urlencoded"


def signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


async def answer(
    stack: Stack,
    http: httpx.AsyncClient,
    body: bytes,
    *,
    sign: bool = True,
    kind: str = FORM,
) -> tuple[int, list[str]]:
    """The HTTP status, and what was logged at ERROR until the work after the ack ended."""
    with ErrorWatch().watching() as errors:
        headers = {"Content-Type": kind, **(signed(body) if sign else {})}
        response = await http.post(stack.bot.url, content=body, headers=headers)
        await wait_idle()
    return response.status_code, [r.splitlines()[-1] for r in errors.records]


# --- 01: bodies Bolt can't parse, signed or not -------------------------------------------------

UNPARSABLE = {
    "payload empty": (b"payload=", FORM),
    "payload not JSON": (b"payload=x", FORM),
    "payload cut off": (urlencode({"payload": '{"type": "block_'}).encode(), FORM),
    "payload a list": (urlencode({"payload": "[]"}).encode(), FORM),
    "payload a number": (urlencode({"payload": "1"}).encode(), FORM),
    "payload key alone": (b"type=x&payload", FORM),
    "JSON body a list": (b"[1, 2]", "application/json"),
    "JSON body cut off": (b"{", "application/json"),
    "not UTF-8 (form)": (b"\xff\xfe", FORM),
    "not UTF-8 (JSON)": (b"\xff", "application/json"),
    "user not an object": (
        form({"type": "block_actions", "user": 7, "actions": []}),
        FORM,
    ),
    "team not an object": (
        form({"type": "view_submission", "team": 7, "view": {}}),
        FORM,
    ),
    "response_urls null": (
        form(
            {
                "type": "view_submission",
                "response_urls": None,
                "view": {"type": "modal"},
            }
        ),
        FORM,
    ),
}


@pytest.mark.parametrize("sign", [True, False], ids=["signed", "unsigned"])
async def test_01_a_body_bolt_cannot_parse_is_a_4xx_not_a_500(tmp_path: Path, sign: bool) -> None:
    async with running_stack(tmp_path) as stack, httpx.AsyncClient() as http:
        found = {
            name: await answer(stack, http, body, sign=sign, kind=kind)
            for name, (body, kind) in UNPARSABLE.items()
        }
    bad = {name: result for name, result in found.items() if result[0] >= 500 or result[1]}
    assert not bad, json.dumps(bad, indent=1)


# --- 02 and 03: signed payloads from the emulator's builders, with a field taken out -------------


async def scene(stack: Stack) -> dict[str, Any]:
    """A real approve click, a real approve submission and a real pick-verb click."""
    state = stack.emulator.state
    await stack.command(f"redeem GOOD100 {RIYA}")
    card = await stack.card()
    modal = await stack.open_decision(card, by=LEAD)
    await stack.command("")
    menu = await state.wait_for(lambda: state.current_view(AGENT))
    approve = next(b for b in buttons(card.blocks) if b.action_id == ActionId.APPROVE)
    pick = next(b for b in buttons(menu.blocks) if b.action_id.startswith(ActionId.PICK_VERB))
    channel = state.workspace.channels[SUPPORT]
    viewer, agent = state.workspace.users[VIEWER], state.workspace.users[AGENT]
    return {
        "click": payloads.block_actions(
            user=viewer,
            button=approve,
            trigger_id=state.issue_trigger(VIEWER),
            message=card,
            channel=channel,
            response_url=state.issue_response_url(VIEWER, channel.id),
        ),
        "pick in a message": payloads.block_actions(
            user=agent,
            button=pick,
            trigger_id=state.issue_trigger(AGENT),
            message=card,
            channel=channel,
            response_url=state.issue_response_url(AGENT, channel.id),
        ),
        "pick": payloads.block_actions(
            user=agent, button=pick, trigger_id=state.issue_trigger(AGENT), view=menu
        ),
        "submit": payloads.view_submission(
            user=viewer, view=modal, trigger_id=state.issue_trigger(VIEWER)
        ),
    }


def without(payload: dict[str, Any], path: str, value: object = ...) -> dict[str, Any]:
    """A copy with ``path`` (dotted; ``actions.0.x``) removed, or set to ``value``."""
    changed = copy.deepcopy(payload)
    *parents, last = path.split(".") if path else [""]
    target: Any = changed
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if not last:
        return changed
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return changed


MISSING = [
    ("pick in a message", ""),  # a pick-verb button clicked outside a modal: no "view"
    ("pick", "view.id"),
    ("pick", "user"),
    ("pick", "user.id"),
    ("click", "trigger_id"),
    ("click", "user"),
    ("click", "user.id"),
    ("submit", "user"),
    ("submit", "user.id"),
    ("submit", "view.state"),
    ("submit", "view.state.values"),
]


async def test_02_a_missing_field_is_refused_not_an_unexpected_error(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack, httpx.AsyncClient() as http:
        built = await scene(stack)
        found = {
            f"{name} without {path or '(as is)'}": await answer(
                stack, http, form(without(built[name], path))
            )
            for name, path in MISSING
        }
        found["submit with a null state entry"] = await answer(
            stack,
            http,
            form(without(built["submit"], "view.state.values", {"note": None})),
        )
        refused_form = {
            "type": "view_submission",
            "team": {"id": "T0SANDBOX"},
            "user": {"id": AGENT, "name": "asha"},
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": "coupon_verb_form",
                "private_metadata": json.dumps({"channel_id": "C03RANDOM", "verb": "get"}),
                "state": {"values": {"codes": {"coupon_input": {"value": "GOOD100"}}}},
                "blocks": [],
            },
        }
        found["refused verb form without blocks"] = await answer(stack, http, form(refused_form))
        found["click with actions []"] = await answer(
            stack, http, form(without(built["click"], "actions", []))
        )
        found["submit without view.type"] = await answer(
            stack, http, form(without(built["submit"], "view.type"))
        )
    bad = {name: result for name, result in found.items() if result[0] >= 500 or result[1]}
    assert not bad, json.dumps(bad, indent=1)


@pytest.mark.parametrize("blocks", [[[1]], None, ["x"]], ids=["list-in-list", "null", "text"])
async def test_03_the_error_exit_never_turns_an_error_into_a_500(
    tmp_path: Path, blocks: object
) -> None:
    async with running_stack(tmp_path) as stack, httpx.AsyncClient() as http:
        built = await scene(stack)
        broken = without(without(built["submit"], "view.state"), "view.blocks", blocks)
        status, _ = await answer(stack, http, form(broken))
    assert status == 200  # the listener's KeyError is bug 02; the 500 is the error exit's own


# --- 04: shapes Bolt itself trips over while matching listeners (signed) ------------------------


def action_shaped(click: dict[str, Any], action: object) -> dict[str, Any]:
    changed = copy.deepcopy(click)
    changed["actions"] = [action]
    return changed


async def test_04_an_action_or_view_that_is_not_an_object_is_not_an_unexpected_error(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack, httpx.AsyncClient() as http:
        click = (await scene(stack))["click"]
        first = click["actions"][0]
        shapes = {
            "action without action_id": action_shaped(
                click, {k: v for k, v in first.items() if k != "action_id"}
            ),
            "action_id true": action_shaped(click, {**first, "action_id": True}),
            "action_id a list": action_shaped(click, {**first, "action_id": ["x"]}),
            "action a string": action_shaped(click, "x"),
            "unhandled click, view a list": {
                **action_shaped(click, {**first, "action_id": "nobody_listens"}),
                "view": [1],
            },
            "view_closed, view a list": {"type": "view_closed", "view": [1], "user": {"id": AGENT}},
            "shortcut, view a string": {"type": "shortcut", "view": "x", "user": {"id": AGENT}},
        }
        found = {name: await answer(stack, http, form(p)) for name, p in shapes.items()}
    bad = {name: result for name, result in found.items() if result[0] >= 500 or result[1]}
    assert not bad, json.dumps(bad, indent=1)
