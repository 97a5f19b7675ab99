"""The Command Center page: tasks by due filter in the rep's zone, worked in place with forms,
and sending email and logging calls from it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from salesync.domain.reminder_mapping import ReminderStatus
from salesync.domain.settings import TaskSyncMode
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import activities, people, task_sync, tasks
from salesync.serving import ServerThread
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, User
from tests.integration.web.test_web_work_activity import add_connection
from tests.integration.web.web_support import browser_for, csrf_from
from tests.support import FakeClock


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


@pytest.fixture
def rep_browser(server: ServerThread, rep: User) -> Iterator[httpx.Client]:
    with browser_for(server, rep) as browser:
        yield browser


def _set_zone(runtime: Runtime, user: User, zone: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        session.merge(user).time_zone = zone
    user.time_zone = zone


def _task(runtime: Runtime, user: User, name: str, due: dt.date | None, **more: object) -> int:
    values: dict[str, object] = {"name": name, "due_date": due.isoformat() if due else None}
    return tasks.create_task(runtime, user, values | more).id


def _post(browser: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_from(browser.get("/command-center").text)
    return browser.post(path, data={"csrf_token": token, **data})


def test_tasks_due_today_and_tomorrow_in_the_reps_zone(
    runtime: Runtime, rep: User, admin: User, clock: FakeClock, rep_browser: httpx.Client
) -> None:
    # 15:30 UTC on 2 March is 02:30 on 3 March in Auckland: "today" is the 3rd there.
    _set_zone(runtime, rep, "Pacific/Auckland")
    today = dt.date(2026, 3, 3)
    _task(runtime, rep, "Call Ada back", today)
    _task(runtime, rep, "Send the proposal", today + dt.timedelta(days=1))
    _task(runtime, rep, "Quarterly review", today + dt.timedelta(days=5))
    _task(runtime, rep, "Yesterday's follow-up", today - dt.timedelta(days=1))
    _task(runtime, admin, "The admin's own task", today)

    default = rep_browser.get("/command-center").text
    week = rep_browser.get("/command-center?filter=next_7_days").text
    tomorrow = rep_browser.get("/command-center?filter=tomorrow").text

    assert "Call Ada back" in default and "Send the proposal" in default
    assert "Quarterly review" not in default and "Yesterday&#39;s follow-up" not in default
    assert "The admin&#39;s own task" not in default
    assert "Quarterly review" in week
    assert "Send the proposal" in tomorrow and "Call Ada back" not in tomorrow
    assert "Pacific/Auckland" in default


def test_complete_reopen_edit_and_delete_in_place(
    runtime: Runtime, rep: User, clock: FakeClock, rep_browser: httpx.Client
) -> None:
    task_id = _task(runtime, rep, "Call Ada back", clock.now().date())

    done = _post(rep_browser, f"/command-center/tasks/{task_id}/complete", {"filter": "today"})
    assert done.status_code == 303
    assert done.headers["location"] == "/command-center?filter=today#tasks"
    assert tasks.get_task(runtime, rep, task_id).status is ReminderStatus.COMPLETE
    page = rep_browser.get("/command-center?filter=today").text
    assert "Completed “Call Ada back”." in page
    assert f'action="/command-center/tasks/{task_id}/reopen"' in page

    _post(rep_browser, f"/command-center/tasks/{task_id}/reopen", {})
    assert tasks.get_task(runtime, rep, task_id).status is ReminderStatus.OPEN

    edit = {"name": "Call Ada at 4", "due_date": "2026-03-03", "priority": "High", "details": "x"}
    _post(rep_browser, f"/command-center/tasks/{task_id}/edit", edit)
    edited = tasks.get_task(runtime, rep, task_id)
    assert (edited.name, edited.due_date, edited.priority.value) == (
        "Call Ada at 4",
        dt.date(2026, 3, 3),
        "High",
    )

    _post(rep_browser, f"/command-center/tasks/{task_id}/delete", {})
    page = rep_browser.get("/command-center?filter=next_7_days").text
    assert "Deleted “Call Ada at 4”." in page
    assert f'id="task-{task_id}"' not in page


def test_new_task_form_creates_and_refuses_with_the_reason(
    runtime: Runtime, rep: User, rep_browser: httpx.Client
) -> None:
    person = people.create_person(runtime, rep, {"first_name": "Ada", "email": "ada@acme.test"})
    form = {"name": "Prepare demo", "person_id": str(person.id), "due_date": "2026-03-02"}
    created = _post(rep_browser, "/command-center/tasks", form | {"priority": "High"})
    assert created.status_code == 303
    page = rep_browser.get("/command-center").text
    assert "Prepare demo" in page and f'href="/people/{person.id}"' in page

    refused = _post(rep_browser, "/command-center/tasks", {"name": "  ", "details": "kept"})
    assert refused.status_code == 422
    assert "A task needs a name" in refused.text
    assert 'role="alert" id="task-problem"' in refused.text
    assert ">kept</textarea>" in refused.text


def test_a_form_without_the_csrf_token_changes_nothing(
    runtime: Runtime, rep: User, clock: FakeClock, rep_browser: httpx.Client
) -> None:
    task_id = _task(runtime, rep, "Call Ada back", clock.now().date())
    del rep_browser.headers["X-CSRF-Token"]  # a plain form post, without the hidden field
    answer = rep_browser.post(f"/command-center/tasks/{task_id}/complete", data={})
    assert answer.status_code == 403
    assert tasks.get_task(runtime, rep, task_id).status is ReminderStatus.OPEN


def test_another_reps_task_cannot_be_touched(
    runtime: Runtime, admin: User, clock: FakeClock, rep_browser: httpx.Client
) -> None:
    task_id = _task(runtime, admin, "Admin only", clock.now().date())
    answer = _post(rep_browser, f"/command-center/tasks/{task_id}/delete", {})
    assert answer.status_code == 404
    assert tasks.get_task(runtime, admin, task_id).deleted_at is None


def test_sending_an_email_lists_it_with_its_salesforce_state(
    runtime: Runtime, rep: User, rep_browser: httpx.Client, mailer: InMemoryMailer
) -> None:
    people.create_person(runtime, rep, {"first_name": "Ada", "email": "ada@acme.test"})
    form = {"to": "ada@acme.test", "cc": "", "subject": "Our call", "body": "Thanks, Ada."}
    sent = _post(rep_browser, "/command-center/emails", form)
    assert sent.status_code == 303
    assert [r.email.to for r in mailer.sent] == [["ada@acme.test"]]
    page = rep_browser.get("/command-center").text
    assert "Sent “Our call”." in page
    # Not connected: kept waiting, with the reason (CONN-3).
    assert 'class="sync-state sync-pending"' in page
    assert "connect your Salesforce account" in page


def test_a_bad_address_is_refused_inside_the_email_form(
    rep_browser: httpx.Client, mailer: InMemoryMailer
) -> None:
    form = {"to": "not an address", "subject": "Hello", "body": "Hi"}
    refused = _post(rep_browser, "/command-center/emails", form)
    assert refused.status_code == 422
    assert 'id="email-problem"' in refused.text
    assert 'value="Hello"' in refused.text
    assert mailer.sent == []


def test_logging_a_call_with_the_teams_outcomes(
    runtime: Runtime, rep: User, admin: User, rep_browser: httpx.Client
) -> None:
    activities.set_call_choices(runtime, admin, "outcome", ["Connected", "Voicemail"])
    person = people.create_person(runtime, rep, {"first_name": "Ada", "email": "ada@acme.test"})
    page = rep_browser.get(f"/command-center?person={person.id}").text
    assert "<option>Voicemail</option>" in page
    assert f'<option value="{person.id}" selected>' in page

    form = {
        "person_id": str(person.id),
        "occurred_at": "2026-03-02T09:15",
        "minutes": "4",
        "seconds": "30",
        "outcome": "Connected",
        "notes": "Wants a demo",
    }
    assert _post(rep_browser, "/command-center/calls", form).status_code == 303
    timeline = rep_browser.get(f"/people/{person.id}").text
    assert "Call with Ada" in timeline and "4 min 30 s" in timeline
    assert "Outcome: Connected" in timeline

    refused = _post(rep_browser, "/command-center/calls", form | {"outcome": "Made up"})
    assert refused.status_code == 422
    assert "is not one of your team&#39;s call outcomes" in refused.text


def _settle_import(runtime: Runtime, rep: User) -> None:
    """What the worker does when the first import is through."""
    with unit_of_work(runtime.sessions) as session:
        for item in session.query(OutboxItem).filter_by(user_id=rep.id, kind="task_sync_enable"):
            outbox.mark_done(item, now=runtime.clock.now())


def test_the_first_task_import_shows_its_progress_until_it_is_done(
    runtime: Runtime, rep: User, rep_browser: httpx.Client
) -> None:
    add_connection(runtime, rep)
    task_sync.set_mode(runtime, rep, TaskSyncMode.TWO_WAY)

    importing = rep_browser.get("/command-center").text
    _settle_import(runtime, rep)
    done = rep_browser.get("/command-center").text

    assert "Importing your Salesforce tasks" in importing
    assert 'data-refresh="#tasks"' in importing and "<progress" in importing
    assert "Importing your Salesforce tasks" not in done
    assert "Two-way sync with Salesforce Tasks is on" in done


def test_task_sync_waiting_for_a_connection_says_so(
    runtime: Runtime, rep: User, rep_browser: httpx.Client
) -> None:
    task_sync.set_mode(runtime, rep, TaskSyncMode.TWO_WAY)
    html = rep_browser.get("/command-center").text
    assert "Two-way task sync is paused until you" in html
    assert "Importing your Salesforce tasks" not in html
