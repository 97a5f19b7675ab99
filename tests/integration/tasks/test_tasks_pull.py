"""Salesforce -> salesync: the poll imports, updates, deletes; echoes and bumps change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.domain.reminder_mapping import ReminderPriority, ReminderStatus
from salesync.services import task_sync
from salesync.store import tasks as tasks_store
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxStatus
from tests.fixtures_sandbox import add_person
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


def test_a_task_created_in_salesforce_arrives_with_its_fields(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    contact_id = world.org.create_record("Contact", {"LastName": "Diaz"})
    person_id = add_person(world.runtime, rep, "diaz@acme.test", sf_contact_id=contact_id)
    world.advance(minutes=1)
    sf_id = world.sf_create(
        "ana",
        Subject="Prepare demo",
        Status="Completed",
        Priority="High",
        ActivityDate="2026-03-06",
        Description="bring the laptop",
        WhoId=contact_id,
    )
    world.poll()
    task = world.task_for_sf(sf_id)
    assert task is not None
    assert (task.name, task.status, task.priority, task.due_date, task.details) == (
        "Prepare demo",
        ReminderStatus.COMPLETE,
        ReminderPriority.HIGH,
        date(2026, 3, 6),
        "bring the laptop",
    )
    assert (task.assignee_id, task.person_id) == (rep.id, person_id)
    assert task.completed_at is not None


def test_logged_emails_calls_and_other_owners_tasks_are_never_imported(world: World) -> None:
    world.rep("ana@example.com", "ana")
    world.sf_user("zoe")  # in Salesforce, not in salesync
    world.advance(minutes=1)
    world.sf_create("ana", Subject="Email: hello", TaskSubtype="Email", Status="Completed")
    world.sf_create("ana", Subject="Call", TaskSubtype="Call", Status="Completed")
    world.sf_create("zoe", Subject="Zoe's reminder")
    world.poll()
    assert world.all_tasks() == []


def test_salesforce_edits_of_synced_fields_come_back_and_subject_edits_do_not(
    world: World,
) -> None:
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Call Maria", due_date="2026-03-03")
    world.drain()
    sf_id = world.link(task.id).sf_id  # type: ignore[union-attr]
    world.advance(minutes=3)
    world.sf_update(
        sf_id,
        "ana",
        Subject="Renamed in Salesforce",
        Status="Completed",
        Priority="High",
        ActivityDate="2026-03-09",
        Description="notes from Salesforce",
    )
    world.poll()
    pulled = world.task(task.id)
    assert pulled.name == "Call Maria"  # TASK-5: subject edits do not sync back
    assert (pulled.status, pulled.priority, pulled.due_date, pulled.details) == (
        ReminderStatus.COMPLETE,
        ReminderPriority.HIGH,
        date(2026, 3, 9),
        "notes from Salesforce",
    )
    assert world.outbox("task_push")[-1].status is OutboxStatus.DONE
    assert world.conflicts() == []


def test_in_progress_and_low_stay_untouched_on_both_sides(world: World) -> None:
    """TASK-3/4: other Salesforce statuses and Low priority are not synced and never
    overwritten, unless the rep changes that field in salesync."""
    world.rep("ana@example.com", "ana")
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Research", Status="In Progress", Priority="Low")
    world.poll()
    task = world.task_for_sf(sf_id)
    assert task is not None
    assert (task.status, task.priority) == (ReminderStatus.OPEN, ReminderPriority.NORMAL)
    rep = world.user_by_id(task.assignee_id)
    world.update(rep, task.id, details="found the org chart", due_date="2026-03-10")
    world.drain()
    sf_task = world.sf_task(sf_id)
    assert (sf_task["Status"], sf_task["Priority"]) == ("In Progress", "Low")
    assert sf_task["Description"] == "found the org chart"
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", Status="Waiting on someone else")
    world.poll()
    assert world.task(task.id).status is ReminderStatus.OPEN
    assert world.sf_task(sf_id)["Status"] == "Waiting on someone else"
    world.advance(minutes=1)
    world.update(rep, task.id, status="Complete")
    world.drain()
    assert (world.sf_task(sf_id)["Status"], world.sf_task(sf_id)["Priority"]) == (
        "Completed",
        "Low",
    )


def test_a_task_deleted_in_salesforce_is_deleted_here(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Soon gone")
    world.drain()
    sf_id = world.link(task.id).sf_id  # type: ignore[union-attr]
    world.advance(minutes=1)
    world.sf_delete(sf_id, "ana")
    world.poll()
    assert world.task(task.id).deleted_at is not None
    assert world.tasks_of(rep) == []


def test_our_own_writes_never_come_back_as_edits(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Echo test", due_date="2026-03-03")
    world.drain()
    world.advance(minutes=1)
    world.update(rep, task.id, details="written here", priority="High")
    world.drain()
    before = world.task(task.id)
    pushes = len(world.outbox("task_push"))
    report = world.poll()
    after = world.task(task.id)
    assert report.outcomes == {"echo": 1}
    assert after.updated_at == before.updated_at
    assert after.field_edited_at == before.field_edited_at
    assert len(world.outbox("task_push")) == pushes
    assert world.conflicts() == []


def test_automation_bumping_system_modstamp_changes_nothing(world: World) -> None:
    """SystemModstamp moves without LastModifiedDate (API-FACTS §1 system fields)."""
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Bumped")
    world.drain()
    sf_id = world.link(task.id).sf_id  # type: ignore[union-attr]
    world.poll()
    world.advance(minutes=1)
    bumped_at = world.org.bump_system_modstamp(sf_id)
    before = world.task(task.id)
    report = world.poll()
    assert report.outcomes == {"echo": 1}
    assert world.task(task.id).updated_at == before.updated_at
    assert world.conflicts() == []
    assert world.link(task.id).sf_system_modstamp == bumped_at  # type: ignore[union-attr]
    # Seen once: the next poll's overlap reads it again and skips it as already seen.
    assert world.poll().outcomes == {"already_seen": 1}


def test_an_idle_poll_costs_one_call(world: World) -> None:
    world.rep("ana@example.com", "ana")
    world.poll()
    before = world.api_calls()
    report = world.poll()
    assert (report.queries, world.api_calls() - before) == (1, 1)


def test_the_poll_cursor_advances_and_reads_with_an_overlap(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    world.advance(minutes=1)
    first = world.sf_create("ana", Subject="First")
    world.poll()
    with unit_of_work(world.runtime.sessions) as session:
        cursor = task_sync.state_of(session, rep.id).cursor
    assert cursor == world.sf_task(first)["SystemModstamp"]
    world.advance(minutes=10)
    second = world.sf_create("ana", Subject="Second")
    report = world.poll()
    # The overlap re-reads the first Task (deduplicated) and finds the second.
    assert report.outcomes == {"already_seen": 1, "imported": 1}
    assert world.task_for_sf(second) is not None
    assert len(world.all_tasks()) == 2


def test_a_snapshot_in_the_old_lowercase_spelling_causes_no_push_and_no_conflict(
    world: World,
) -> None:
    """Snapshots written before status and priority had one spelling said "complete" and
    "high"; the upgrade rewrites them, and one an older worker still writes reads the same.
    Fingerprints cover only Salesforce's values, so they do not change either."""
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Spelling", status="Complete", priority="High")
    world.drain()
    link = world.link(task.id)
    assert link is not None
    scope = f"task:{task.id}"
    with unit_of_work(world.runtime.sessions) as session:
        snapshot = tasks_store.state(session, scope, "snapshot")
        assert snapshot is not None
        assert (snapshot["base"]["status"], snapshot["base"]["priority"]) == ("Complete", "High")
        legacy = {
            **snapshot,
            "base": {**snapshot["base"], "status": "complete", "priority": "high"},
        }
        tasks_store.put_state(session, scope, "snapshot", legacy, now=world.now())
    pushes = len(world.outbox("task_push"))
    world.advance(minutes=1)
    world.sf_update(link.sf_id, "ana", Description="notes from Salesforce")
    report = world.poll()
    assert report.outcomes == {"merged": 1}
    after = world.task(task.id)
    assert (after.status, after.priority, after.details) == (
        ReminderStatus.COMPLETE,
        ReminderPriority.HIGH,
        "notes from Salesforce",
    )
    assert len(world.outbox("task_push")) == pushes
    assert world.conflicts() == []
    with unit_of_work(world.runtime.sessions) as session:
        rewritten = tasks_store.state(session, scope, "snapshot")
    assert rewritten is not None
    assert (rewritten["base"]["status"], rewritten["base"]["priority"]) == ("Complete", "High")
