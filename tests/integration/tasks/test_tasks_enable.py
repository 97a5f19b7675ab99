"""Turning task sync on: the 24-hour first import, and the catch-up after a pause with the
15-day delete window and the full reconcile beyond it (TASK-6..8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.errors import InvalidInput
from salesync.services import task_sync
from salesync.services import tasks as task_service
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import ConnectionStatus, OutboxStatus, SalesforceConnection, User
from salesync.sync.task_enable import CatchUpSummary, last_summary
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


def _summary(world: World, user: User) -> CatchUpSummary:
    with unit_of_work(world.runtime.sessions) as session:
        summary = last_summary(session, user.id)
    assert summary is not None
    return summary


def _subjects(world: World, user: User) -> list[str]:
    return sorted(task.name for task in world.tasks_of(user))


def test_first_enable_imports_the_reminders_of_the_last_24_hours(world: World) -> None:
    rep = world.rep("ana@example.com", "ana", sync=False)
    world.sf_create("ana", Subject="Created 30 hours ago")
    touched = world.sf_create("ana", Subject="Created 30 hours ago, edited 2 hours ago")
    world.advance(hours=28)
    world.sf_update(touched, "ana", Description="edited")
    world.advance(hours=1)
    world.sf_create("ana", Subject="Created an hour ago")
    world.sf_create("ana", Subject="Email: logged", TaskSubtype="Email", Status="Completed")
    world.sf_create("ana", Subject="Call: logged", TaskSubtype="Call", Status="Completed")
    world.sf_delete(world.sf_create("ana", Subject="Deleted"), "ana")
    world.advance(hours=1)
    task_sync.set_mode(world.runtime, rep, "two_way")
    world.drain()
    assert _subjects(world, rep) == [
        "Created 30 hours ago, edited 2 hours ago",
        "Created an hour ago",
    ]
    assert _summary(world, rep).imported == 2
    # Imported tasks are linked, not pushed back as new Tasks.
    assert len(world.sf_tasks_of("ana")) == 5


def test_enabling_without_a_connection_waits_for_the_rep_to_connect(world: World) -> None:
    rep = world.user("ana@example.com")
    world.sf_create("ana", Subject="Waiting in Salesforce")
    task_sync.set_mode(world.runtime, rep, "two_way")
    world.drain()
    [job] = world.outbox("task_sync_enable")
    assert job.status is OutboxStatus.PAUSED
    world.connect(rep, "ana")
    with unit_of_work(world.runtime.sessions) as session:
        outbox.resume_user(session, rep.id, now=world.now())  # what connecting does
    world.drain()
    assert _subjects(world, rep) == ["Waiting in Salesforce"]


def _three_synced_tasks(world: World) -> tuple[User, dict[str, int], dict[str, str]]:
    rep = world.rep("ana@example.com", "ana")
    ids = {name: world.create(rep, name).id for name in ("A", "B", "C")}
    world.drain()
    sf_ids = {name: world.link(task_id).sf_id for name, task_id in ids.items()}  # type: ignore[union-attr]
    world.poll()
    return rep, ids, sf_ids


def test_after_a_long_pause_deletes_within_15_days_apply_and_older_ones_are_reconciled(
    world: World,
) -> None:
    rep, ids, sf_ids = _three_synced_tasks(world)
    task_sync.set_mode(world.runtime, rep, "off")
    paused_at = world.now()
    world.advance(days=4)
    world.sf_delete(sf_ids["A"], "ana")  # 16 days before the re-enable: purged by then
    world.advance(days=2)
    world.sf_delete(sf_ids["B"], "ana")  # 14 days before: still in getDeleted
    world.advance(days=14)
    assert world.now() - paused_at == timedelta(days=20)
    world.org.maintain()  # what the org does before every request
    assert world.org.get_record(sf_ids["A"]) is None  # gone from the Recycle Bin
    task_sync.set_mode(world.runtime, rep, "two_way")
    world.drain()
    assert world.task(ids["A"]).deleted_at is not None
    assert world.task(ids["B"]).deleted_at is not None
    assert world.task(ids["C"]).deleted_at is None
    summary = _summary(world, rep)
    assert (summary.mode, summary.full_reconcile, summary.deleted) == ("resume", True, 2)


def test_after_a_short_pause_get_deleted_is_enough(world: World) -> None:
    rep, ids, sf_ids = _three_synced_tasks(world)
    task_sync.set_mode(world.runtime, rep, "off")
    world.advance(hours=1)
    world.sf_delete(sf_ids["B"], "ana")
    world.advance(hours=1)
    before = world.api_calls()
    task_sync.set_mode(world.runtime, rep, "two_way")
    world.drain()
    assert world.task(ids["B"]).deleted_at is not None
    assert world.task(ids["A"]).deleted_at is None
    summary = _summary(world, rep)
    assert (summary.full_reconcile, summary.deleted) == (False, 1)
    assert world.api_calls() - before == 2  # getDeleted + the catch-up query


def test_what_changed_during_a_pause_syncs_both_ways_on_resume(world: World) -> None:
    rep, ids, sf_ids = _three_synced_tasks(world)
    task_sync.set_mode(world.runtime, rep, "off")
    world.advance(hours=1)
    world.update(rep, ids["A"], details="edited during the pause")
    task_service.delete_task(world.runtime, rep, ids["B"])
    during = world.create(rep, "Created during the pause")
    world.sf_update(sf_ids["C"], "ana", Priority="High")
    created_there = world.sf_create("ana", Subject="Created there during the pause")
    world.drain()
    assert world.sf_task(sf_ids["A"])["Description"] is None  # nothing left while off
    world.advance(hours=1)
    task_sync.set_mode(world.runtime, rep, "two_way")
    world.drain()
    assert world.sf_task(sf_ids["A"])["Description"] == "edited during the pause"
    assert world.sf_task(sf_ids["B"])["IsDeleted"] is True
    assert world.task(ids["C"]).priority.value == "High"
    assert world.task_for_sf(created_there) is not None
    assert world.link(during.id) is None  # TASK-6: created before this period of sync


def test_a_locked_team_default_turns_sync_on_for_every_rep(world: World) -> None:
    admin = world.user("boss@example.com", admin=True)
    ana = world.rep("ana@example.com", "ana", sync=False)
    ben = world.rep("ben@example.com", "ben", sync=False)
    world.sf_create("ben", Subject="Ben's reminder")
    task_sync.set_team_mode(world.runtime, admin, "two_way", locked=True)
    world.drain()
    assert task_sync.status(world.runtime, ana).state.on
    assert _subjects(world, ben) == ["Ben's reminder"]
    with pytest.raises(InvalidInput) as refused:
        task_sync.set_mode(world.runtime, ana, "off")
    assert refused.value.field == "task_sync"
    task_sync.set_team_mode(world.runtime, admin, "off", locked=False)
    assert not task_sync.status(world.runtime, ben).state.on
    task_sync.set_mode(world.runtime, ana, "two_way")
    assert task_sync.status(world.runtime, ana).state.on


def test_an_unknown_mode_is_refused_with_the_field_named(world: World) -> None:
    rep = world.rep("ana@example.com", "ana", sync=False)
    with pytest.raises(InvalidInput) as refused:
        task_sync.set_mode(world.runtime, rep, "one_way")
    assert refused.value.field == "task_sync"
    assert not task_sync.status(world.runtime, rep).state.on


def test_a_rep_not_polled_for_weeks_catches_up_like_after_a_pause(world: World) -> None:
    """A connection broken for 20 days: deletes Salesforce purged meanwhile still apply."""
    rep, ids, sf_ids = _three_synced_tasks(world)
    with unit_of_work(world.runtime.sessions) as session:
        connection = session.query(SalesforceConnection).one()
        connection.status = ConnectionStatus.BROKEN
    world.advance(days=2)
    world.sf_delete(sf_ids["A"], "ana")
    world.advance(days=18)
    world.sf_update(sf_ids["C"], "ana", Priority="High")
    world.org.maintain()
    assert world.org.get_record(sf_ids["A"]) is None
    with unit_of_work(world.runtime.sessions) as session:
        session.query(SalesforceConnection).one().status = ConnectionStatus.CONNECTED
        outbox.resume_user(session, rep.id, now=world.now())  # what reconnecting does
    world.poll()
    assert world.task(ids["A"]).deleted_at is not None
    assert world.task(ids["B"]).deleted_at is None
    assert world.task(ids["C"]).priority.value == "High"
    summary = _summary(world, rep)
    assert (summary.mode, summary.full_reconcile) == ("resume", True)
    before = world.api_calls()
    assert world.poll().queries == 1  # back to plain polling
    assert world.api_calls() - before == 1
