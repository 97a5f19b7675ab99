"""The Diagnostics page: groups with cause and fix, affected items, Retry with its progress,
the setup check, API usage and the backlog; admins filter by user."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from salesync.domain.wording import tr
from salesync.i18n import translate
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import activities, people
from salesync.serving import ServerThread
from salesync.store import connections as connection_store
from salesync.store import diagnostics as diagnostic_store
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    DiagnosticEntry,
    OutboxItem,
    OutboxStatus,
    SalesforceLink,
    User,
)
from tests.integration.web.test_web_work_activity import ORG_ID, add_connection
from tests.integration.web.web_support import browser_for, csrf_from

# salesync's own words (domain/matching.py), so the page shows them translated.
NO_MATCH_TEXT = tr("No Lead or Contact in Salesforce has the address {email}.", email="x@y.test")


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


@pytest.fixture
def rep_browser(server: ServerThread, rep: User) -> Iterator[httpx.Client]:
    with browser_for(server, rep) as browser:
        yield browser


def _unmatched_email(runtime: Runtime, user: User, mailer: InMemoryMailer, to: str) -> int:
    """An email the worker could not match: its outbox row failed, Diagnostics has the entry."""
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(email=to)], subject=f"Hello {to}", body_text="Hi"
    )
    email_id = activities.send_email(runtime, user, draft, mailer)
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        item = session.query(OutboxItem).filter_by(subject_type="email", subject_id=email_id).one()
        outbox.mark_failed(item, now=now, code="NO_MATCHING_RECORD", message=NO_MATCH_TEXT)
        diagnostic_store.record(
            session,
            team_id=user.team_id,
            user_id=user.id,
            item_type="email",
            item_id=email_id,
            outbox_id=item.id,
            code="NO_MATCHING_RECORD",
            category="unmatched",
            message=NO_MATCH_TEXT,
            now=now,
        )
    return email_id


def _log(runtime: Runtime, email_id: int) -> None:
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
                sf_id="00T000000000001AAA",
                synced_at=now,
            )
        )


def _post(browser: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_from(browser.get("/diagnostics").text)
    return browser.post(path, data={"csrf_token": token, **data})


def _statuses(runtime: Runtime, email_id: int) -> list[OutboxStatus]:
    with runtime.sessions() as session:
        rows = session.query(OutboxItem).filter_by(subject_type="email", subject_id=email_id)
        return [row.status for row in rows]


def test_groups_show_code_count_cause_fix_and_the_affected_items(
    runtime: Runtime, rep: User, mailer: InMemoryMailer, rep_browser: httpx.Client
) -> None:
    person = people.create_person(runtime, rep, {"first_name": "Ada", "email": "ada@acme.test"})
    first = _unmatched_email(runtime, rep, mailer, "ada@acme.test")
    _unmatched_email(runtime, rep, mailer, "bob@acme.test")

    html = rep_browser.get("/diagnostics").text

    assert "<code>NO_MATCHING_RECORD</code>" in html
    assert '<span class="diag-count">2 items</span>' in html
    assert "Not matched" in html
    assert "your no-match rule is &#39;skip&#39;" in html  # the cause (own_codes)
    assert "Create the Lead or Contact in Salesforce" in html  # the fix
    assert f'href="/people/{person.id}#email-{first}"' in html
    assert "Email “Hello bob@acme.test” to bob@acme.test" in html
    assert 'href="/api/v1/diagnostics/export.csv"' in html


def test_retry_one_item_queues_it_and_follows_its_progress(
    runtime: Runtime, rep: User, mailer: InMemoryMailer, rep_browser: httpx.Client
) -> None:
    email_id = _unmatched_email(runtime, rep, mailer, "ada@acme.test")
    html = rep_browser.get("/diagnostics").text
    entry_id = re.search(r'name="entry_id" value="(\d+)"', html)
    assert entry_id is not None

    answer = _post(rep_browser, "/diagnostics/retry", {"entry_id": entry_id.group(1)})

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/diagnostics?retried=email:{email_id}#retry-progress"
    assert _statuses(runtime, email_id) == [OutboxStatus.PENDING]
    page = rep_browser.get(answer.headers["location"]).text
    assert "Retried 1 item: 1 queued for Salesforce again." in page
    assert '<progress max="1" value="0"' in page and 'data-finished="no"' in page
    _log(runtime, email_id)
    fragment = rep_browser.get(f"/diagnostics/progress?retried=email:{email_id}").text
    assert "1 logged" in fragment and 'data-finished="yes"' in fragment


def test_retry_all_of_a_group(
    runtime: Runtime, rep: User, mailer: InMemoryMailer, rep_browser: httpx.Client
) -> None:
    ids = [_unmatched_email(runtime, rep, mailer, f"p{n}@acme.test") for n in range(3)]
    form = {"category": "unmatched", "code": "NO_MATCHING_RECORD"}
    answer = _post(rep_browser, "/diagnostics/retry-group", form)
    assert answer.status_code == 303
    assert all(_statuses(runtime, i) == [OutboxStatus.PENDING] for i in ids)
    page = rep_browser.get(answer.headers["location"]).text
    assert "Retried 3 items: 3 queued for Salesforce again." in page
    assert "0 of 3</strong> done" in page
    assert "<code>NO_MATCHING_RECORD</code>" not in page  # resolved until it fails again


def test_admins_see_the_team_and_filter_by_user_reps_see_themselves(
    runtime: Runtime,
    server: ServerThread,
    rep: User,
    admin: User,
    mailer: InMemoryMailer,
    rep_browser: httpx.Client,
) -> None:
    _unmatched_email(runtime, rep, mailer, "rep-prospect@acme.test")
    _unmatched_email(runtime, admin, mailer, "admin-prospect@acme.test")

    mine = rep_browser.get("/diagnostics").text
    with browser_for(server, admin) as admin_browser:
        team = admin_browser.get("/diagnostics").text
        only_rep = admin_browser.get(f"/diagnostics?user={rep.id}").text
        stranger = admin_browser.get("/diagnostics?user=999999")
        retry_rep = admin_browser.post(
            "/diagnostics/retry-group",
            data={"category": "unmatched", "code": "NO_MATCHING_RECORD", "user": str(rep.id)},
        )

    assert "rep-prospect" in mine and "admin-prospect" not in mine
    assert "rep-prospect" in team and "admin-prospect" in team
    assert "rep-prospect" in only_rep and "admin-prospect" not in only_rep
    assert stranger.status_code == 404
    # "Retry all" for one member retries that member's items only.
    assert retry_rep.status_code == 303 and f"user={rep.id}" in retry_rep.headers["location"]
    with runtime.sessions() as session:
        still_open = (
            session.query(DiagnosticEntry)
            .filter_by(resolved_at=None, code="NO_MATCHING_RECORD")
            .all()
        )
    assert [entry.user_id for entry in still_open] == [admin.id]


def test_setup_check_usage_and_backlog(
    runtime: Runtime, rep: User, mailer: InMemoryMailer, rep_browser: httpx.Client
) -> None:
    now = runtime.clock.now()
    checks = [
        {"key": "api_access", "level": "ok", "text": "API access works."},
        {"key": "external_id", "level": "warning", "text": "No external-id field on Task."},
    ]
    add_connection(runtime, rep, org_profile={"checks": checks})
    with unit_of_work(runtime.sessions) as session:
        connection_store.record_usage(session, ORG_ID, 1200, 15000, now=now)
        connection_store.count_calls(session, ORG_ID, 7, now=now)
    _unmatched_email(runtime, rep, mailer, "ada@acme.test")

    html = rep_browser.get("/diagnostics").text

    assert "No external-id field on Task." in html and '<span class="pill warning">' in html
    assert "Email to Salesforce (BCC) is not in use" in html
    assert "Whole org: 1,200 of 15,000 daily calls" in html
    assert "salesync: 7 of its 7,500 allowed calls in 24 h" in html
    assert re.search(r"Failed \(listed above\)</th><td>1</td>", html)
    assert "Check my org again" in html


def test_setup_check_names_members_who_are_not_connected_or_not_checked(
    runtime: Runtime, server: ServerThread, rep: User, admin: User
) -> None:
    add_connection(runtime, rep)
    with browser_for(server, admin) as admin_browser:
        html = admin_browser.get("/diagnostics").text
    rep_part = html[html.index(">Rex Rep</h3>") :]
    admin_part = html[html.index(">Ada Admin</h3>") : html.index(">Rex Rep</h3>")]
    assert "Not connected to Salesforce" in admin_part
    assert "the org is checked on the first logging" in rep_part
    assert "Check my org again</button>" not in html  # the admin has no connection of their own


def test_retrying_someone_elses_entry_is_not_found(
    runtime: Runtime, admin: User, mailer: InMemoryMailer, rep_browser: httpx.Client
) -> None:
    email_id = _unmatched_email(runtime, admin, mailer, "ada@acme.test")
    with runtime.sessions() as session:
        entry = session.query(DiagnosticEntry).filter_by(code="NO_MATCHING_RECORD").one()
    answer = _post(rep_browser, "/diagnostics/retry", {"entry_id": str(entry.id)})
    assert answer.status_code == 404
    assert _statuses(runtime, email_id) == [OutboxStatus.FAILED]


def test_the_diagnostics_api_reads_in_the_users_language(
    runtime: Runtime, rep: User, mailer: InMemoryMailer, rep_browser: httpx.Client
) -> None:
    email_id = _unmatched_email(runtime, rep, mailer, "ada@acme.test")
    with unit_of_work(runtime.sessions) as session:
        diagnostic_store.record(
            session,
            team_id=rep.team_id,
            user_id=rep.id,
            item_type="email",
            item_id=email_id,
            code="NOT_CONNECTED",
            category="authentication",
            message=tr("Waiting for a Salesforce connection."),
            now=runtime.clock.now(),
        )
    english = rep_browser.get("/api/v1/diagnostics").json()["groups"]
    assert rep_browser.patch("/api/v1/me", json={"language": "ja"}).status_code == 200
    japanese = rep_browser.get("/api/v1/diagnostics").json()["groups"]
    by_code = {g["code"]: g for g in japanese}
    assert [g["code"] for g in english] == [g["code"] for g in japanese]
    waiting = by_code["NOT_CONNECTED"]
    assert waiting["message"] == "Salesforce の接続を待機しています。"
    assert waiting["entries"][0]["message"] == "Salesforce の接続を待機しています。"
    assert waiting["fix"].startswith("設定 > マイアカウント > Salesforce > 接続")
    # Our own words (domain/matching.py) come back in the reader's language too.
    assert by_code["NO_MATCHING_RECORD"]["message"] == translate(NO_MATCH_TEXT, "ja")
    assert by_code["NO_MATCHING_RECORD"]["message"] != NO_MATCH_TEXT
    assert by_code["NO_MATCHING_RECORD"]["cause"].startswith("このメールアドレスを持つ")
