"""Connecting reps to the sandbox org through the real OAuth redirect flow, and what follows."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import Engine, select, text

from salesync.errors import InvalidInput
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.salesforce_access import open_client
from salesync.services import activities, connections, org_setup
from salesync.store.tables import (
    ConnectionStatus,
    OutboxItem,
    OutboxStatus,
    SalesforceConnection,
    User,
)
from salesync.sync.factory import build_worker
from tests.fixtures_sandbox import Sandbox, add_user


def connect_by_redirects(runtime: Runtime, user: User, login: str) -> connections.ConnectOutcome:
    """Drive the web-server flow as a browser would: authorize, follow to the callback."""
    url, pending = connections.begin_connect(runtime, user, "production", login_hint=login)
    with httpx.Client() as http:
        answer = http.get(url + "&prompt=none", follow_redirects=False)
        assert answer.status_code in (302, 303), answer.text
        callback = urlsplit(answer.headers["location"])
        assert f"{callback.scheme}://{callback.netloc}{callback.path}" == (
            "http://127.0.0.1:8000/salesforce/callback"
        )
        query = parse_qs(callback.query)
        return connections.complete_connect(
            runtime, pending, state=query["state"][0], code=query["code"][0], http=http
        )


def test_connect_stores_tokens_encrypted_and_discovers_the_org(
    runtime: Runtime, sandbox: Sandbox, engine: Engine
) -> None:
    user = add_user(runtime, "rep1@salesync.test")
    outcome = connect_by_redirects(runtime, user, "rep1@sandbox.salesync.test")
    assert outcome.username == "rep1@sandbox.salesync.test"
    assert outcome.org_id == sandbox.org.org_id
    assert outcome.warnings == ()
    issued = [t.token for t in sandbox.org.tokens.access.values()]
    refresh = [t.token for t in sandbox.org.tokens.refresh.values()]
    with engine.connect() as conn:
        dump = "\n".join(
            str(row)
            for table in ("salesforce_connections",)
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert issued and refresh
    assert not any(token in dump for token in issued + refresh)
    profile = org_setup.refresh_org_profile(runtime, outcome.connection_id)
    assert profile.api_enabled and profile.external_id_ready
    assert profile.first_closed_status == "Completed"
    assert "Email" in profile.task_types


def test_email_mismatch_is_a_warning(runtime: Runtime, sandbox: Sandbox) -> None:
    user = add_user(runtime, "someone.else@example.com")
    outcome = connect_by_redirects(runtime, user, "rep1@sandbox.salesync.test")
    assert any("differs from your salesync email" in w for w in outcome.warnings)


def test_api_disabled_user_is_reported_plainly(runtime: Runtime, sandbox: Sandbox) -> None:
    user = add_user(runtime, "noapi@salesync.test")
    outcome = connect_by_redirects(runtime, user, "noapi@sandbox.salesync.test")
    profile = org_setup.refresh_org_profile(runtime, outcome.connection_id)
    assert profile.api_enabled is False
    assert any("API Enabled" in text_ for text_ in org_setup.warnings_of(profile))


def test_expired_session_refreshes_once_and_keeps_working(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    user = add_user(runtime, "rep1@salesync.test")
    outcome = connect_by_redirects(runtime, user, "rep1@sandbox.salesync.test")
    with runtime.sessions() as session:
        row = session.get(SalesforceConnection, outcome.connection_id)
        assert row is not None
        before = row.access_token_enc
        session.expunge(row)
    sandbox.control("POST", "tokens/expire", {})
    with open_client(runtime, row) as client:
        assert client.describe("Task").name == "Task"
    with runtime.sessions() as session:
        after = session.get(SalesforceConnection, outcome.connection_id)
        assert after is not None and after.access_token_enc != before


def test_rotated_refresh_token_is_persisted_before_use(runtime: Runtime, sandbox: Sandbox) -> None:
    sandbox.control("PATCH", "connected-apps/salesync", {"rotateRefreshTokens": True})
    user = add_user(runtime, "rep1@salesync.test")
    outcome = connect_by_redirects(runtime, user, "rep1@sandbox.salesync.test")
    with runtime.sessions() as session:
        row = session.get(SalesforceConnection, outcome.connection_id)
        assert row is not None
        first_refresh = runtime.secret_box.decrypt(row.refresh_token_enc or "")
        session.expunge(row)
    for _ in range(2):  # two refreshes in a row: the second needs the rotated token
        sandbox.control("POST", "tokens/expire", {})
        with open_client(runtime, row) as client:
            client.describe("Task", refresh=True)
    with runtime.sessions() as session:
        stored = session.get(SalesforceConnection, outcome.connection_id)
        assert stored is not None
        assert runtime.secret_box.decrypt(stored.refresh_token_enc or "") != first_refresh


def test_revoked_refresh_token_breaks_the_connection_and_pauses_the_queue(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    user = add_user(runtime, "rep1@salesync.test")
    outcome = connect_by_redirects(runtime, user, "rep1@sandbox.salesync.test")
    contact = next(r for r in sandbox.org.records.rows("Contact") if r.get("Email"))
    activities.send_email(
        runtime,
        user,
        activities.EmailDraft(
            to=[activities.RecipientRef(email=str(contact["Email"]))], subject="Hi", body_text="x"
        ),
        InMemoryMailer(),
    )
    sandbox.control("POST", "users/rep1@sandbox.salesync.test/revoke-refresh-tokens", {})
    build_worker(runtime).drain()
    with runtime.sessions() as session:
        row = session.get(SalesforceConnection, outcome.connection_id)
        assert row is not None
        assert row.status is ConnectionStatus.BROKEN
        assert "expired access/refresh token" in (row.broken_reason or "")
        statuses = {i.status for i in session.scalars(select(OutboxItem))}
    assert statuses == {OutboxStatus.PAUSED}
    assert sandbox.tasks() == []
    connect_by_redirects(runtime, user, "rep1@sandbox.salesync.test")  # reconnect resumes
    build_worker(runtime).drain()
    assert [t["WhoId"] for t in sandbox.tasks()] == [contact["Id"]]


def test_disconnect_revokes_the_token_and_keeps_the_queue(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    user = add_user(runtime, "rep1@salesync.test")
    outcome = connect_by_redirects(runtime, user, "rep1@sandbox.salesync.test")
    with runtime.sessions() as session:
        row = session.get(SalesforceConnection, outcome.connection_id)
        assert row is not None
        refresh = runtime.secret_box.decrypt(row.refresh_token_enc or "")
    with httpx.Client() as http:
        assert connections.disconnect(runtime, user, http=http) is True
        answer = http.post(
            f"{sandbox.base_url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": "salesync",
                "client_secret": "salesync-secret",
            },
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    with runtime.sessions() as session:
        row = session.get(SalesforceConnection, outcome.connection_id)
        assert row is not None and row.status is ConnectionStatus.DISCONNECTED
        assert row.access_token_enc == "" and row.refresh_token_enc is None


def test_a_state_from_another_round_trip_is_refused(runtime: Runtime, sandbox: Sandbox) -> None:
    user = add_user(runtime, "rep1@salesync.test")
    _, pending = connections.begin_connect(runtime, user, "production")
    with pytest.raises(InvalidInput), httpx.Client() as http:
        connections.complete_connect(runtime, pending, state="forged", code="x", http=http)
