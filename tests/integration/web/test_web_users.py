"""Users admin: admins list, add and deactivate teammates; reps can do none of it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store.tables import Role, User
from tests.integration.web.web_support import (
    PASSWORD,
    Team2,
    anonymous_client,
    browser_for,
    csrf_from,
    token_client,
)


def _users(runtime: Runtime) -> list[tuple[str, Role, bool, int]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(User.email, User.role, User.is_active, User.team_id).order_by(User.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


NEW_USER = {
    "email": "nia@example.com",
    "name": "Nia New",
    "role": "rep",
    "time_zone": "Europe/Paris",
    "password": "another long one",
}


def test_admin_adds_a_user_who_can_then_sign_in(
    server: ServerThread, runtime: Runtime, admin: User
) -> None:
    with token_client(server, admin) as client:
        answer = client.post("/api/v1/users", json=NEW_USER)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        listed = [u["email"] for u in client.get("/api/v1/users").json()]
    assert {k: body[k] for k in ("email", "name", "role", "time_zone", "is_active")} == {
        "email": "nia@example.com",
        "name": "Nia New",
        "role": "rep",
        "time_zone": "Europe/Paris",
        "is_active": True,
    }
    assert "password" not in body and "password_hash" not in body
    assert listed == [admin.email, "nia@example.com"]
    assert _users(runtime)[-1] == ("nia@example.com", Role.REP, True, admin.team_id)
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login").text)
        form = {"email": "nia@example.com", "password": "another long one", "csrf_token": token}
        assert client.post("/login", data=form).status_code == 303


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"role": "owner"}, "role"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_new_user_is_422_naming_the_field(
    server: ServerThread, runtime: Runtime, admin: User, changes: dict[str, str], field: str
) -> None:
    before = _users(runtime)
    with token_client(server, admin) as client:
        answer = client.post("/api/v1/users", json=NEW_USER | changes)
    assert answer.status_code == 422
    assert [problem["field"] for problem in answer.json()["detail"]] == [field]
    assert _users(runtime) == before


def test_an_email_already_in_use_is_a_conflict(server: ServerThread, admin: User) -> None:
    with token_client(server, admin) as client:
        answer = client.post("/api/v1/users", json=NEW_USER | {"email": "ADA@example.com"})
    assert answer.status_code == 409
    assert "already exists" in answer.json()["detail"]


def test_deactivated_user_loses_session_tokens_and_sign_in(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with (
        browser_for(server, rep) as rep_browser,
        token_client(server, rep) as rep_script,
        token_client(server, admin) as admin_client,
    ):
        answer = admin_client.post(f"/api/v1/users/{rep.id}/deactivate")
        assert answer.status_code == 200
        assert answer.json()["is_active"] is False
        assert rep_browser.get("/").status_code == 303
        assert rep_script.get("/api/v1/me").status_code == 401
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login").text)
        form = {"email": rep.email, "password": PASSWORD, "csrf_token": token}
        assert client.post("/login", data=form).status_code == 401


def test_an_admin_cannot_deactivate_themselves(server: ServerThread, admin: User) -> None:
    with token_client(server, admin) as client:
        answer = client.post(f"/api/v1/users/{admin.id}/deactivate")
        assert answer.status_code == 409
        assert client.get("/api/v1/me").status_code == 200


def test_admins_see_and_touch_only_their_own_team(
    server: ServerThread, runtime: Runtime, admin: User, other_team: Team2
) -> None:
    with token_client(server, admin) as client:
        listed = [u["email"] for u in client.get("/api/v1/users").json()]
        answer = client.post(f"/api/v1/users/{other_team.rep.id}/deactivate")
    assert listed == [admin.email]
    assert answer.status_code == 404
    assert all(active for email, _, active, _ in _users(runtime))


def test_a_user_added_by_another_teams_admin_joins_that_team(
    server: ServerThread, runtime: Runtime, admin: User, other_team: Team2
) -> None:
    with token_client(server, other_team.admin) as client:
        assert client.post("/api/v1/users", json=NEW_USER).status_code == 201
    assert _users(runtime)[-1][3] == other_team.admin.team_id != admin.team_id


ADMIN_API_CALLS = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", NEW_USER),
    ("POST", "/api/v1/users/{admin_id}/deactivate", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_API_CALLS)
def test_a_rep_gets_403_from_the_admin_api_and_changes_nothing(
    server: ServerThread,
    runtime: Runtime,
    admin: User,
    rep: User,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    before = _users(runtime)
    with token_client(server, rep) as client:
        answer = client.request(method, path.format(admin_id=admin.id), json=body)
    assert answer.status_code == 403
    assert _users(runtime) == before


@pytest.mark.parametrize(
    "path",
    [
        "/settings/admin",
        "/settings/admin/users",
        "/settings/admin/salesforce/connections",
        "/settings/admin/salesforce/sync-settings",
    ],
)
def test_a_rep_gets_403_from_admin_pages(server: ServerThread, rep: User, path: str) -> None:
    with browser_for(server, rep) as browser:
        answer = browser.get(path)
    assert answer.status_code == 403
    assert "Not allowed" in answer.text


def test_a_rep_posting_admin_forms_gets_403_and_changes_nothing(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    before = _users(runtime)
    with browser_for(server, rep) as browser:
        csrf = {"csrf_token": browser.headers["X-CSRF-Token"]}
        added = browser.post("/settings/admin/users", data=NEW_USER | csrf)
        deactivated = browser.post(f"/settings/admin/users/{admin.id}/deactivate", data=csrf)
    assert (added.status_code, deactivated.status_code) == (403, 403)
    assert _users(runtime) == before


def test_users_page_adds_and_deactivates(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with browser_for(server, admin) as browser:
        csrf = {"csrf_token": browser.headers.pop("X-CSRF-Token")}
        page = browser.get("/settings/admin/users")
        assert rep.email in page.text and 'aria-label="Deactivate Rex Rep"' in page.text
        added = browser.post("/settings/admin/users", data=NEW_USER | csrf)
        assert added.status_code == 303
        assert "Nia New can now sign in" in browser.get("/settings/admin/users").text
        gone = browser.post(f"/settings/admin/users/{rep.id}/deactivate", data=csrf)
        assert gone.status_code == 303
    assert [(email, active) for email, _, active, _ in _users(runtime)] == [
        (admin.email, True),
        (rep.email, False),
        ("nia@example.com", True),
    ]


def test_users_page_shows_the_bad_field_and_keeps_the_input(
    server: ServerThread, runtime: Runtime, admin: User
) -> None:
    with browser_for(server, admin) as browser:
        csrf = {"csrf_token": browser.headers.pop("X-CSRF-Token")}
        answer = browser.post("/settings/admin/users", data=NEW_USER | csrf | {"password": "x"})
    assert answer.status_code == 422
    assert 'id="user-password-error"' in answer.text
    assert 'value="nia@example.com"' in answer.text
    assert len(_users(runtime)) == 1
