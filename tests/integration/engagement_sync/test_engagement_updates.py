"""Engagement on the email's Task and the Most Recent Activity roll-ups, against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from salesync.domain import tracking_tokens
from salesync.domain.tracking_tokens import TrackingToken
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import activities, engagement, sync_settings, templates
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    DiagnosticEntry,
    OutboxItem,
    OutboxStatus,
    Person,
    SentEmail,
    User,
)
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.engagement_updates import EngagementUpdateHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.support import FakeClock

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"


@pytest.fixture
def admin(runtime: Runtime) -> User:
    return add_user(runtime, "admin@example.com", admin=True)


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox, admin: User) -> User:
    user = add_user(runtime, "rep1@salesync.test", tz="America/Los_Angeles")
    connect(runtime, sandbox, user, "rep1")
    engagement.save_options(runtime, admin, tracking_enabled=True)
    return user


def people_for(runtime: Runtime, rep: User, rows: list[dict[str, Any]]) -> list[int]:
    now = runtime.clock.now()
    ids = []
    with unit_of_work(runtime.sessions) as session:
        for row in rows:
            person = Person(
                team_id=rep.team_id,
                owner_id=rep.id,
                first_name=row.get("FirstName") or "",
                last_name=row.get("LastName") or "",
                email=row["Email"],
                sf_account_id=row.get("AccountId"),
                created_at=now,
                updated_at=now,
            )
            session.add(person)
            session.flush()
            ids.append(person.id)
    return ids


def contacts(sandbox: Sandbox, count: int) -> list[dict[str, Any]]:
    rows = [dict(r) for r in sandbox.org.records.rows("Contact") if r.get("Email")]
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row["Email"].lower() not in seen:
            seen.add(row["Email"].lower())
            unique.append(row)
    return unique[:count]


def send_to(runtime: Runtime, rep: User, person_ids: list[int]) -> list[int]:
    mailer = InMemoryMailer()
    return [
        activities.send_email(
            runtime,
            rep,
            activities.EmailDraft(
                to=[activities.RecipientRef(person_id=p)],
                subject="Pricing",
                body_text="See https://acme.example/pricing",
            ),
            mailer,
        )
        for p in person_ids
    ]


def log_all(runtime: Runtime) -> None:
    Worker(runtime, [ActivityLoggingHandler(runtime)]).drain()


def update_all(runtime: Runtime) -> int:
    return Worker(runtime, [EngagementUpdateHandler(runtime)]).drain()


def open_email(runtime: Runtime, email_id: int, agent: str = BROWSER) -> None:
    token = tracking_tokens.sign(
        TrackingToken(tracking_tokens.OPEN, email_id), engagement.tracking_key(runtime)
    )
    assert engagement.record_event(runtime, token, kind="open", user_agent=agent, ip="") == ""


def click_email(runtime: Runtime, email_id: int) -> None:
    token = tracking_tokens.sign(
        TrackingToken(tracking_tokens.CLICK, email_id, 0), engagement.tracking_key(runtime)
    )
    url = engagement.record_event(runtime, token, kind="click", user_agent=BROWSER, ip="")
    assert url == "https://acme.example/pricing"


def task_of(sandbox: Sandbox, who_id: str) -> dict[str, Any]:
    [task] = [t for t in sandbox.tasks() if t.get("WhoId") == who_id]
    return task


def record(sandbox: Sandbox, sobject: str, record_id: str) -> dict[str, Any]:
    return dict(next(r for r in sandbox.org.records.rows(sobject) if r["Id"] == record_id))


def test_engagement_on_1000_emails_costs_at_most_5_calls_and_is_written_once(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    rows = contacts(sandbox, 1000)
    taken = {r["Email"].lower() for r in rows}
    for lead in sandbox.org.records.rows("Lead"):
        address = str(lead.get("Email") or "").lower()
        if len(rows) < 1000 and address and address not in taken and not lead["IsConverted"]:
            taken.add(address)
            rows.append(dict(lead))
    assert len(rows) == 1000
    email_ids = send_to(runtime, rep, people_for(runtime, rep, rows))
    log_all(runtime)
    live_clock.advance(minutes=5)
    for email_id in email_ids:
        open_email(runtime, email_id)
    live_clock.advance(seconds=engagement.COLLECT_DELAY.total_seconds() + 1)
    before = sandbox.api_calls()
    assert update_all(runtime) == 1000
    calls = sandbox.api_calls() - before
    assert calls <= 5
    first = task_of(sandbox, rows[0]["Id"])
    assert first["MSE_Viewed__c"] is True and first["MSE_Clicked__c"] is False
    assert first["MSE_Email_Status__c"] == "opened"
    assert first["MSE_Details__c"].endswith(f"/activity#email-{email_ids[0]}")
    contact = record(sandbox, "Contact", rows[0]["Id"])
    assert contact["Salesync_Last_Sales_Engagement__c"] == "Opened: Pricing"
    assert contact["Salesync_Last_Sales_Activity__c"] == "Email: Pricing"
    if rows[0].get("AccountId"):
        account = record(sandbox, "Account", rows[0]["AccountId"])
        assert account["Salesync_Last_Sales_Engagement__c"] == "Opened: Pricing"
    with runtime.sessions() as session:
        statuses = set(
            session.scalars(
                select(OutboxItem.status).where(OutboxItem.kind == engagement.ENGAGEMENT_UPDATE)
            )
        )
    assert statuses == {OutboxStatus.DONE}

    # A second open of one email changes only the roll-up dates: the Task is not written again.
    live_clock.advance(minutes=5)
    open_email(runtime, email_ids[0])
    live_clock.advance(seconds=30)
    task_before = task_of(sandbox, rows[0]["Id"])
    assert update_all(runtime) == 1
    assert task_of(sandbox, rows[0]["Id"])["LastModifiedDate"] == task_before["LastModifiedDate"]
    later = record(sandbox, "Contact", rows[0]["Id"])
    assert (
        later["Salesync_Last_Sales_Engagement_Date__c"]
        > contact["Salesync_Last_Sales_Engagement_Date__c"]
    )


def test_a_proxy_open_changes_nothing_in_salesforce(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    rows = contacts(sandbox, 1)
    [email_id] = send_to(runtime, rep, people_for(runtime, rep, rows))
    log_all(runtime)
    live_clock.advance(minutes=5)
    open_email(runtime, email_id, agent="Mozilla/5.0 (via ggpht.com GoogleImageProxy)")
    live_clock.advance(minutes=1)
    assert update_all(runtime) == 0
    assert task_of(sandbox, rows[0]["Id"])["MSE_Viewed__c"] is False


def test_clicks_and_replies_reach_the_task(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    rows = contacts(sandbox, 1)
    [email_id] = send_to(runtime, rep, people_for(runtime, rep, rows))
    log_all(runtime)
    live_clock.advance(minutes=5)
    click_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    task = task_of(sandbox, rows[0]["Id"])
    assert (task["MSE_Clicked__c"], task["MSE_Email_Status__c"]) == (True, "clicked")
    with runtime.sessions() as session:
        message_id = session.get(SentEmail, email_id).message_id  # type: ignore[union-attr]
    activities.record_reply(
        runtime,
        rep,
        activities.InboundReply(
            from_address=rows[0]["Email"],
            subject="Re: Pricing",
            body_text="Thanks",
            in_reply_to=message_id,
            message_id="<reply-1@acme.example>",
            received_at=live_clock.now(),
        ),
    )
    live_clock.advance(minutes=1)
    update_all(runtime)
    task = task_of(sandbox, rows[0]["Id"])
    assert (task["MSE_Replied__c"], task["MSE_Email_Status__c"]) == (True, "replied")
    assert record(sandbox, "Contact", rows[0]["Id"])["Salesync_Last_Replied__c"]


def test_each_rollup_switch_keeps_its_object_unwritten(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    rows = [r for r in contacts(sandbox, 50) if r.get("AccountId")][:1]
    with unit_of_work(runtime.sessions) as session:
        sync_settings.save_my_settings(
            session,
            session.merge(rep),
            {"rollup_contacts": False, "rollup_accounts": True},
            now=live_clock.now(),
        )
    [email_id] = send_to(runtime, rep, people_for(runtime, rep, rows))
    log_all(runtime)
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    assert record(sandbox, "Contact", rows[0]["Id"])["Salesync_Last_Sales_Activity__c"] is None
    account = record(sandbox, "Account", rows[0]["AccountId"])
    assert account["Salesync_Last_Sales_Activity__c"] == "Email: Pricing"


def _lead_only(sandbox: Sandbox) -> dict[str, Any]:
    contact_emails = {
        str(r.get("Email") or "").lower() for r in sandbox.org.records.rows("Contact")
    }
    return next(
        dict(r)
        for r in sandbox.org.records.rows("Lead")
        if r.get("Email") and not r.get("IsConverted") and r["Email"].lower() not in contact_emails
    )


@pytest.mark.parametrize("on", [True, False])
def test_the_lead_switch(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock, on: bool
) -> None:
    lead = _lead_only(sandbox)
    with unit_of_work(runtime.sessions) as session:
        sync_settings.save_my_settings(
            session, session.merge(rep), {"rollup_leads": on}, now=live_clock.now()
        )
    [email_id] = send_to(runtime, rep, people_for(runtime, rep, [lead]))
    log_all(runtime)
    assert task_of(sandbox, lead["Id"])  # the email was logged to the Lead either way
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    written = record(sandbox, "Lead", lead["Id"])["Salesync_Last_Sales_Engagement__c"]
    assert written == ("Opened: Pricing" if on else None)


@pytest.mark.parametrize("on", [True, False])
def test_the_opportunity_switch(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock, on: bool
) -> None:
    rows = contacts(sandbox, 1)
    opportunity = dict(next(iter(sandbox.org.records.rows("Opportunity"))))
    [person] = people_for(runtime, rep, rows)
    with unit_of_work(runtime.sessions) as session:
        session.get(Person, person).sf_opportunity_id = opportunity["Id"]  # type: ignore[union-attr]
        sync_settings.save_my_settings(
            session, session.merge(rep), {"rollup_opportunities": on}, now=live_clock.now()
        )
    [email_id] = send_to(runtime, rep, [person])
    log_all(runtime)
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    written = record(sandbox, "Opportunity", opportunity["Id"])["Salesync_Last_Sales_Activity__c"]
    assert written == ("Email: Pricing" if on else None)


def test_a_converted_lead_rolls_up_to_its_contact(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    lead = next(
        dict(r)
        for r in sandbox.org.records.rows("Lead")
        if r.get("Email") and not r.get("IsConverted")
    )
    [person] = people_for(runtime, rep, [lead])
    with unit_of_work(runtime.sessions) as session:
        session.get(Person, person).sf_lead_id = lead["Id"]  # type: ignore[union-attr]
    with unit_of_work(runtime.sessions) as session:
        sync_settings.save_my_settings(
            session, session.merge(rep), {"logging_mode": "off"}, now=live_clock.now()
        )
    [email_id] = send_to(runtime, rep, [person])
    converted = sandbox.control("POST", f"leads/{lead['Id']}/convert", {})
    contact_id = converted["contactId"]
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    assert record(sandbox, "Contact", contact_id)["Salesync_Last_Sales_Engagement__c"] == (
        "Opened: Pricing"
    )


def test_fields_the_rep_cannot_edit_are_skipped_and_reported(
    runtime: Runtime, sandbox: Sandbox, admin: User, live_clock: FakeClock
) -> None:
    rep = add_user(runtime, "readonly@salesync.test")
    connect(runtime, sandbox, rep, "readonly")
    engagement.save_options(runtime, admin, tracking_enabled=True)
    rows = contacts(sandbox, 1)
    [email_id] = send_to(runtime, rep, people_for(runtime, rep, rows))
    log_all(runtime)
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    with runtime.sessions() as session:
        entry = session.scalars(
            select(DiagnosticEntry).where(DiagnosticEntry.code == "ENGAGEMENT_FIELDS_SKIPPED")
        ).one()
    assert "Task.MSE_Viewed__c" in entry.detail["fields"]
    contact = record(sandbox, "Contact", rows[0]["Id"])
    assert contact["Salesync_Last_Sales_Engagement__c"] == "Opened: Pricing"


def test_insufficient_access_on_a_rollup_record_lands_on_diagnostics(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    rows = [r for r in contacts(sandbox, 50) if r.get("AccountId")][:1]
    sandbox.control(
        "PUT",
        "users/rep1@sandbox.salesync.test/permissions",
        {"readOnlyRecords": [rows[0]["AccountId"]]},
    )
    [email_id] = send_to(runtime, rep, people_for(runtime, rep, rows))
    log_all(runtime)
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    with runtime.sessions() as session:
        entry = session.scalars(
            select(DiagnosticEntry).where(DiagnosticEntry.code == "INSUFFICIENT_ACCESS_OR_READONLY")
        ).one()
    assert entry.item_type == "email" and entry.item_id == email_id
    assert entry.detail["sobject"] == "Account"
    assert "edit access" in entry.detail["fix"]
    assert task_of(sandbox, rows[0]["Id"])["MSE_Viewed__c"] is True


def test_the_task_names_the_template_and_links_to_it(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    rows = contacts(sandbox, 1)
    [person] = people_for(runtime, rep, rows)
    template = templates.save_template(
        runtime, rep, name="Intro v2", subject="Hi {{first_name}}", body="https://acme.example/x"
    )
    email_id = templates.send_from_template(runtime, rep, template.id, person, InMemoryMailer())
    log_all(runtime)
    task = task_of(sandbox, rows[0]["Id"])
    assert task["MSE_Template__c"] == "Intro v2"
    assert task["Subject"] == f"Email: Hi {rows[0]['FirstName']}"
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    update_all(runtime)
    task = task_of(sandbox, rows[0]["Id"])
    assert task["MSE_Template_Details__c"].endswith(f"/templates#template-{template.id}")


def test_an_email_not_logged_yet_waits_and_an_unmatched_one_does_not(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    rows = contacts(sandbox, 1)
    [email_id] = send_to(runtime, rep, people_for(runtime, rep, rows))
    live_clock.advance(minutes=5)
    open_email(runtime, email_id)
    live_clock.advance(minutes=1)
    assert update_all(runtime) == 1  # the Task is not logged yet: the update waits for it
    with runtime.sessions() as session:
        waiting = session.scalars(
            select(OutboxItem).where(OutboxItem.kind == engagement.ENGAGEMENT_UPDATE)
        ).one()
    assert waiting.status is OutboxStatus.PENDING
    log_all(runtime)
    live_clock.advance(minutes=1)
    update_all(runtime)
    assert task_of(sandbox, rows[0]["Id"])["MSE_Viewed__c"] is True

    [unmatched] = send_to(runtime, rep, people_for(runtime, rep, [{"Email": "x@nowhere.example"}]))
    log_all(runtime)  # no record matches: the logging item fails to Diagnostics
    live_clock.advance(minutes=5)
    open_email(runtime, unmatched)
    live_clock.advance(minutes=1)
    update_all(runtime)
    with runtime.sessions() as session:
        items = session.scalars(
            select(OutboxItem).where(
                OutboxItem.kind == engagement.ENGAGEMENT_UPDATE,
                OutboxItem.subject_id == unmatched,
            )
        ).all()
    assert [item.status for item in items] == [OutboxStatus.DONE]
