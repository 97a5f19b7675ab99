"""Reminder task types (TASK-10) and the badge of a task made before sync was on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.errors import InvalidInput
from salesync.services import task_sync
from salesync.services.timeline import task_sync_states
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


@pytest.mark.parametrize("given", ["Email", "Call", "InMail", "Custom", "inmail"])
def test_every_type_renders_as_activity_type_in_the_subject(world: World, given: str) -> None:
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Follow up", task_type=given)
    world.drain()
    link = world.link(task.id)
    assert link is not None
    expected = {"inmail": "InMail"}.get(given, given)
    assert world.task(task.id).task_type == expected
    assert world.sf_task(link.sf_id)["Subject"] == f"{expected}: Follow up"


def test_the_default_type_is_custom_and_an_unknown_one_is_refused(world: World) -> None:
    rep = world.rep("ana@example.com", "ana", sync=False)
    assert world.create(rep, "Plain").task_type == "Custom"
    with pytest.raises(InvalidInput) as refused:
        world.create(rep, "Odd", task_type="Meeting")
    assert refused.value.field == "task_type"
    task = world.create(rep, "Changes", task_type="Call")
    assert world.update(rep, task.id, task_type="Email").task_type == "Email"


def test_a_task_made_before_sync_was_on_says_so_on_its_badge(world: World) -> None:
    rep = world.rep("ana@example.com", "ana", sync=False)
    old = world.create(rep, "Written before sync")
    assert task_sync_states(world.runtime, rep.team_id, [old.id])[old.id].state == "local"
    world.advance(minutes=5)
    task_sync.set_mode(world.runtime, rep, "two_way")
    world.drain()
    new = world.create(rep, "Written after sync")
    world.drain()
    states = task_sync_states(world.runtime, rep.team_id, [old.id, new.id])
    assert states[old.id].state == "before_sync"
    assert states[new.id].state == "logged"
