"""Fixtures and helpers for tests of the web app: a runtime on the test database, users, clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from salesync.runtime import Runtime, load_settings
from salesync.services import accounts
from salesync.serving import ServerThread, serve_in_thread
from salesync.store.db import unit_of_work
from salesync.store.tables import Role, Team, User
from salesync.web.app import create_app
from tests.support import FakeClock

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def build_runtime(engine: Engine, tmp_path: Path, clock: FakeClock, base_url: str) -> Runtime:
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key_file=tmp_path / "secret.key",
        data_dir=tmp_path / "data",
        base_url=base_url,
    )
    return Runtime.build(settings, clock=clock)


@pytest.fixture
def runtime(engine: Engine, tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(engine, tmp_path, clock, "http://testserver")
    yield built
    built.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
def server(app: FastAPI) -> Iterator[ServerThread]:
    """The app served over real HTTP (starlette's TestClient is deprecated with httpx)."""
    with serve_in_thread(app) as running:
        yield running


@dataclass(frozen=True)
class Team2:
    """The users of a second team, to prove teams never see each other's data."""

    admin: User
    rep: User


def add_user(runtime: Runtime, email: str, role: Role = Role.REP, name: str = "") -> User:
    new = accounts.NewUser(
        email=email, name=name or email.split("@")[0], password=PASSWORD, role=role
    )
    with unit_of_work(runtime.sessions) as session:
        return accounts.add_user(session, new, now=runtime.clock.now())


def add_team(runtime: Runtime, name: str, now: datetime) -> Team2:
    """A second team; accounts.add_user only fills the first one, so its users are moved."""
    admin = add_user(runtime, f"admin@{name}.example", Role.ADMIN)
    rep = add_user(runtime, f"rep@{name}.example")
    with unit_of_work(runtime.sessions) as session:
        team = Team(name=name, created_at=now)
        session.add(team)
        session.flush()
        for user in (admin, rep):
            session.merge(user).team_id = team.id
        admin.team_id = rep.team_id = team.id
    return Team2(admin, rep)


@pytest.fixture
def admin(runtime: Runtime) -> User:
    return add_user(runtime, "ada@example.com", Role.ADMIN, "Ada Admin")


@pytest.fixture
def rep(runtime: Runtime, admin: User) -> User:
    return add_user(runtime, "rex@example.com", Role.REP, "Rex Rep")


@pytest.fixture
def other_team(runtime: Runtime, admin: User, clock: FakeClock) -> Team2:
    return add_team(runtime, "othercorp", clock.now())


def csrf_from(html: str) -> str:
    match = _CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    token = csrf_from(client.get("/login").text)
    answer = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert answer.status_code == 303, answer.text
    return csrf_from(client.get("/").text)


def anonymous_client(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, follow_redirects=False)


@contextmanager
def browser_for(server: ServerThread, user: User) -> Iterator[httpx.Client]:
    """A signed-in browser whose API writes carry the session's CSRF header."""
    with anonymous_client(server) as client:
        client.headers["X-CSRF-Token"] = sign_in(client, user.email)
        yield client


def new_token(server: ServerThread, user: User, name: str = "tests") -> str:
    with browser_for(server, user) as browser:
        answer = browser.post("/api/v1/tokens", json={"name": name})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


@contextmanager
def token_client(server: ServerThread, user: User) -> Iterator[httpx.Client]:
    """A client that authenticates with a fresh API token of ``user`` and sends no cookie."""
    token = new_token(server, user)
    with anonymous_client(server) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
