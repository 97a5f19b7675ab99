"""Both sides edited within one cycle: merged per field, later edit wins, every conflict kept;
deletes win and never resurrect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.domain.reminder_mapping import ReminderPriority
from salesync.services import tasks as task_service
from salesync.store.tables import ReminderTask, User
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


def _synced_task(world: World) -> tuple[User, ReminderTask, str]:
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Quarterly review", due_date="2026-03-03", details="agenda")
    world.drain()
    world.poll()
    link = world.link(task.id)
    assert link is not None
    return rep, task, link.sf_id


def test_salesforce_edited_later_wins_its_field_and_salesync_keeps_the_others(
    world: World,
) -> None:
    rep, task, sf_id = _synced_task(world)
    world.advance(minutes=1)
    world.update(rep, task.id, due_date="2026-03-10", details="local notes")
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", ActivityDate="2026-03-12", Priority="High")
    world.poll()  # the poll runs before the push: one cycle, both edits
    local, remote = world.task(task.id), world.sf_task(sf_id)
    assert (local.due_date, local.priority, local.details) == (
        date(2026, 3, 12),
        ReminderPriority.HIGH,
        "local notes",
    )
    assert (remote["ActivityDate"], remote["Priority"], remote["Description"]) == (
        date(2026, 3, 12),
        "High",
        "local notes",
    )
    [conflict] = world.conflicts()
    assert (conflict.field, conflict.local_value, conflict.remote_value, conflict.winner) == (
        "due_date",
        "2026-03-10",
        "2026-03-12",
        "salesforce",
    )
    assert "after salesync" in conflict.reason


def test_salesync_edited_later_wins_even_when_the_push_runs_first(world: World) -> None:
    rep, task, sf_id = _synced_task(world)
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", Description="from Salesforce", Priority="High")
    world.advance(minutes=1)
    world.update(rep, task.id, details="from salesync")
    world.drain()  # the push reads the Task first and merges before writing
    remote = world.sf_task(sf_id)
    assert (remote["Description"], remote["Priority"]) == ("from salesync", "High")
    assert world.task(task.id).priority is ReminderPriority.HIGH
    [conflict] = world.conflicts()
    assert (conflict.field, conflict.winner) == ("details", "salesync")
    assert (conflict.local_value, conflict.remote_value) == ("from salesync", "from Salesforce")
    world.poll()
    assert len(world.conflicts()) == 1  # our write is an echo, not a new conflict


def test_a_conflict_seen_by_the_poll_is_not_recorded_again_by_the_push(world: World) -> None:
    rep, task, sf_id = _synced_task(world)
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", Description="from Salesforce")
    world.advance(minutes=1)
    world.update(rep, task.id, details="from salesync")
    world.poll()
    assert world.sf_task(sf_id)["Description"] == "from salesync"
    assert [(c.field, c.winner) for c in world.conflicts()] == [("details", "salesync")]


def test_a_tie_goes_to_salesforce(world: World) -> None:
    rep, task, sf_id = _synced_task(world)
    world.advance(minutes=1)
    world.update(rep, task.id, details="same instant here")
    world.sf_update(sf_id, "ana", Description="same instant there")
    world.poll()
    assert world.task(task.id).details == "same instant there"
    assert world.sf_task(sf_id)["Description"] == "same instant there"
    [conflict] = world.conflicts()
    assert conflict.winner == "salesforce"
    assert "ties go to Salesforce" in conflict.reason


def test_a_local_delete_wins_over_a_salesforce_edit_and_never_comes_back(world: World) -> None:
    rep, task, sf_id = _synced_task(world)
    world.advance(minutes=1)
    task_service.delete_task(world.runtime, rep, task.id)
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", Description="edited after the delete")
    world.poll()
    assert world.sf_task(sf_id)["IsDeleted"] is True
    assert world.tasks_of(rep) == []
    world.poll()
    assert world.tasks_of(rep) == []
    assert len(world.tasks_of(rep, deleted=True)) == 1


def test_a_salesforce_delete_wins_over_a_pending_local_edit(world: World) -> None:
    rep, task, sf_id = _synced_task(world)
    world.advance(minutes=1)
    world.update(rep, task.id, details="edited before the delete arrived")
    world.advance(minutes=1)
    world.sf_delete(sf_id, "ana")
    world.drain()  # the push finds the Task deleted and does not bring it back
    assert world.task(task.id).deleted_at is not None
    assert world.sf_task(sf_id)["IsDeleted"] is True
    assert world.sf_tasks_of("ana") == []
    world.poll()
    assert world.tasks_of(rep) == []
