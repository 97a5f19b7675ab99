"""Calls in BCC mode: a call has no email to BCC, so it logs through the API or says why."""

from __future__ import annotations

from sqlalchemy import select

from salesync.services import activities, bcc
from salesync.store.db import unit_of_work
from salesync.store.tables import ConnectionStatus, OutboxItem, OutboxStatus, SalesforceConnection
from tests.fixtures_sandbox import add_person
from tests.integration.bcc.conftest import BccWorld
from tests.integration.logging.test_logging_api import drain


def _call(world: BccWorld, contact_id: str) -> int:
    person = add_person(world.runtime, world.rep, None, sf_contact_id=contact_id)
    draft = activities.CallDraft(person, world.runtime.clock.now(), 42, notes="Spoke to Pat")
    return activities.log_call(world.runtime, world.rep, draft)


def test_in_bcc_mode_a_call_logs_through_the_api(world: BccWorld) -> None:
    target = world.contact()
    assert bcc.activate(world.runtime, world.rep).active
    _call(world, str(target["Id"]))
    drain(world.runtime)
    [task] = [t for t in world.sandbox.tasks() if t["WhoId"] == target["Id"]]
    assert (task["TaskSubtype"], task["CallDurationInSeconds"]) == ("Call", 42)
    assert task["Subject"] == "Call: Spoke to Pat"
    assert world.e2s_tasks() == []  # nothing went by email
    assert world.diagnostics() == []


def test_in_bcc_mode_without_a_connection_a_call_waits_on_diagnostics(world: BccWorld) -> None:
    target = world.contact()
    assert bcc.activate(world.runtime, world.rep).active
    with unit_of_work(world.runtime.sessions) as session:
        row = session.scalars(
            select(SalesforceConnection).where(SalesforceConnection.user_id == world.rep.id)
        ).one()
        row.status = ConnectionStatus.DISCONNECTED
    _call(world, str(target["Id"]))
    drain(world.runtime)
    assert world.sandbox.tasks() == []
    [entry] = world.diagnostics()
    assert entry.code == "NOT_CONNECTED"
    assert "also in BCC mode" in entry.message and "connect" in entry.message
    with world.runtime.sessions() as session:
        assert [i.status for i in session.scalars(select(OutboxItem))] == [OutboxStatus.PAUSED]


def test_in_bcc_mode_with_log_calls_off_no_call_is_queued(world: BccWorld) -> None:
    assert bcc.activate(world.runtime, world.rep).active
    world.save(world.rep, log_calls=False)
    _call(world, str(world.contact()["Id"]))
    assert world.outbox_kinds() == []
