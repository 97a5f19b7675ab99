"""Templates, tracked opens and clicks, and unsubscribes through the web app over HTTP."""

from __future__ import annotations

import urllib.parse

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store.db import unit_of_work
from salesync.store.tables import OptOut, OutboxItem, Person, SentEmail, User
from tests.integration.web.web_support import anonymous_client, browser_for, token_client
from tests.support import FakeClock

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


def add_person(runtime: Runtime, user: User, email: str = "dana@acme.example") -> int:
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        person = Person(
            team_id=user.team_id,
            owner_id=user.id,
            first_name="Dana",
            last_name="Diaz",
            email=email,
            company="Acme",
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        session.flush()
        return person.id


def enable_tracking(server: ServerThread, admin: User) -> None:
    with token_client(server, admin) as client:
        answer = client.patch("/api/v1/engagement/settings", json={"tracking_enabled": True})
    assert answer.status_code == 200, answer.text
    assert answer.json()["tracking_enabled"] is True


def path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_template_is_previewed_and_sent_with_merge_fields_and_the_task_field_source(
    server: ServerThread, runtime: Runtime, rep: User, mailer: InMemoryMailer
) -> None:
    person = add_person(runtime, rep)
    with token_client(server, rep) as client:
        created = client.post(
            "/api/v1/templates",
            json={
                "name": "Intro",
                "subject": "Hello {{first_name}}",
                "body": (
                    "Hi {{first_name}} at {{company}},\n{{title|your team}}\n-- {{sender_name}}"
                ),
            },
        )
        assert created.status_code == 201, created.text
        template = created.json()
        assert template["scope"] == "personal"
        preview = client.post(
            f"/api/v1/templates/{template['id']}/preview", json={"person_id": person}
        )
        assert preview.json() == {
            "subject": "Hello Dana",
            "body": "Hi Dana at Acme,\nyour team\n-- Rex Rep",
        }
        sent = client.post(f"/api/v1/templates/{template['id']}/send", json={"person_id": person})
        assert sent.status_code == 201, sent.text
        engagement = client.get(f"/api/v1/emails/{sent.json()['id']}/engagement").json()
    assert engagement["template_name"] == "Intro"
    [message] = mailer.sent
    assert message.message["Subject"] == "Hello Dana"
    assert "Hi Dana at Acme" in message.message.get_body(("plain",)).get_content()


def test_an_unknown_merge_field_is_refused_with_its_name(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with token_client(server, rep) as client:
        answer = client.post(
            "/api/v1/templates",
            json={"name": "Bad", "subject": "Hi", "body": "Dear {{first_nme}} {{shoe_size}}"},
        )
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == "body"
    assert "{{first_nme}}" in problem["message"] and "{{shoe_size}}" in problem["message"]


def test_only_admins_keep_team_templates(server: ServerThread, rep: User, admin: User) -> None:
    body = {"name": "Team intro", "subject": "Hi", "body": "Hello", "team": True}
    with token_client(server, rep) as client:
        assert client.post("/api/v1/templates", json=body).status_code == 403
    with token_client(server, admin) as client:
        created = client.post("/api/v1/templates", json=body)
    assert created.json()["scope"] == "team"
    with token_client(server, rep) as client:
        names = [t["name"] for t in client.get("/api/v1/templates").json()]
        changed = client.put(
            f"/api/v1/templates/{created.json()['id']}",
            json={"name": "x", "subject": "y", "body": "z"},
        )
    assert names == ["Team intro"]
    assert changed.status_code == 403


def _send(server: ServerThread, rep: User, person: int, body: str, **extra: object) -> int:
    with token_client(server, rep) as client:
        answer = client.post(
            "/api/v1/emails",
            json={"to": [{"person_id": person}], "subject": "Pricing", "body_text": body, **extra},
        )
    assert answer.status_code == 201, answer.text
    email_id: int = answer.json()["id"]
    return email_id


def test_tracking_is_opt_in_for_the_team(
    server: ServerThread, runtime: Runtime, rep: User, mailer: InMemoryMailer
) -> None:
    person = add_person(runtime, rep)
    with token_client(server, rep) as client:
        answer = client.post(
            "/api/v1/emails",
            json={"to": [{"person_id": person}], "subject": "x", "body_text": "y", "track": True},
        )
    assert answer.status_code == 422
    _send(server, rep, person, "See https://acme.example/pricing")
    html = mailer.sent[0].message.get_body(("html",))
    assert html is None  # untracked: no pixel, links untouched
    assert (
        "https://acme.example/pricing" in mailer.sent[0].message.get_body(("plain",)).get_content()
    )


def test_opens_and_clicks_are_counted_and_machines_kept_apart(
    server: ServerThread,
    runtime: Runtime,
    rep: User,
    admin: User,
    mailer: InMemoryMailer,
    clock: FakeClock,
) -> None:
    enable_tracking(server, admin)
    person = add_person(runtime, rep)
    email_id = _send(server, rep, person, "Numbers: https://acme.example/pricing?x=1 and more")
    message = mailer.sent[0].message
    html = message.get_body(("html",)).get_content()
    plain = message.get_body(("plain",)).get_content()
    assert "acme.example" not in plain.split("--")[0]  # the link itself is rewritten
    pixel = html.split('<img src="')[1].split('"')[0]
    click = plain.split("Numbers: ")[1].split(" ")[0]
    with anonymous_client(server) as client:
        scanner = client.get(path_of(click), headers={"user-agent": BROWSER})  # 0 s after send
        assert scanner.status_code == 302
        clock.advance(minutes=5)
        proxy = client.get(path_of(pixel), headers={"user-agent": "GoogleImageProxy"})
        assert proxy.headers["content-type"] == "image/gif"
        client.get(path_of(pixel), headers={"user-agent": BROWSER})
        clock.advance(minutes=1)
        client.get(path_of(pixel), headers={"user-agent": BROWSER})
        clicked = client.get(path_of(click), headers={"user-agent": BROWSER})
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://acme.example/pricing?x=1"
    with token_client(server, rep) as client:
        seen = client.get(f"/api/v1/emails/{email_id}/engagement").json()
    assert seen["opens"] == 2 and seen["clicks"] == 1
    assert seen["machine_opens"] == 1 and seen["machine_clicks"] == 1
    assert seen["first_open_at"] < seen["last_open_at"]
    assert seen["links"] == [{"url": "https://acme.example/pricing?x=1", "clicks": 1}]
    with runtime.sessions() as session:
        updates = session.scalars(
            select(OutboxItem).where(OutboxItem.kind == "engagement_update")
        ).all()
    assert len(updates) == 1  # coalesced: one queued update for all of these events


def test_a_forged_or_altered_token_is_404_and_never_redirects(
    server: ServerThread, runtime: Runtime, rep: User, admin: User, mailer: InMemoryMailer
) -> None:
    enable_tracking(server, admin)
    person = add_person(runtime, rep)
    _send(server, rep, person, "https://acme.example/a")
    plain = mailer.sent[0].message.get_body(("plain",)).get_content()
    click = path_of(plain.split()[0])
    token = click.rsplit("/", 1)[1]
    purpose_and_ids, signature = token.rsplit(".", 1)
    forged = [
        click[:-1] + ("A" if click[-1] != "A" else "B"),
        click.replace(purpose_and_ids, purpose_and_ids[:-1] + "1"),
        "/t/c/c1.0.AAAAAAAAAAAAAAAAAAAAAA",
        "/t/c/https%3A%2F%2Fevil.example",
        f"/t/c/{purpose_and_ids}.{signature}?url=https://evil.example",
    ]
    with anonymous_client(server) as client:
        for path in forged[:4]:
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert "location" not in answer.headers
        # A query string cannot change where a valid token goes.
        assert client.get(forged[4]).headers["location"] == "https://acme.example/a"
        assert client.get("/t/o/o1.0.AAAAAAAAAAAAAAAAAAAAAA.gif").status_code == 404


def test_one_click_unsubscribe_then_sending_is_refused(
    server: ServerThread, runtime: Runtime, rep: User, mailer: InMemoryMailer
) -> None:
    person = add_person(runtime, rep)
    _send(server, rep, person, "Hello")
    message = mailer.sent[0].message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url in message.get_body(("plain",)).get_content()
    with anonymous_client(server) as client:
        page = client.get(path_of(url))  # a scanner following the link unsubscribes nobody
        assert page.status_code == 200 and "dana@acme.example" in page.text
        with runtime.sessions() as session:
            assert session.scalars(select(OptOut)).all() == []
        done = client.post(
            path_of(url),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
        assert client.post(path_of(url)[:-2] + "xx").status_code == 404
    with runtime.sessions() as session:
        [row] = session.scalars(select(OptOut)).all()
        assert (row.address, row.source) == ("dana@acme.example", "one_click")
    with token_client(server, rep) as client:
        refused = client.post(
            "/api/v1/emails",
            json={"to": [{"email": "DANA@acme.example"}], "subject": "Again", "body_text": "x"},
        )
    assert refused.status_code == 422
    assert "unsubscribed" in refused.json()["detail"][0]["message"]
    assert len(mailer.sent) == 1
    with runtime.sessions() as session:
        assert len(session.scalars(select(SentEmail)).all()) == 1


def test_engagement_shows_on_the_activity_page(
    server: ServerThread,
    runtime: Runtime,
    rep: User,
    admin: User,
    mailer: InMemoryMailer,
    clock: FakeClock,
) -> None:
    enable_tracking(server, admin)
    person = add_person(runtime, rep)
    _send(server, rep, person, "https://acme.example/deck")
    message = mailer.sent[0].message
    pixel = message.get_body(("html",)).get_content().split('<img src="')[1].split('"')[0]
    clock.advance(minutes=3)
    with anonymous_client(server) as client:
        client.get(path_of(pixel), headers={"user-agent": BROWSER})
    with browser_for(server, rep) as browser:
        page = browser.get("/activity").text
    assert "Opened 1×" in page


def test_rollup_switches_per_rep_with_team_defaults_and_locks(
    server: ServerThread, rep: User, admin: User
) -> None:
    with token_client(server, admin) as client:
        answer = client.put(
            "/api/v1/salesforce/team-settings",
            json={"defaults": {"rollup_accounts": False}, "locked": ["rollup_accounts"]},
        )
    assert answer.status_code == 200, answer.text
    with token_client(server, rep) as client:
        mine = client.get("/api/v1/salesforce/settings").json()
        refused = client.patch("/api/v1/salesforce/settings", json={"rollup_accounts": True})
        changed = client.patch("/api/v1/salesforce/settings", json={"rollup_leads": False})
    assert mine["values"]["rollup_accounts"] is False
    assert mine["origins"]["rollup_accounts"] == "locked"
    assert mine["values"]["rollup_opportunities"] is True
    assert refused.status_code == 422
    assert changed.json()["values"]["rollup_leads"] is False
    with browser_for(server, rep) as browser:
        page = browser.get("/settings/account/salesforce/sync-settings").text
    assert "Update Most Recent Activity on Leads" in page
    assert "Update Most Recent Activity on Opportunities" in page


def test_templates_page_saves_previews_and_sends(
    server: ServerThread, runtime: Runtime, rep: User, mailer: InMemoryMailer
) -> None:
    person = add_person(runtime, rep)
    with browser_for(server, rep) as browser:
        token = browser.headers["X-CSRF-Token"]
        bad = browser.post(
            "/templates",
            data={"csrf_token": token, "name": "X", "subject": "Hi", "body": "{{nickname}}"},
        )
        assert bad.status_code == 422 and "{{nickname}}" in bad.text
        saved = browser.post(
            "/templates",
            data={
                "csrf_token": token,
                "name": "Follow-up",
                "subject": "For {{company}}",
                "body": "Hi {{first_name}}",
            },
        )
        assert saved.status_code == 303
        [template] = [t for t in browser.get("/api/v1/templates").json()]
        use = f"/templates/{template['id']}/use"
        preview = browser.post(
            use, data={"csrf_token": token, "person_id": str(person), "action": "preview"}
        )
        assert "For Acme" in preview.text and "Hi Dana" in preview.text
        assert mailer.sent == []
        sent = browser.post(
            use, data={"csrf_token": token, "person_id": str(person), "action": "send"}
        )
        assert sent.status_code == 303
        page = browser.get("/command-center").text
    assert mailer.sent[0].message["Subject"] == "For Acme"
    assert "Template: Follow-up" in page


def test_the_admin_engagement_page(server: ServerThread, admin: User, rep: User) -> None:
    with browser_for(server, admin) as browser:
        token = browser.headers["X-CSRF-Token"]
        assert "Most Recent Activity fields" in browser.get("/settings/admin/engagement").text
        bad = browser.post(
            "/settings/admin/engagement",
            data={"csrf_token": token, "opt_out_pull_time": "8pm", "opt_out_pull_zone": "UTC"},
        )
        assert bad.status_code == 422 and "time of day" in bad.text
        saved = browser.post(
            "/settings/admin/engagement",
            data={
                "csrf_token": token,
                "tracking_enabled": "1",
                "opt_out_pull_time": "21:30",
                "opt_out_pull_zone": "Europe/Paris",
            },
        )
        assert saved.status_code == 303
        options = browser.get("/api/v1/engagement/settings").json()
    assert options["tracking_enabled"] is True and options["track_by_default"] is False
    assert (options["opt_out_pull_time"], options["opt_out_pull_zone"]) == ("21:30", "Europe/Paris")
    with browser_for(server, rep) as browser:
        assert browser.get("/settings/admin/engagement").status_code == 403
        assert 'name="track"' in browser.get("/command-center").text


def test_the_unsubscribe_pages_follow_the_visitor_browser_language(
    server: ServerThread, runtime: Runtime, rep: User, mailer: InMemoryMailer
) -> None:
    person = add_person(runtime, rep)
    _send(server, rep, person, "Hello")
    url = path_of(mailer.sent[0].message["List-Unsubscribe"].strip("<>"))
    with anonymous_client(server) as client:
        english = client.get(url)
        japanese = client.get(url, headers={"Accept-Language": "ja-JP,ja;q=0.9"})
        german_404 = client.get(url[:-2] + "xx", headers={"Accept-Language": "de"})
        done = client.post(url, headers={"Accept-Language": "zh-TW"})
    assert "Stop sales emails to <strong>dana@acme.example</strong>?" in english.text
    assert '<html lang="en">' in english.text
    assert "<strong>dana@acme.example</strong> へのセールスメールを停止しますか?" in japanese.text
    assert '<html lang="ja">' in japanese.text and ">配信停止</button>" in japanese.text
    assert japanese.headers["content-language"] == "ja"
    assert german_404.status_code == 404 and "Dieser Link ist ungültig." in german_404.text
    assert done.status_code == 200
    assert "<strong>dana@acme.example</strong> 將不會再收到我們的銷售電子郵件。" in done.text
