"""My Account → Mailbox and its API: save, encrypted password, Test connection, team rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from salesync.mailbox.fake import FakeConnector, FakeMailServer
from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store.db import unit_of_work
from salesync.store.tables import MailboxAccount, Person, User
from salesync.sync.mailbox_sync import MailboxSyncJob
from tests.integration.web.web_support import browser_for, build_runtime, csrf_from, token_client
from tests.support import FakeClock
from tests.support_mail import dsn, mail

SECRET = "very secret app password"


@pytest.fixture
def runtime(engine: Engine, tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    """The operator allows reps' own server imap.example.com:993, and no other."""
    built = build_runtime(engine, tmp_path, clock, "http://testserver")
    settings = built.settings.model_copy(update={"allowed_outbound_hosts": "imap.example.com:993"})
    allowed = dataclasses.replace(built, settings=settings)
    yield allowed
    built.close()


@pytest.fixture
def mail_server(app: FastAPI) -> FakeMailServer:
    server = FakeMailServer(username="rex@example.com", password=SECRET)
    app.state.mailbox_connector = FakeConnector(server)
    return server


def _save(client: object, **overrides: object) -> object:
    body = {
        "username": "rex@example.com",
        "password": SECRET,
        "host": "imap.example.com",
        "port": 993,
        "security": "tls",
        **overrides,
    }
    return client.put("/api/v1/me/mailbox", json=body)  # type: ignore[attr-defined]


def test_the_api_stores_the_password_encrypted_and_never_returns_it(
    server: ServerThread, runtime: Runtime, rep: User, mail_server: FakeMailServer
) -> None:
    with token_client(server, rep) as client:
        answer = _save(client)
        assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
        body = answer.json()  # type: ignore[attr-defined]
        assert body["configured"] and body["status"] == "new"
        assert SECRET not in answer.text  # type: ignore[attr-defined]
        assert "password" not in body
    with runtime.sessions() as session:
        row = session.scalars(select(MailboxAccount)).one()
        assert SECRET not in row.password_enc
        assert runtime.secret_box.decrypt(row.password_enc) == SECRET


def test_test_connection_gives_the_servers_answer_and_the_special_use_folders(
    server: ServerThread, rep: User, mail_server: FakeMailServer
) -> None:
    with token_client(server, rep) as client:
        _save(client)
        ok = client.post("/api/v1/me/mailbox/test").json()
        assert ok["ok"] and ok["sent_folder"] == "Sent" and ok["inbox_folder"] == "INBOX"
        assert "Junk" in ok["folders"]
        _save(client, password="wrong")
        refused = client.post("/api/v1/me/mailbox/test").json()
    assert refused == {
        "ok": False,
        "message": "[AUTHENTICATIONFAILED] Authentication failed.",
        "folders": [],
        "sent_folder": None,
        "inbox_folder": None,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"host": "bad host/name"}, "host"),
        ({"security": "plain"}, "security"),  # unencrypted to another machine
        ({"host": None, "port": None, "security": None}, "host"),  # no team server either
        ({"host": "10.0.0.7", "port": 6379}, "host"),  # a server no admin set or allowed
        ({"port": 22}, "host"),  # an allowed host on another port
    ],
)
def test_bad_connections_are_refused_with_the_field(
    server: ServerThread, runtime: Runtime, rep: User, overrides: dict[str, object], field: str
) -> None:
    with token_client(server, rep) as client:
        answer = _save(client, **overrides)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert field in answer.text  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        assert session.scalars(select(MailboxAccount)).all() == []


def test_an_admin_sets_the_team_server_and_may_forbid_others(
    server: ServerThread, admin: User, rep: User, mail_server: FakeMailServer
) -> None:
    team = {
        "host": "imap.team.example",
        "port": 993,
        "security": "tls",
        "allow_custom_servers": False,
        "internal_domains": ["@Example.com", "example.co.uk."],
        "blocked_domains": ["competitor.example"],
    }
    with token_client(server, rep) as client:
        assert client.put("/api/v1/team/mailbox-settings", json=team).status_code == 403
    with token_client(server, admin) as client:
        saved = client.put("/api/v1/team/mailbox-settings", json=team).json()
    assert saved["internal_domains"] == ["example.co.uk", "example.com"]
    with token_client(server, rep) as client:
        assert _save(client).status_code == 403  # type: ignore[attr-defined]
        only_login = _save(client, host=None, port=None, security=None)
        assert only_login.json()["uses_team_server"] is True  # type: ignore[attr-defined]


def test_the_my_account_page_saves_and_tests_the_connection(
    server: ServerThread, rep: User, mail_server: FakeMailServer
) -> None:
    with browser_for(server, rep) as browser:
        page = browser.get("/settings/account/mailbox")
        assert page.status_code == 200 and "Connect your mailbox" in page.text
        form = {
            "csrf_token": csrf_from(page.text),
            "username": "rex@example.com",
            "password": SECRET,
            "host": "imap.example.com",
            "port": "993",
            "security": "tls",
            "enabled": "1",
        }
        saved = browser.post("/settings/account/mailbox", data=form)
        assert saved.status_code == 303
        page = browser.get("/settings/account/mailbox")
        assert SECRET not in page.text and "Waiting for the first sync" in page.text
        tested = browser.post(
            "/settings/account/mailbox/test", data={"csrf_token": csrf_from(page.text)}
        )
    assert "Connected." in tested.text and "Sent folder: Sent" in tested.text


def test_a_broken_mailbox_shows_on_diagnostics_with_the_servers_answer(
    server: ServerThread, runtime: Runtime, rep: User, mail_server: FakeMailServer
) -> None:
    with token_client(server, rep) as client:
        _save(client)
    mail_server.down = True
    [round_] = MailboxSyncJob(runtime, connector=FakeConnector(mail_server)).drain()
    assert round_.error is not None
    with browser_for(server, rep) as browser:
        page = browser.get("/diagnostics")
        mailbox_page = browser.get("/settings/account/mailbox")
    assert "Your mailbox cannot be read: cannot connect to imap.example.com:993" in page.text
    assert "Broken" in mailbox_page.text and "refused" in mailbox_page.text


def test_a_bounce_found_in_the_mailbox_shows_in_command_center(
    server: ServerThread, runtime: Runtime, rep: User, mail_server: FakeMailServer
) -> None:
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        session.add(
            Person(team_id=rep.team_id, owner_id=rep.id, email="pat@prospect.test",
                   created_at=now, updated_at=now)
        )  # fmt: skip
    with token_client(server, rep) as client:
        _save(client)
    sent = mail(sender=rep.email, to="pat@prospect.test", subject="Pricing", message_id="<b@x>")
    mail_server.append("Sent", sent, date=now.date())
    bounce = dsn(to=rep.email, original_id="<b@x>", recipient="pat@prospect.test")
    mail_server.append("INBOX", bounce, date=now.date())
    MailboxSyncJob(runtime, connector=FakeConnector(mail_server)).drain()
    with browser_for(server, rep) as browser:
        page = browser.get("/command-center").text
    assert "Pricing" in page
    assert "Bounced: 5.1.1 550 5.1.1" in page
