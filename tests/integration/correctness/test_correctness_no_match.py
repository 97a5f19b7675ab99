"""No Lead or Contact matches: "create lead" and "log unassigned", end to end."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.services import sync_settings
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, OutboxItem, OutboxStatus, User
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.integration.logging.test_logging_api import drain, send


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


def _rule(runtime: Runtime, rep: User, rule: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        user = session.get(User, rep.id)
        assert user is not None
        sync_settings.save_my_settings(
            session, user, {"no_match_rule": rule}, now=runtime.clock.now()
        )


def _leads(sandbox: Sandbox, address: str) -> list[dict[str, object]]:
    return [dict(r) for r in sandbox.org.records.rows("Lead") if r.get("Email") == address]


def test_create_lead_makes_one_lead_and_logs_to_it(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    _rule(runtime, rep, "create_lead")
    send(runtime, rep, ["new.person@fresh-prospect.example"], subject="First touch")
    send(runtime, rep, ["new.person@fresh-prospect.example"], subject="Second touch")
    drain(runtime)
    [lead] = _leads(sandbox, "new.person@fresh-prospect.example")
    subjects = sorted(t["Subject"] for t in sandbox.tasks() if t["WhoId"] == lead["Id"])
    assert subjects == ["Email: First touch", "Email: Second touch"]
    with runtime.sessions() as session:
        assert {i.status for i in session.scalars(select(OutboxItem))} == {OutboxStatus.DONE}


def test_a_refused_lead_create_keeps_salesforces_code_and_message(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    sandbox.control(
        "POST",
        "validation-rules",
        {
            "sobject": "Lead",
            "field": "Company",
            "pattern": r"^\[not provided\]$",
            "message": "Company is required on every Lead.",
            "errorField": "Company",
        },
    )
    _rule(runtime, rep, "create_lead")
    send(runtime, rep, ["no.company@fresh-prospect.example"])
    drain(runtime)
    assert _leads(sandbox, "no.company@fresh-prospect.example") == []
    assert sandbox.tasks() == []
    with runtime.sessions() as session:
        [item] = session.scalars(select(OutboxItem)).all()
        assert item.status is OutboxStatus.FAILED
        [entry] = session.scalars(
            select(DiagnosticEntry).where(DiagnosticEntry.resolved_at.is_(None))
        ).all()
    assert (entry.code, entry.category) == ("LEAD_NOT_CREATED", "access_validation")
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in entry.message
    assert "Company is required on every Lead." in entry.message
    assert entry.detail["salesforce_code"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"


def test_log_unassigned_makes_a_task_with_no_lead_or_contact(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    _rule(runtime, rep, "log_unassigned")
    send(runtime, rep, ["nobody@fresh-prospect.example"], subject="Cold")
    drain(runtime)
    [task] = sandbox.tasks()
    assert (task["Subject"], task.get("WhoId"), task.get("WhatId")) == ("Email: Cold", None, None)
    assert "To: nobody@fresh-prospect.example" in task["Description"]
    with runtime.sessions() as session:
        assert [i.status for i in session.scalars(select(OutboxItem))] == [OutboxStatus.DONE]


def test_two_batches_of_one_rep_running_at_once_create_one_lead_per_address(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    """A backlog of over a batch: the worker runs two of the rep's batches at once, and only
    one of them at a time finds its targets, so the second sees the first's new Lead."""
    _rule(runtime, rep, "create_lead")
    for touch in range(4):
        send(runtime, rep, ["new.person@fresh-prospect.example"], subject=f"Touch {touch}")
    # Every call slow: unserialised, both batches would look up before either made its Lead.
    sandbox.control("POST", "faults", {"method": "*", "path": "^/services/data/", "latencyMs": 150})
    handler = ActivityLoggingHandler(runtime, max_batch=2)
    worker = Worker(runtime, [handler])
    try:
        assert worker.run_once() == 4  # two batches of two, at once
    finally:
        worker.close()
    [lead] = _leads(sandbox, "new.person@fresh-prospect.example")
    subjects = sorted(t["Subject"] for t in sandbox.tasks() if t["WhoId"] == lead["Id"])
    assert subjects == [f"Email: Touch {touch}" for touch in range(4)]
