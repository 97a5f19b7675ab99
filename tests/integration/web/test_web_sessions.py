"""Server-side sessions and sign-in throttling over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from salesync.runtime import Runtime
from salesync.services import sign_in as sign_in_service
from salesync.serving import ServerThread
from salesync.store.tables import User, WebSession
from tests.integration.web.security_support import (
    PASSWORD,
    CountingHasher,
    admin,
    app,
    hasher,
    rep,
    runtime,
    server,
)
from tests.integration.web.web_support import anonymous_client, csrf_from
from tests.support import FakeClock


def _post_login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _signed_in(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    answer = _post_login(client, email, password)
    assert answer.status_code == 303, answer.text
    return csrf_from(client.get("/").text)


__all__ = ["admin", "app", "hasher", "rep", "runtime", "server"]


def _session_rows(runtime: Runtime, user: User) -> int:
    with runtime.sessions() as session:
        query = select(func.count()).select_from(WebSession).where(WebSession.user_id == user.id)
        return session.scalar(query) or 0


def test_the_cookie_kept_from_before_sign_out_is_refused(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with anonymous_client(server) as client:
        csrf = _signed_in(client, rep.email)
        stolen = dict(client.cookies)
        assert client.get("/api/v1/me").status_code == 200
        assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert _session_rows(runtime, rep) == 0
    with anonymous_client(server) as replay:
        replay.cookies.update(stolen)
        answer = replay.get("/api/v1/me")
    assert answer.status_code == 401


def test_the_database_keeps_only_a_hash_of_the_session_token(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with anonymous_client(server) as client:
        _signed_in(client, rep.email)
        cookie = client.cookies["salesync_session"]
    # Starlette's cookie: base64 of the JSON data, then the signature.
    data = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    token = data["sid"]
    assert "uid" not in data  # who is signed in is not in the cookie
    with runtime.sessions() as session:
        row = session.scalars(select(WebSession)).one()
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_sha256, row.client_address}


def test_signing_in_again_gives_a_new_session_and_ends_the_old_one(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with anonymous_client(server) as client:
        csrf = _signed_in(client, rep.email)
        earlier_cookie = dict(client.cookies)
        with runtime.sessions() as session:
            first = session.scalars(select(WebSession.token_sha256)).one()
        form = {"email": rep.email, "password": PASSWORD, "csrf_token": csrf}
        assert client.post("/login", data=form).status_code == 303
        assert client.get("/api/v1/me").status_code == 200
    with runtime.sessions() as session:
        rows = list(session.scalars(select(WebSession.token_sha256)))
    assert len(rows) == 1
    assert rows[0] != first
    with anonymous_client(server) as replay:
        replay.cookies.update(earlier_cookie)
        assert replay.get("/api/v1/me").status_code == 401


def test_deactivation_ends_the_users_sessions_at_once(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with anonymous_client(server) as rex, anonymous_client(server) as ada:
        _signed_in(rex, rep.email)
        csrf = _signed_in(ada, admin.email)
        assert rex.get("/api/v1/me").status_code == 200
        answer = ada.post(f"/settings/admin/users/{rep.id}/deactivate", data={"csrf_token": csrf})
        assert answer.status_code == 303
        assert _session_rows(runtime, rep) == 0
        assert rex.get("/api/v1/me").status_code == 401


def test_sign_out_everywhere_ends_every_session_of_the_user(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with anonymous_client(server) as laptop, anonymous_client(server) as phone:
        csrf = _signed_in(laptop, rep.email)
        _signed_in(phone, rep.email)
        assert _session_rows(runtime, rep) == 2
        assert laptop.post("/logout/everywhere", data={"csrf_token": csrf}).status_code == 303
        assert phone.get("/api/v1/me").status_code == 401
        assert laptop.get("/api/v1/me").status_code == 401


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with anonymous_client(server) as laptop, anonymous_client(server) as phone:
        csrf = _signed_in(laptop, rep.email)
        _signed_in(phone, rep.email)
        form = {
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "a brand new secret",
        }
        assert laptop.post("/settings/account/password", data=form).status_code == 303
        assert laptop.get("/api/v1/me").status_code == 200
        assert phone.get("/api/v1/me").status_code == 401
    with anonymous_client(server) as client:
        assert _post_login(client, rep.email, PASSWORD).status_code == 401
        assert _post_login(client, rep.email, "a brand new secret").status_code == 303


def test_a_wrong_current_password_changes_nothing(server: ServerThread, rep: User) -> None:
    with anonymous_client(server) as client:
        csrf = _signed_in(client, rep.email)
        form = {"csrf_token": csrf, "current_password": "nope", "new_password": "another secret"}
        answer = client.post("/settings/account/password", data=form)
        assert answer.status_code == 422
        assert "is not your current password" in answer.text
    with anonymous_client(server) as client:
        assert _post_login(client, rep.email, PASSWORD).status_code == 303


def test_an_admin_resets_a_password_and_the_users_sessions_end(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with anonymous_client(server) as rex, anonymous_client(server) as ada:
        _signed_in(rex, rep.email)
        csrf = _signed_in(ada, admin.email)
        form = {"csrf_token": csrf, "password": "reset by ada 123"}
        answer = ada.post(f"/settings/admin/users/{rep.id}/password", data=form)
        assert answer.status_code == 303
        assert rex.get("/api/v1/me").status_code == 401
    with anonymous_client(server) as client:
        assert _post_login(client, rep.email, "reset by ada 123").status_code == 303


def test_a_rep_cannot_reset_passwords(server: ServerThread, admin: User, rep: User) -> None:
    with anonymous_client(server) as rex:
        csrf = _signed_in(rex, rep.email)
        form = {"csrf_token": csrf, "password": "taking over 123"}
        answer = rex.post(f"/settings/admin/users/{admin.id}/password", data=form)
    assert answer.status_code == 403


def test_an_idle_session_ends(
    server: ServerThread, runtime: Runtime, clock: FakeClock, rep: User
) -> None:
    with anonymous_client(server) as client:
        _signed_in(client, rep.email)
        clock.advance(minutes=runtime.settings.session_idle_minutes - 1)
        assert client.get("/api/v1/me").status_code == 200  # a request keeps it alive
        clock.advance(minutes=runtime.settings.session_idle_minutes - 1)
        assert client.get("/api/v1/me").status_code == 200
        clock.advance(minutes=runtime.settings.session_idle_minutes)
        assert client.get("/api/v1/me").status_code == 401
    assert _session_rows(runtime, rep) == 0


def test_a_busy_session_still_ends_at_its_absolute_lifetime(
    server: ServerThread, runtime: Runtime, clock: FakeClock, rep: User
) -> None:
    step = runtime.settings.session_idle_minutes - 1
    with anonymous_client(server) as client:
        _signed_in(client, rep.email)
        elapsed = 0
        while elapsed + step < runtime.settings.session_max_hours * 60:
            clock.advance(minutes=step)
            elapsed += step
            assert client.get("/api/v1/me").status_code == 200
        clock.advance(minutes=step)
        assert client.get("/api/v1/me").status_code == 401


def test_the_sixth_wrong_password_in_a_minute_is_throttled_before_any_hash(
    server: ServerThread, hasher: CountingHasher, clock: FakeClock, rep: User
) -> None:
    with anonymous_client(server) as client:
        for _ in range(5):
            assert _post_login(client, rep.email, "wrong password").status_code == 401
        checked = hasher.verifies
        assert checked == 5
        sixth = _post_login(client, rep.email, "wrong password")
        assert sixth.status_code == 429
        assert hasher.verifies == checked  # refused without hashing
        assert "Try again in 60 s" in sixth.text
        assert sixth.headers["Retry-After"] == "60"
        # The right password is refused too while throttled, again without hashing.
        assert _post_login(client, rep.email, PASSWORD).status_code == 429
        assert hasher.verifies == checked
        clock.advance(seconds=60)
        assert _post_login(client, rep.email, PASSWORD).status_code == 303
        assert hasher.verifies == checked + 1


def test_throttling_counts_unknown_accounts_too(
    server: ServerThread, hasher: CountingHasher, rep: User
) -> None:
    with anonymous_client(server) as client:
        for _ in range(5):
            assert _post_login(client, "nobody@example.com", "guess").status_code == 401
        assert _post_login(client, "nobody@example.com", "guess").status_code == 429
        assert hasher.verifies == 5


def test_one_address_trying_many_accounts_is_throttled(
    server: ServerThread, hasher: CountingHasher, rep: User
) -> None:
    with anonymous_client(server) as client:
        for number in range(20):
            answer = _post_login(client, f"user{number}@example.com", "guess")
            assert answer.status_code == 401
        assert _post_login(client, rep.email, PASSWORD).status_code == 429
    assert hasher.verifies == 20


def test_refused_and_throttled_sign_ins_are_audited_without_the_password(
    server: ServerThread, rep: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="salesync.audit")
    with anonymous_client(server) as client:
        for _ in range(6):
            _post_login(client, rep.email, "hunter2 wrong")
    actions = [getattr(record, "action", "") for record in caplog.records]
    assert actions.count("sign_in_refused") == 5
    assert actions.count("sign_in_throttled") == 1
    assert all("hunter2" not in record.getMessage() for record in caplog.records)
    assert all("hunter2" not in str(record.__dict__) for record in caplog.records)


def test_an_admin_resets_a_password_through_the_api(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with anonymous_client(server) as rex, anonymous_client(server) as ada:
        _signed_in(rex, rep.email)
        ada.headers["X-CSRF-Token"] = _signed_in(ada, admin.email)
        answer = ada.post(f"/api/v1/users/{rep.id}/password", json={"password": "via the api 1"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["email"] == rep.email
        assert rex.get("/api/v1/me").status_code == 401
        short = ada.post(f"/api/v1/users/{rep.id}/password", json={"password": "short"})
        assert short.status_code == 422
        assert short.json()["detail"][0]["field"] == "password"
    with anonymous_client(server) as client:
        assert _post_login(client, rep.email, "via the api 1").status_code == 303


def test_sessions_nobody_came_back_to_are_swept_at_the_next_sign_in(
    server: ServerThread, runtime: Runtime, clock: FakeClock, admin: User, rep: User
) -> None:
    with anonymous_client(server) as client:
        _signed_in(client, rep.email)
    clock.advance(minutes=runtime.settings.session_idle_minutes)
    with anonymous_client(server) as client:
        _signed_in(client, admin.email)
    assert _session_rows(runtime, rep) == 0
    assert _session_rows(runtime, admin) == 1


def test_simultaneous_wrong_passwords_hash_no_more_than_the_limit(
    runtime: Runtime, hasher: CountingHasher, rep: User
) -> None:
    hasher.verify_seconds = 0.2  # every hash overlaps the other tries
    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(
            pool.map(
                lambda _: sign_in_service.sign_in(runtime, rep.email, "wrong", "198.51.100.7"),
                range(12),
            )
        )
    assert hasher.verifies <= 5
    assert sum(outcome.throttled for outcome in outcomes) >= 7
    assert all(outcome.user is None for outcome in outcomes)
