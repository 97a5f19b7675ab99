"""The collector around start-up: paused inside the block, start-up objects frozen after it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from salesync.collector import starting_up


class _Kept:
    """A start-up object the process keeps."""


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def _frozen(obj: object) -> bool:
    # Frozen objects sit in the permanent generation, which gc.get_objects() leaves out.
    return not any(o is obj for o in gc.get_objects())


def test_collection_is_paused_inside_and_back_after() -> None:
    gc.enable()
    with starting_up():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_start_up_built_is_frozen_and_later_objects_are_not() -> None:
    gc.enable()
    with starting_up():
        kept = _Kept()
    later = _Kept()
    assert gc.get_freeze_count() > 0
    assert _frozen(kept)
    assert not _frozen(later)


def test_an_exception_freezes_nothing_and_turns_collection_back_on() -> None:
    gc.enable()
    frozen_before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), starting_up():
        raise RuntimeError("start-up failed")
    assert gc.get_freeze_count() == frozen_before
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with starting_up():
        pass
    assert not gc.isenabled()
