"""Logging emails, replies and calls to the sandbox org through the API (issue: API logging)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import activities, sync_settings
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, OutboxItem, OutboxStatus, Person, User
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_person, add_user, connect


def drain(runtime: Runtime) -> int:
    return Worker(runtime, [ActivityLoggingHandler(runtime)]).drain()


def contact(sandbox: Sandbox, index: int = 0) -> dict[str, Any]:
    rows = [r for r in sandbox.org.records.rows("Contact") if r.get("Email")]
    return dict(rows[index])


def send(
    runtime: Runtime,
    user: User,
    to: Sequence[int | str],
    subject: str = "Hello",
    body: str = "Hi there",
    cc: Sequence[int | str] = (),
) -> int:
    def ref(value: int | str) -> activities.RecipientRef:
        return (
            activities.RecipientRef(person_id=value)
            if isinstance(value, int)
            else activities.RecipientRef(email=value)
        )

    draft = activities.EmailDraft(
        to=[ref(v) for v in to], cc=[ref(v) for v in cc], subject=subject, body_text=body
    )
    return activities.send_email(runtime, user, draft, InMemoryMailer())


def tasks_for(sandbox: Sandbox, who_id: str) -> list[dict[str, Any]]:
    return [t for t in sandbox.tasks() if t.get("WhoId") == who_id]


def open_diagnostics(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(DiagnosticEntry).where(DiagnosticEntry.resolved_at.is_(None)))
        return sorted((row.code, row.category) for row in rows)


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    admin = add_user(runtime, "admin@example.com", admin=True)
    del admin
    user = add_user(runtime, "rep1@salesync.test", tz="America/Los_Angeles")
    connect(runtime, sandbox, user, "rep1")
    return user


def test_email_to_a_known_contact_becomes_one_completed_email_task(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    target = contact(sandbox)
    person = add_person(runtime, rep, target["Email"])
    send(runtime, rep, [person], subject="Pricing follow-up", body="Here are the numbers.")
    assert drain(runtime) == 1
    [task] = tasks_for(sandbox, target["Id"])
    assert task["Subject"] == "Email: Pricing follow-up"
    assert task["TaskSubtype"] == "Email"
    assert task["Type"] == "Email"
    assert task["Status"] == "Completed"
    assert task["IsClosed"] is True
    assert task["OwnerId"] == sandbox.org.user_id("rep1@sandbox.salesync.test")
    assert "Here are the numbers." in task["Description"]
    assert f"To: {target['Email']}" in task["Description"]
    assert task["Salesync_Activity_Id__c"].startswith("salesync:email:")
    with runtime.sessions() as session:
        assert {i.status for i in session.scalars(select(OutboxItem))} == {OutboxStatus.DONE}


def test_stored_salesforce_id_wins_over_email_and_unknown_address_is_matched_by_email(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    by_id, by_email = contact(sandbox, 1), contact(sandbox, 2)
    person = add_person(runtime, rep, "someone.else@example.org", sf_contact_id=by_id["Id"])
    send(runtime, rep, [person, by_email["Email"]])
    drain(runtime)
    assert len(tasks_for(sandbox, by_id["Id"])) == 1
    assert len(tasks_for(sandbox, by_email["Email"] and by_email["Id"])) == 1


def test_contact_wins_over_lead_with_the_same_address(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    contacts = {
        str(r["Email"]).lower(): r for r in sandbox.org.records.rows("Contact") if r.get("Email")
    }
    lead = next(
        r
        for r in sandbox.org.records.rows("Lead")
        if str(r.get("Email") or "").lower() in contacts and not r.get("IsConverted")
    )
    send(runtime, rep, [lead["Email"]])
    drain(runtime)
    assert tasks_for(sandbox, lead["Id"]) == []
    assert len(tasks_for(sandbox, contacts[str(lead["Email"]).lower()]["Id"])) == 1


def test_converted_lead_resolves_to_its_contact(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    lead = next(r for r in sandbox.org.records.rows("Lead") if r.get("IsConverted"))
    person = add_person(runtime, rep, None, sf_lead_id=lead["Id"])
    with unit_of_work(runtime.sessions) as session:
        p = session.get(Person, person)
        assert p is not None
        p.email = "changed.address@example.org"
    send(runtime, rep, [person])
    drain(runtime)
    assert tasks_for(sandbox, lead["Id"]) == []
    assert len(tasks_for(sandbox, lead["ConvertedContactId"])) == 1


def test_unmatched_email_waits_on_diagnostics_and_logs_once_an_id_appears(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    person = add_person(runtime, rep, "nobody.known@nowhere.example")
    send(runtime, rep, [person])
    drain(runtime)
    assert ("NO_MATCHING_RECORD", "unmatched") in open_diagnostics(runtime)
    target = contact(sandbox, 5)
    with unit_of_work(runtime.sessions) as session:
        p = session.get(Person, person)
        assert p is not None
        p.sf_contact_id = target["Id"]
        assert activities.requeue_for_person(session, person, now=runtime.clock.now()) == 1
    drain(runtime)
    assert len(tasks_for(sandbox, target["Id"])) == 1
    assert open_diagnostics(runtime) == []


def test_call_logs_by_salesforce_id_only(runtime: Runtime, sandbox: Sandbox, rep: User) -> None:
    target = contact(sandbox, 3)
    without_id = add_person(runtime, rep, target["Email"])
    with_id = add_person(runtime, rep, None, sf_contact_id=target["Id"])
    admin = add_user(runtime, "boss@example.com", admin=True)
    activities.set_call_choices(runtime, admin, "outcome", ["Connected", "Voicemail"])
    now = runtime.clock.now()
    activities.log_call(runtime, rep, activities.CallDraft(without_id, now, 60))
    activities.log_call(
        runtime,
        rep,
        activities.CallDraft(with_id, now, 125, outcome="Connected", notes="Discussed renewal"),
    )
    drain(runtime)
    [task] = tasks_for(sandbox, target["Id"])
    assert task["TaskSubtype"] == "Call"
    assert task["Type"] == "Call"
    assert task["CallDurationInSeconds"] == 125
    assert task["mktosales_call_outcome__c"] == "Connected"
    assert "Discussed renewal" in task["Description"]
    assert ("NO_SALESFORCE_ID", "unmatched") in open_diagnostics(runtime)


def test_opportunities_all_open_logs_one_task_per_opportunity(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    roles: dict[str, list[str]] = {}
    opportunities = {r["Id"]: r for r in sandbox.org.records.rows("Opportunity")}
    for role in sandbox.org.records.rows("OpportunityContactRole"):
        if not opportunities[role["OpportunityId"]].get("IsClosed"):
            roles.setdefault(role["ContactId"], []).append(role["OpportunityId"])
    contact_id, open_ids = max(roles.items(), key=lambda item: len(item[1]))
    record = sandbox.org.records.get(contact_id)
    assert record is not None
    with unit_of_work(runtime.sessions) as session:
        user = session.get(User, rep.id)
        assert user is not None
        sync_settings.save_my_settings(
            session, user, {"opportunity_mode": "all_open"}, now=runtime.clock.now()
        )
    send(runtime, rep, [str(record["Email"])])
    drain(runtime)
    tasks = tasks_for(sandbox, contact_id)
    assert sorted(t["WhatId"] for t in tasks) == sorted(set(open_ids))


def test_not_connected_rep_keeps_items_paused_until_connected(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    user = add_user(runtime, "rep2@salesync.test")
    target = contact(sandbox, 7)
    send(runtime, user, [target["Email"]])
    drain(runtime)
    assert ("NOT_CONNECTED", "authentication") in open_diagnostics(runtime)
    with runtime.sessions() as session:
        assert {i.status for i in session.scalars(select(OutboxItem))} == {OutboxStatus.PAUSED}
    connect(runtime, sandbox, user, "rep2")
    from salesync.store import outbox

    with unit_of_work(runtime.sessions) as session:
        outbox.resume_user(session, user.id, now=runtime.clock.now())
    drain(runtime)
    assert len(tasks_for(sandbox, target["Id"])) == 1
