"""Signing in and out, CSRF, session cookies and API tokens over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from salesync.runtime import Runtime
from salesync.serving import ServerThread, serve_in_thread
from salesync.store.tables import Person, User
from salesync.web.app import create_app
from tests.integration.web.web_support import (
    anonymous_client,
    browser_for,
    build_runtime,
    csrf_from,
    new_token,
    sign_in,
    token_client,
)
from tests.support import FakeClock


def _people_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


def test_pages_send_a_stranger_to_the_sign_in_form(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/people?search=x")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fpeople%3Fsearch%3Dx"


def test_sign_in_then_out(server: ServerThread, admin: User) -> None:
    with anonymous_client(server) as client:
        csrf = sign_in(client, admin.email)
        home = client.get("/")
        assert home.status_code == 200
        assert "Hello, Ada Admin" in home.text
        signed_out = client.post("/logout", data={"csrf_token": csrf})
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/login"
        assert client.get("/").status_code == 303


def test_sign_in_goes_back_to_the_page_asked_for(server: ServerThread, admin: User) -> None:
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login?next=/people").text)
        form = {"email": admin.email, "password": "correct horse battery", "csrf_token": token}
        answer = client.post("/login", data=form | {"next": "/people"})
    assert answer.headers["location"] == "/people"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_to_another_site(
    server: ServerThread, admin: User, target: str
) -> None:
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login").text)
        form = {"email": admin.email, "password": "correct horse battery", "csrf_token": token}
        answer = client.post("/login", data=form | {"next": target})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_wrong_password_is_refused_and_signs_nobody_in(server: ServerThread, admin: User) -> None:
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login").text)
        form = {"email": admin.email, "password": "wrong password", "csrf_token": token}
        answer = client.post("/login", data=form)
        assert answer.status_code == 401
        assert "Wrong email or password." in answer.text
        assert client.get("/").status_code == 303
        assert client.get("/api/v1/me").status_code == 401


def test_sign_in_without_the_csrf_token_is_refused(server: ServerThread, admin: User) -> None:
    with anonymous_client(server) as client:
        client.get("/login")
        form = {"email": admin.email, "password": "correct horse battery"}
        assert client.post("/login", data=form).status_code == 403
        assert client.post("/login", data=form | {"csrf_token": "forged"}).status_code == 403
        assert client.get("/").status_code == 303


def test_page_forms_without_the_csrf_token_are_refused_and_change_nothing(
    server: ServerThread, runtime: Runtime, admin: User
) -> None:
    with browser_for(server, admin) as browser:
        browser.headers.pop("X-CSRF-Token")
        answer = browser.post("/people/new", data={"email": "new@example.com"})
        assert answer.status_code == 403
        assert "CSRF" in answer.text
        # Signing out needs the token too, so a foreign page cannot sign the user out.
        assert browser.post("/logout").status_code == 403
        assert browser.get("/").status_code == 200
    assert _people_count(runtime) == 0


def test_api_writes_with_the_cookie_need_the_csrf_header(
    server: ServerThread, runtime: Runtime, admin: User
) -> None:
    with browser_for(server, admin) as browser:
        token = browser.headers.pop("X-CSRF-Token")
        body = {"email": "new@example.com"}
        assert browser.post("/api/v1/people", json=body).status_code == 403
        forged = {"X-CSRF-Token": "forged"}
        assert browser.post("/api/v1/people", json=body, headers=forged).status_code == 403
        assert _people_count(runtime) == 0
        assert browser.get("/api/v1/people").status_code == 200  # reads need no token
        answer = browser.post("/api/v1/people", json=body, headers={"X-CSRF-Token": token})
        assert answer.status_code == 201
    assert _people_count(runtime) == 1


def test_session_cookie_is_httponly_and_lax_and_not_secure_over_http(
    server: ServerThread,
) -> None:
    with anonymous_client(server) as client:
        cookie = client.get("/login").headers["set-cookie"]
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert cookie.startswith("salesync_session=")
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags


@pytest.fixture
def https_server(engine: Engine, tmp_path: Path, clock: FakeClock) -> Iterator[ServerThread]:
    runtime = build_runtime(engine, tmp_path, clock, "https://salesync.example.com")
    with serve_in_thread(create_app(runtime)) as running:
        yield running
    runtime.close()


def test_session_cookie_is_secure_when_the_site_is_served_over_https(
    https_server: ServerThread,
) -> None:
    with anonymous_client(https_server) as client:
        cookie = client.get("/login").headers["set-cookie"]
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(flags)


def test_a_tampered_session_cookie_signs_nobody_in(server: ServerThread, admin: User) -> None:
    with browser_for(server, admin) as browser:
        value = browser.cookies["salesync_session"]
        browser.cookies.clear()
        browser.cookies.set("salesync_session", "x" + value[1:])
        assert browser.get("/").status_code == 303


def test_api_without_credentials_answers_401(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "detail" in answer.json()


def test_api_token_authenticates_without_cookie_or_csrf(
    server: ServerThread, rep: User, clock: FakeClock
) -> None:
    with token_client(server, rep) as client:
        me = client.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["email"] == rep.email
        created = client.post("/api/v1/people", json={"email": "p@example.com"})
        assert created.status_code == 201
        tokens = client.get("/api/v1/tokens").json()
    assert [t["last_used_at"] for t in tokens] == [clock.now().isoformat().replace("+00:00", "Z")]


@pytest.mark.parametrize("header", ["Bearer ssk_not-a-real-token", "Bearer", "Basic YTpi"])
def test_bad_authorization_header_is_401_even_with_a_valid_cookie(
    server: ServerThread, admin: User, header: str
) -> None:
    with browser_for(server, admin) as browser:
        answer = browser.get("/api/v1/me", headers={"Authorization": header})
    assert answer.status_code == 401


def test_revoked_token_stops_working(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        token_id = client.get("/api/v1/tokens").json()[0]["id"]
        assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 204
        assert client.get("/api/v1/me").status_code == 401


def test_tokens_are_created_only_from_a_browser_session(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        answer = client.post("/api/v1/tokens", json={"name": "another"})
        assert answer.status_code == 403
        assert len(client.get("/api/v1/tokens").json()) == 1


def test_token_answer_shows_the_secret_once(server: ServerThread, rep: User) -> None:
    token = new_token(server, rep, "script")
    assert token.startswith("ssk_")
    with browser_for(server, rep) as browser:
        listed = browser.get("/api/v1/tokens").json()
        page = browser.get("/settings/account/tokens").text
    assert [t["name"] for t in listed] == ["script"]
    assert all("token" not in t for t in listed)
    assert token not in page


def test_token_name_is_required(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        answer = browser.post("/api/v1/tokens", json={"name": "  "})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "name"


def test_a_user_cannot_revoke_someone_elses_token(
    server: ServerThread, admin: User, rep: User
) -> None:
    with token_client(server, rep) as rep_client, token_client(server, admin) as admin_client:
        rep_token_id = rep_client.get("/api/v1/tokens").json()[0]["id"]
        assert admin_client.delete(f"/api/v1/tokens/{rep_token_id}").status_code == 404
        assert rep_client.get("/api/v1/me").status_code == 200


def test_tokens_page_creates_a_token_shown_once_and_revokes_it(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        csrf = browser.headers.pop("X-CSRF-Token")
        created = browser.post(
            "/settings/account/tokens", data={"name": "laptop", "csrf_token": csrf}
        )
        assert created.status_code == 200
        assert created.headers["cache-control"] == "no-store"
        token_field = 'id="new-token" class="mono" type="text" readonly value="'
        secret = created.text.split(token_field)[1].split('"')[0]
        assert secret.startswith("ssk_")
        with anonymous_client(server) as script:
            auth = {"Authorization": f"Bearer {secret}"}
            assert script.get("/api/v1/me", headers=auth).status_code == 200
            token_id = browser.get("/api/v1/tokens").json()[0]["id"]
            revoke_url = f"/settings/account/tokens/{token_id}/revoke"
            assert browser.post(revoke_url, data={"csrf_token": csrf}).status_code == 303
            assert "The token was revoked." in browser.get("/settings/account/tokens").text
            assert script.get("/api/v1/me", headers=auth).status_code == 401


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login").text)
        form = {"email": "nobody@example.com", "password": "whatever", "csrf_token": token}
        answer = client.post("/login", data=form)
    assert answer.status_code == 401
    assert "Wrong email or password." in answer.text
