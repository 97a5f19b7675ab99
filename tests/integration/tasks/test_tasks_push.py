"""salesync -> Salesforce: creates, edits, completes and deletes reach the rep's Tasks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.domain.subject_template import DEFAULT_TEMPLATE
from salesync.sandbox.dml import ValidationRule
from salesync.services import sync_settings, task_sync
from salesync.services import tasks as task_service
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxStatus, User
from tests.fixtures_sandbox import add_person
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


def test_a_new_task_becomes_a_salesforce_task_with_every_synced_field(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    lead_id = world.org.create_record("Lead", {"LastName": "Lopez", "Company": "Acme"})
    person_id = add_person(world.runtime, rep, "lopez@acme.test", sf_lead_id=lead_id)
    task = world.create(
        rep,
        "Send the proposal",
        person_id=person_id,
        due_date="2026-03-04",
        priority="High",
        details="Pricing for 40 seats",
    )
    world.drain()
    link = world.link(task.id)
    assert link is not None
    sf_task = world.sf_task(link.sf_id)
    # TASK-2..5, TASK-11: the template makes the subject; TaskSubtype Task; the rep owns it.
    assert sf_task["Subject"] == "Custom: Send the proposal"
    assert sf_task["Status"] == "Not Started"
    assert sf_task["Priority"] == "High"
    assert sf_task["ActivityDate"] == date(2026, 3, 4)
    assert sf_task["Description"] == "Pricing for 40 seats"
    assert sf_task["TaskSubtype"] == "Task"
    assert sf_task["OwnerId"] == world.sf_user("ana")
    assert sf_task["WhoId"] == lead_id
    assert sf_task["Type"] is None  # API-5: reminders never get Type


def test_edits_complete_reopen_and_delete_follow_the_task(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Call Maria", due_date="2026-03-03")
    world.drain()
    link = world.link(task.id)
    assert link is not None
    world.advance(minutes=1)
    world.update(rep, task.id, due_date="2026-03-05", details="ask about budget", priority="High")
    world.drain()
    sf_task = world.sf_task(link.sf_id)
    assert (sf_task["ActivityDate"], sf_task["Description"], sf_task["Priority"]) == (
        date(2026, 3, 5),
        "ask about budget",
        "High",
    )
    task_service.complete_task(world.runtime, rep, task.id)
    world.drain()
    assert world.sf_task(link.sf_id)["Status"] == "Completed"
    task_service.reopen_task(world.runtime, rep, task.id)
    world.drain()
    assert world.sf_task(link.sf_id)["Status"] == "Not Started"
    world.update(rep, task.id, due_date=None, details="")
    world.drain()
    assert world.sf_task(link.sf_id)["ActivityDate"] is None
    assert world.sf_task(link.sf_id)["Description"] is None
    task_service.delete_task(world.runtime, rep, task.id)
    world.drain()
    assert world.sf_task(link.sf_id)["IsDeleted"] is True
    assert world.link(task.id).deleted_at is not None  # type: ignore[union-attr]


def test_tasks_that_existed_before_sync_was_turned_on_are_never_pushed(world: World) -> None:
    """TASK-6: only tasks created after enabling go to Salesforce."""
    rep = world.rep("ana@example.com", "ana", sync=False)
    old = world.create(rep, "Written before sync")
    world.advance(minutes=5)
    task_sync.set_mode(world.runtime, rep, "two_way")
    world.drain()
    world.update(rep, old.id, details="edited after enabling")
    new = world.create(rep, "Written after sync")
    world.drain()
    assert world.link(old.id) is None
    assert world.link(new.id) is not None
    subjects = [row["Subject"] for row in world.sf_tasks_of("ana")]
    assert subjects == ["Custom: Written after sync"]


def test_nothing_is_pushed_while_sync_is_off(world: World) -> None:
    rep = world.rep("ana@example.com", "ana", sync=False)
    world.create(rep, "Local only")
    world.drain()
    assert world.sf_tasks_of("ana") == []
    assert world.outbox("task_push") == []


def test_a_rename_reaches_salesforce_only_through_activity_subject(world: World) -> None:
    """TASK-5: a subject change goes out only when the template uses {{activity_subject}}."""
    admin = world.user("boss@example.com", admin=True)
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "First name")
    world.drain()
    link = world.link(task.id)
    assert link is not None
    world.update(rep, task.id, name="Second name")
    world.drain()
    assert world.sf_task(link.sf_id)["Subject"] == "Custom: Second name"
    _set_template(world, admin, "Reminder from salesync")
    world.update(rep, task.id, name="Third name", details="still synced")
    world.drain()
    assert world.sf_task(link.sf_id)["Subject"] == "Custom: Second name"
    assert world.sf_task(link.sf_id)["Description"] == "still synced"
    _set_template(world, admin, DEFAULT_TEMPLATE)


def _set_template(world: World, admin: User, template: str) -> None:
    with unit_of_work(world.runtime.sessions) as session:
        actor = session.get(User, admin.id)
        assert actor is not None
        sync_settings.save_admin_options(session, actor, subject_template=template, now=world.now())


def test_a_task_for_a_teammate_goes_to_the_teammate_s_salesforce_user(world: World) -> None:
    """A rep's task assigned to a connected teammate is owned by the teammate there."""
    ana = world.rep("ana@example.com", "ana")
    ben = world.rep("ben@example.com", "ben")
    task = world.create(ana, "For Ben", assignee_id=ben.id)
    world.drain()
    link = world.link(task.id)
    assert link is not None
    assert world.sf_task(link.sf_id)["OwnerId"] == world.sf_user("ben")


def test_a_task_for_a_teammate_without_a_connection_is_not_pushed(world: World) -> None:
    ana = world.rep("ana@example.com", "ana")
    carl = world.user("carl@example.com")
    task_sync.set_mode(world.runtime, carl, "two_way")
    task = world.create(ana, "For Carl", assignee_id=carl.id)
    world.drain()
    assert world.link(task.id) is None
    held = [item for item in world.outbox("task_push") if item.subject_id == task.id]
    assert [item.status for item in held] == [OutboxStatus.PAUSED]


def test_one_push_run_sends_many_tasks_in_one_call(world: World) -> None:
    """sObject Collections: 30 new tasks cost one create call (API-FACTS §2.4)."""
    rep = world.rep("ana@example.com", "ana")
    for number in range(30):
        world.create(rep, f"Task {number}")
    before = world.api_calls()
    world.drain()
    assert world.api_calls() - before == 1
    assert len(world.sf_tasks_of("ana")) == 30


def test_an_intermittent_failure_is_retried_later(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    world.sandbox.control(
        "POST",
        "faults",
        {
            "path": "composite/sobjects",
            "method": "POST",
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "times": 1,
        },
    )
    task = world.create(rep, "Unlucky")
    world.drain()
    assert world.link(task.id) is None
    item = world.outbox("task_push")[0]
    assert (item.status, item.attempts, item.last_error_code) == (
        OutboxStatus.PENDING,
        1,
        "SERVER_UNAVAILABLE",
    )
    world.advance(minutes=1)
    world.drain()
    assert world.link(task.id) is not None


def test_a_task_salesforce_refuses_fails_to_diagnostics_and_the_others_go(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    world.org.validation_rules.append(
        ValidationRule(1, "Task", "Description", "CONFIDENTIAL", "No confidential notes")
    )
    refused = world.create(rep, "Refused", details="CONFIDENTIAL numbers")
    accepted = world.create(rep, "Accepted", details="public numbers")
    world.drain()
    assert world.link(refused.id) is None
    assert world.link(accepted.id) is not None
    by_task = {item.subject_id: item for item in world.outbox("task_push")}
    assert by_task[refused.id].status is OutboxStatus.FAILED
    assert by_task[accepted.id].status is OutboxStatus.DONE
    [entry] = world.diagnostics("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert (entry.item_type, entry.item_id) == ("reminder_task", refused.id)
    assert "No confidential notes" in entry.message


def test_reassigning_a_synced_task_to_a_connected_teammate_moves_its_owner(world: World) -> None:
    ana = world.rep("ana@example.com", "ana")
    ben = world.rep("ben@example.com", "ben")
    task = world.create(ana, "Handed over")
    world.drain()
    sf_id = world.link(task.id).sf_id  # type: ignore[union-attr]
    world.advance(minutes=1)
    world.update(ana, task.id, assignee_id=ben.id)
    world.drain()
    assert world.sf_task(sf_id)["OwnerId"] == world.sf_user("ben")
    world.advance(minutes=1)
    world.sf_update(sf_id, "ben", Priority="High")
    world.poll()
    assert world.task(task.id).priority.value == "High"


def test_a_task_another_worker_is_pushing_waits_and_is_created_once(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Twice queued")
    with unit_of_work(world.runtime.sessions) as session:
        [taken] = outbox.claim(
            session,
            worker_id="other-worker",
            now=world.now(),
            lease=timedelta(minutes=5),
            limit=1,
            kinds=["task_push"],
        )
    world.update(rep, task.id, details="edited while the other worker sends it")
    world.drain()
    assert world.sf_tasks_of("ana") == []  # it waits instead of creating a second Task
    world.advance(minutes=6)  # the other worker died: its lease ran out
    world.drain()
    [sf_task] = world.sf_tasks_of("ana")
    assert sf_task["Description"] == "edited while the other worker sends it"
    assert {item.status for item in world.outbox("task_push")} == {OutboxStatus.DONE}
    assert taken.subject_id == task.id


def test_a_create_whose_answer_was_lost_is_found_not_made_twice(world: World) -> None:
    """The Task was saved but the answer never came: the poll does not import it as a new
    task, and the retry finds it and links it instead of creating another one."""
    rep = world.rep("ana@example.com", "ana")
    world.sandbox.control(
        "POST",
        "faults",
        {"path": "composite/sobjects", "method": "POST", "dropAfterCommit": True, "times": 1},
    )
    task = world.create(rep, "Answer lost")
    world.drain()
    assert world.link(task.id) is None
    assert len(world.sf_tasks_of("ana")) == 1  # it was saved all the same
    assert world.outbox("task_push")[0].last_error_code == "NETWORK_ERROR"
    report = world.poll()  # polls first (the Task waits), then the retry links it
    assert report.outcomes == {"deferred": 1}
    link = world.link(task.id)
    assert link is not None
    world.poll()
    [sf_task] = world.sf_tasks_of("ana")
    assert sf_task["Id"] == link.sf_id
    assert [t.name for t in world.tasks_of(rep)] == ["Answer lost"]
