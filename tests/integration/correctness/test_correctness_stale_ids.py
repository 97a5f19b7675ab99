"""A stored Salesforce id of a deleted or merged record: emails fall back, calls explain."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.services import activities
from salesync.store.tables import DiagnosticEntry, OutboxItem, OutboxStatus, User
from tests.fixtures_sandbox import Sandbox, add_person, add_user, connect
from tests.integration.logging.test_logging_api import drain, send, tasks_for


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


def _merged(sandbox: Sandbox) -> tuple[str, str]:
    """Two Contacts with one address; the first is deleted as a merge deletes the loser."""
    loser = sandbox.org.create_record("Contact", {"LastName": "Old", "Email": "sam@merge.example"})
    kept = sandbox.org.create_record("Contact", {"LastName": "Kept", "Email": "sam@merge.example"})
    sandbox.org.delete_record(loser)
    return loser, kept


def test_an_email_to_a_deleted_contact_id_falls_back_to_the_address(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    loser, kept = _merged(sandbox)
    person = add_person(runtime, rep, "sam@merge.example", sf_contact_id=loser)
    send(runtime, rep, [person], subject="After the merge")
    drain(runtime)
    assert tasks_for(sandbox, loser) == []
    [task] = tasks_for(sandbox, kept)
    assert task["Subject"] == "Email: After the merge"
    with runtime.sessions() as session:
        assert [i.status for i in session.scalars(select(OutboxItem))] == [OutboxStatus.DONE]


def test_a_call_to_a_deleted_contact_id_waits_on_diagnostics_with_the_fix(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    loser, _kept = _merged(sandbox)
    person = add_person(runtime, rep, "sam@merge.example", sf_contact_id=loser)
    activities.log_call(
        runtime, rep, activities.CallDraft(person, runtime.clock.now(), 60, notes="Left a message")
    )
    drain(runtime)
    assert sandbox.tasks() == []  # never logged to the address: calls go by id only
    with runtime.sessions() as session:
        [item] = session.scalars(select(OutboxItem)).all()
        assert item.status is OutboxStatus.FAILED
        [entry] = session.scalars(
            select(DiagnosticEntry).where(DiagnosticEntry.resolved_at.is_(None))
        ).all()
    assert (entry.code, entry.category) == ("STALE_SALESFORCE_ID", "access_validation")
    assert loser in entry.message and "deleted, or merged" in entry.message
    assert "surviving record" in str(entry.detail["fix"])
