"""Fixtures for tests that run salesync against a sandbox org served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from salesync.runtime import Runtime
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.sandbox.seed import username
from salesync.services import accounts
from salesync.serving import serve_in_thread
from salesync.settings import Settings
from salesync.store.crypto import SecretBox
from salesync.store.db import session_factory, unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    Person,
    Role,
    SalesforceConnection,
    User,
)
from tests.support import FakeClock


@dataclass
class Sandbox:
    """A served sandbox org: its in-process state and its HTTP address."""

    org: Org
    base_url: str
    #: Tasks the seed made; ``tasks()`` leaves them out so tests see only what they caused.
    seeded_task_ids: frozenset[str] = frozenset()

    def control(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.base_url}/__sandbox__/{path}", json=json)
        response.raise_for_status()
        return response.json() if response.content else None

    def api_calls(self) -> int:
        return int(self.control("GET", "api-calls")["total"])

    def tasks(self) -> list[dict[str, Any]]:
        return [
            dict(row)
            for row in self.org.records.rows("Task")
            if not row.get("IsDeleted") and row["Id"] not in self.seeded_task_ids
        ]


def make_sandbox(seed: str = "demo") -> Iterator[Sandbox]:
    org = Org(seed)
    with serve_in_thread(create_sandbox_app(org)) as server:
        seeded = frozenset(str(row["Id"]) for row in org.records.rows("Task"))
        yield Sandbox(org, server.base_url, seeded)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from make_sandbox("demo")


@pytest.fixture
def live_clock() -> FakeClock:
    """A hand-moved clock that starts at the real time, like the sandbox's clock."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def build_runtime(engine: Engine, sandbox: Sandbox, data_dir: Path, clock: FakeClock) -> Runtime:
    settings = Settings(
        data_dir=data_dir,
        database_url=engine.url.render_as_string(hide_password=False),
        salesforce_login_url=sandbox.base_url,  # type: ignore[arg-type]
        salesforce_sandbox_login_url=sandbox.base_url,  # type: ignore[arg-type]
        base_url="http://127.0.0.1:8000",  # type: ignore[arg-type]
    )
    return Runtime(settings, engine, session_factory(engine), SecretBox(b"k" * 40), clock)


@pytest.fixture
def runtime(engine: Engine, sandbox: Sandbox, tmp_path: Path, live_clock: FakeClock) -> Runtime:
    return build_runtime(engine, sandbox, tmp_path, live_clock)


def add_user(runtime: Runtime, email: str, *, admin: bool = False, tz: str = "UTC") -> User:
    with unit_of_work(runtime.sessions) as session:
        new = accounts.NewUser(
            email,
            email.split("@")[0].title(),
            "long enough password",
            Role.ADMIN if admin else Role.REP,
            tz,
        )
        return accounts.add_user(session, new, now=runtime.clock.now())


def connect(runtime: Runtime, sandbox: Sandbox, user: User, local: str = "rep1") -> int:
    """Store a connection for ``user`` as the sandbox user ``local`` (tokens minted directly)."""
    login = username(local)
    tokens = sandbox.org.issue_token(login)
    sf_user = sandbox.org.user_by_username(login)
    assert sf_user is not None
    box = runtime.secret_box
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = SalesforceConnection(
            team_id=user.team_id,
            user_id=user.id,
            purpose=ConnectionPurpose.USER,
            environment="production",
            login_url=sandbox.base_url,
            instance_url=sandbox.base_url,
            org_id=sandbox.org.org_id,
            sf_user_id=str(sf_user["Id"]),
            sf_username=login,
            sf_email=str(sf_user["Email"]),
            access_token_enc=box.encrypt(tokens.access_token),
            refresh_token_enc=box.encrypt(tokens.refresh_token) if tokens.refresh_token else None,
            status=ConnectionStatus.CONNECTED,
            connected_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


def connection_row(runtime: Runtime, connection_id: int) -> SalesforceConnection:
    """The connection's row as a worker holds it: read, then detached from its session."""
    with runtime.sessions() as session:
        row = session.get(SalesforceConnection, connection_id)
        assert row is not None
        session.expunge(row)
        return row


def add_person(runtime: Runtime, user: User, email: str | None, **ids: str | None) -> int:
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        person = Person(
            team_id=user.team_id,
            owner_id=user.id,
            first_name="Pat",
            last_name="Prospect",
            email=email,
            created_at=now,
            updated_at=now,
            **ids,
        )
        session.add(person)
        session.flush()
        return person.id
