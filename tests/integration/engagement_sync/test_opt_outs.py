"""Unsubscribes reach Salesforce at once, and opt-outs set there come back once a day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from salesync.domain import tracking_tokens
from salesync.domain.tracking_tokens import TrackingToken
from salesync.errors import InvalidInput
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.sandbox.objects import CustomFieldSpec
from salesync.services import activities, engagement, sync_settings, unsubscribes
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    DiagnosticEntry,
    EngagementSettings,
    OptOut,
    OutboxItem,
    Person,
    SentEmail,
    User,
)
from salesync.sync.opt_outs import OptOutPullJob, OptOutPushHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, build_runtime, connect
from tests.support import FakeClock


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    add_user(runtime, "admin@example.com", admin=True)
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


def person_for(runtime: Runtime, rep: User, email: str, **ids: str | None) -> int:
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        person = Person(
            team_id=rep.team_id,
            owner_id=rep.id,
            first_name="Pat",
            last_name="Prospect",
            email=email,
            created_at=now,
            updated_at=now,
            **ids,
        )
        session.add(person)
        session.flush()
        return person.id


def first(sandbox: Sandbox, sobject: str, **where: Any) -> dict[str, Any]:
    return dict(
        next(
            r
            for r in sandbox.org.records.rows(sobject)
            if r.get("Email") and all(r.get(k) == v for k, v in where.items())
        )
    )


def record(sandbox: Sandbox, sobject: str, record_id: str) -> dict[str, Any]:
    return dict(next(r for r in sandbox.org.records.rows(sobject) if r["Id"] == record_id))


def send(runtime: Runtime, rep: User, person: int) -> int:
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(person_id=person)], subject="Hello", body_text="Hi"
    )
    return activities.send_email(runtime, rep, draft, InMemoryMailer())


def unsubscribe_from(runtime: Runtime, email_id: int) -> None:
    with runtime.sessions() as session:
        recipient_id = session.get(SentEmail, email_id).recipients[0].id  # type: ignore[union-attr]
    token = tracking_tokens.sign(
        TrackingToken(tracking_tokens.UNSUBSCRIBE, email_id, recipient_id),
        engagement.tracking_key(runtime),
    )
    assert unsubscribes.unsubscribe_by_token(runtime, token, one_click=True)


def push(runtime: Runtime) -> int:
    return Worker(runtime, [OptOutPushHandler(runtime)]).drain()


def test_the_opt_out_is_pushed_at_once_even_with_logging_off(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    contact = first(sandbox, "Contact")
    lead = first(sandbox, "Lead", IsConverted=False)
    person = person_for(
        runtime, rep, contact["Email"], sf_contact_id=contact["Id"], sf_lead_id=lead["Id"]
    )
    with unit_of_work(runtime.sessions) as session:
        sync_settings.save_my_settings(
            session, session.merge(rep), {"logging_mode": "off"}, now=runtime.clock.now()
        )
    email_id = send(runtime, rep, person)
    unsubscribe_from(runtime, email_id)
    before = sandbox.api_calls()
    assert push(runtime) == 1
    assert sandbox.api_calls() - before == 1  # Contact and Lead in one composite call
    assert record(sandbox, "Contact", contact["Id"])["HasOptedOutOfEmail"] is True
    assert record(sandbox, "Lead", lead["Id"])["HasOptedOutOfEmail"] is True
    with pytest.raises(InvalidInput, match="unsubscribed"):
        send(runtime, rep, person)


def test_the_admin_may_choose_a_custom_opt_out_field(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    sandbox.org.add_custom_field(CustomFieldSpec("Contact", "Sales_Opt_Out__c", "checkbox"))
    with runtime.sessions() as session:
        admin = session.scalars(select(User).where(User.email == "admin@example.com")).one()
        session.expunge(admin)
    engagement.save_options(runtime, admin, opt_out_field="Sales_Opt_Out__c")
    contact = first(sandbox, "Contact")
    person = person_for(runtime, rep, contact["Email"], sf_contact_id=contact["Id"])
    unsubscribes.unsubscribe_person(runtime, rep, person)
    push(runtime)
    pushed = record(sandbox, "Contact", contact["Id"])
    assert (pushed["Sales_Opt_Out__c"], pushed["HasOptedOutOfEmail"]) == (True, False)


def test_a_person_without_a_salesforce_id_is_reported_not_pushed(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    person = person_for(runtime, rep, "nobody@unknown.example")
    unsubscribes.unsubscribe_person(runtime, rep, person)
    with runtime.sessions() as session:
        entry = session.scalars(select(DiagnosticEntry)).one()
        assert session.scalars(select(OutboxItem)).all() == []
    assert entry.code == "OPT_OUT_NO_SALESFORCE_ID"
    assert "nobody@unknown.example" in entry.message
    with pytest.raises(InvalidInput, match="unsubscribed"):
        send(runtime, rep, person)


def test_the_daily_pull_follows_the_sandbox_clock(
    engine: Engine, sandbox: Sandbox, tmp_path: Path, live_clock: FakeClock
) -> None:
    runtime = build_runtime(engine, sandbox, tmp_path, live_clock)
    runtime.clock = sandbox.org.clock  # the worker runs on the sandbox's time
    sandbox.control("POST", "clock", {"freeze": True})
    admin = add_user(runtime, "admin@example.com", admin=True)
    rep = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, rep, "rep1")
    opted, stays = [r for r in sandbox.org.records.rows("Contact") if r.get("Email")][:2]
    sandbox.control("PATCH", f"records/{opted['Id']}", {"fields": {"HasOptedOutOfEmail": True}})
    person = person_for(runtime, rep, opted["Email"], sf_contact_id=opted["Id"])
    person_for(runtime, rep, stays["Email"], sf_contact_id=stays["Id"])
    person_for(runtime, rep, "no-id@unknown.example")
    # The team pulls at a time two minutes from now (Los Angeles time); it pulled yesterday.
    now = sandbox.org.clock.now()
    at = (now + timedelta(minutes=2)).astimezone(ZoneInfo("America/Los_Angeles"))
    engagement.save_options(runtime, admin, opt_out_pull_time=at.strftime("%H:%M"))
    with unit_of_work(runtime.sessions) as session:
        row = session.get(EngagementSettings, admin.team_id)
        assert row is not None and row.opt_out_pull_zone == "America/Los_Angeles"
        row.opt_out_pulled_at = now - timedelta(hours=1)
    job = OptOutPullJob(runtime)
    before = sandbox.api_calls()
    assert job.pull_team(admin.team_id) == 0
    assert sandbox.api_calls() == before  # not due yet: nothing asked
    sandbox.control("POST", "clock", {"advanceSeconds": 180})
    assert job.pull_team(admin.team_id) == 1
    with runtime.sessions() as session:
        [row] = session.scalars(select(OptOut)).all()
        report = session.scalars(
            select(DiagnosticEntry).where(DiagnosticEntry.code == "OPT_OUT_NO_SALESFORCE_ID")
        ).one()
    assert (row.address, row.source) == (opted["Email"], "salesforce")
    assert "no-id@unknown.example" in report.message
    with pytest.raises(InvalidInput, match="in Salesforce"):
        send(runtime, rep, person)
    # Pulled for today: later rounds the same evening ask nothing, and nothing is pushed back.
    calls = sandbox.api_calls()
    sandbox.control("POST", "clock", {"advanceSeconds": 600})
    assert job.pull_team(admin.team_id) == 0
    assert sandbox.api_calls() == calls
    with runtime.sessions() as session:
        assert (
            session.scalars(select(OutboxItem).where(OutboxItem.kind == "opt_out_push")).all() == []
        )


def test_a_converted_lead_does_not_fail_the_push_when_its_contact_took_it(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    lead = first(sandbox, "Lead", IsConverted=False)
    converted = sandbox.control("POST", f"leads/{lead['Id']}/convert", {})
    person = person_for(
        runtime, rep, lead["Email"], sf_contact_id=converted["contactId"], sf_lead_id=lead["Id"]
    )
    unsubscribes.unsubscribe_person(runtime, rep, person)
    push(runtime)
    assert record(sandbox, "Contact", converted["contactId"])["HasOptedOutOfEmail"] is True
    with runtime.sessions() as session:
        [item] = session.scalars(select(OutboxItem)).all()
        assert item.status.value == "done"
        assert session.scalars(select(DiagnosticEntry)).all() == []
