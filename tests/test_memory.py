"""Freezing what start-up built: the collector stops walking it, garbage is still found."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.memory import settle_after_startup


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_startup_objects_leave_the_walks_and_later_cycles_are_still_collected() -> None:
    built_at_startup = Cycle()
    assert any(o is built_at_startup for o in gc.get_objects())

    settle_after_startup()

    assert gc.get_freeze_count() > 0
    assert not any(o is built_at_startup for o in gc.get_objects())
    later = Cycle()
    gone = weakref.ref(later)
    del later
    gc.collect()
    assert gone() is None
