"""The People timeline and the Activity page: who sees what, Salesforce states and links."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import activities, people, tasks
from salesync.serving import ServerThread
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    OutboxItem,
    OutboxStatus,
    Person,
    SalesforceConnection,
    SalesforceLink,
    User,
)
from tests.integration.web.web_support import Team2, browser_for
from tests.support import FakeClock

CONTACT_ID = "003000000000001AAA"
INSTANCE = "https://acme.my.salesforce.test"
ORG_ID = "00D000000000001AAA"


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


@pytest.fixture
def ada(runtime: Runtime, rep: User) -> Person:
    values = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.test"}
    return people.create_person(runtime, rep, values | {"sf_contact_id": CONTACT_ID})


def add_connection(runtime: Runtime, user: User, **fields: object) -> None:
    """A stored, connected Salesforce connection row (the pages read its org and address)."""
    now = runtime.clock.now()
    row = {
        "team_id": user.team_id,
        "user_id": user.id,
        "purpose": ConnectionPurpose.USER,
        "environment": "production",
        "login_url": INSTANCE,
        "instance_url": INSTANCE,
        "org_id": ORG_ID,
        "sf_user_id": "005000000000001AAA",
        "sf_username": user.email,
        "sf_email": user.email,
        "access_token_enc": runtime.secret_box.encrypt("token"),
        "status": ConnectionStatus.CONNECTED,
        "connected_at": now,
        "updated_at": now,
    }
    with unit_of_work(runtime.sessions) as session:
        session.add(SalesforceConnection(**(row | fields)))


def _send(runtime: Runtime, user: User, mailer: InMemoryMailer, to: str, subject: str) -> int:
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(email=to)], subject=subject, body_text="Hello"
    )
    return activities.send_email(runtime, user, draft, mailer)


def _mark_logged(runtime: Runtime, email_id: int, task_id: str) -> None:
    """What the worker does after creating the Task: link it and settle the outbox row."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        for item in session.query(OutboxItem).filter_by(subject_type="email", subject_id=email_id):
            outbox.mark_done(item, now=now)
        session.add(
            SalesforceLink(
                local_type="email",
                local_id=email_id,
                target_key="",
                org_id=ORG_ID,
                sobject="Task",
                sf_id=task_id,
                synced_at=now,
            )
        )


@pytest.fixture
def rep_browser(server: ServerThread, rep: User) -> Iterator[httpx.Client]:
    with browser_for(server, rep) as browser:
        yield browser


def test_people_list_links_each_person_to_their_timeline(
    ada: Person, rep_browser: httpx.Client
) -> None:
    html = rep_browser.get("/people").text
    assert f'<a href="/people/{ada.id}" class="person-link">Ada Lovelace</a>' in html


def test_person_timeline_shows_emails_calls_and_tasks_newest_first(
    runtime: Runtime,
    rep: User,
    ada: Person,
    clock: FakeClock,
    mailer: InMemoryMailer,
    rep_browser: httpx.Client,
) -> None:
    add_connection(runtime, rep)
    first = _send(runtime, rep, mailer, "ada@acme.test", "First touch")
    _mark_logged(runtime, first, "00T000000000001AAA")
    clock.advance(minutes=5)
    call = activities.CallDraft(person_id=ada.id, occurred_at=clock.now(), duration_seconds=75)
    activities.log_call(runtime, rep, call)
    clock.advance(minutes=5)
    tasks.create_task(runtime, rep, {"name": "Send the deck", "person_id": ada.id})

    html = rep_browser.get(f"/people/{ada.id}").text

    order = [html.index(text) for text in ("Send the deck", "Call with Ada", "First touch")]
    assert order == sorted(order)
    # The person's Salesforce id opens the record in the rep's org.
    assert f'href="{INSTANCE}/{CONTACT_ID}"' in html
    # The logged email links to its Task; the call waits for the worker.
    assert f'href="{INSTANCE}/00T000000000001AAA"' in html
    assert 'class="sync-state sync-logged"' in html and 'class="sync-state sync-pending"' in html
    assert "Only in salesync" in html  # task sync is off


def test_person_of_another_team_does_not_exist(
    runtime: Runtime, other_team: Team2, rep_browser: httpx.Client
) -> None:
    theirs = people.create_person(runtime, other_team.rep, {"email": "x@other.test"})
    assert rep_browser.get(f"/people/{theirs.id}").status_code == 404


def test_salesforce_ids_are_plain_text_until_the_rep_connects(
    ada: Person, rep_browser: httpx.Client
) -> None:
    html = rep_browser.get(f"/people/{ada.id}").text
    assert f"<code>{CONTACT_ID}</code>" in html
    assert f"/{CONTACT_ID}" not in html.replace(f"people/{ada.id}", "")
    assert "Connect Salesforce" in html


def test_activity_shows_a_rep_only_their_own_and_an_admin_the_team(
    runtime: Runtime,
    server: ServerThread,
    rep: User,
    admin: User,
    ada: Person,
    mailer: InMemoryMailer,
    rep_browser: httpx.Client,
) -> None:
    _send(runtime, rep, mailer, "ada@acme.test", "From the rep")
    _send(runtime, admin, mailer, "ada@acme.test", "From the admin")

    mine = rep_browser.get("/activity").text
    assert "From the rep" in mine and "From the admin" not in mine
    with browser_for(server, admin) as admin_browser:
        team = admin_browser.get("/activity").text
        only_rep = admin_browser.get(f"/activity?user={rep.id}").text
        calls_only = admin_browser.get("/activity?kind=call").text
    assert "From the rep" in team and "From the admin" in team
    assert "From the rep" in only_rep and "From the admin" not in only_rep
    assert "From the rep" not in calls_only
    assert f'<option value="{rep.id}" selected>' in only_rep


def test_a_failed_send_shows_as_not_sent_with_the_servers_answer(
    runtime: Runtime, rep: User, rep_browser: httpx.Client
) -> None:
    refusing = InMemoryMailer(refuse=["nobody@acme.test"])
    with pytest.raises(activities.SendFailed):
        _send(runtime, rep, refusing, "nobody@acme.test", "Bounced")
    html = rep_browser.get("/activity").text
    assert 'class="sync-state sync-send_failed"' in html
    assert "Mailbox unavailable" in html


def test_the_state_fragment_refreshes_one_item_and_hides_others(
    runtime: Runtime,
    server: ServerThread,
    rep: User,
    admin: User,
    mailer: InMemoryMailer,
    rep_browser: httpx.Client,
) -> None:
    add_connection(runtime, rep)
    email_id = _send(runtime, rep, mailer, "ada@acme.test", "Hello")
    before = rep_browser.get(f"/activity/state/email/{email_id}").text
    _mark_logged(runtime, email_id, "00T000000000009AAA")
    after = rep_browser.get(f"/activity/state/email/{email_id}").text

    assert 'data-state="pending"' in before
    assert 'data-state="logged"' in after and "00T000000000009AAA" in after
    admins_email = _send(runtime, admin, mailer, "ada@acme.test", "Admin's")
    assert rep_browser.get(f"/activity/state/email/{admins_email}").status_code == 404
    assert rep_browser.get(f"/activity/state/bogus/{email_id}").status_code == 404


def test_task_sync_failures_show_on_the_task(
    runtime: Runtime, rep: User, clock: FakeClock, rep_browser: httpx.Client
) -> None:
    task = tasks.create_task(runtime, rep, {"name": "Call back", "due_date": "2026-03-02"})
    with unit_of_work(runtime.sessions) as session:
        item = outbox.enqueue(
            session,
            team_id=rep.team_id,
            user_id=rep.id,
            kind="task_push",
            subject_type="reminder_task",
            subject_id=task.id,
            now=clock.now(),
        )
        outbox.mark_failed(item, now=clock.now(), code="ENTITY_IS_LOCKED", message="locked")
        assert item.status is OutboxStatus.FAILED
    html = rep_browser.get("/command-center").text
    assert 'class="sync-state sync-failed"' in html
    assert "Sync failed" in html
    assert "Mon, Mar 2" in html
