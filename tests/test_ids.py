"""The ids that are built in one place and matched in another stay in step."""

from __future__ import annotations

from bot.commands import Verb
from bot.ids import PICK_VERB_ACTION, ActionId, pick_verb_action_id


def test_the_menu_listener_hears_every_verb_button_and_no_other_action() -> None:
    assert all(PICK_VERB_ACTION.match(pick_verb_action_id(verb)) for verb in Verb)
    assert not any(PICK_VERB_ACTION.match(action) for action in ActionId)
