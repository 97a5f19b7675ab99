"""A counting password hasher and a runtime that uses it, for the security tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from salesync.runtime import Runtime, load_settings
from salesync.services import accounts
from salesync.serving import ServerThread, serve_in_thread
from salesync.store.db import unit_of_work
from salesync.store.tables import Role, User
from salesync.web.app import create_app
from tests.integration.web.web_support import anonymous_client, csrf_from
from tests.support import FakeClock

PASSWORD = "correct horse battery"


class CountingHasher:
    """A fast stand-in for Argon2 that counts every hash and every check it is asked for.

    ``verify_seconds`` makes each check take that long, so simultaneous sign-ins overlap.
    """

    def __init__(self, verify_seconds: float = 0.0) -> None:
        self.hashes = 0
        self.verifies = 0
        self.verify_seconds = verify_seconds
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        self.hashes += 1
        return "counted$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.verifies += 1
        time.sleep(self.verify_seconds)
        return password_hash == "counted$" + password


def counted_runtime(
    engine: Engine, tmp_path: Path, clock: FakeClock, hasher: CountingHasher, **settings: Any
) -> Iterator[Runtime]:
    built = Runtime.build(
        load_settings(
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key_file=tmp_path / "secret.key",
            data_dir=tmp_path / "data",
            base_url="http://testserver",
            **settings,
        ),
        clock=clock,
        password_hasher=hasher,
    )
    yield built
    built.close()


def add_counted_user(
    runtime: Runtime, email: str, role: Role = Role.REP, password: str = PASSWORD
) -> User:
    new = accounts.NewUser(email=email, name=email.split("@")[0], password=password, role=role)
    with unit_of_work(runtime.sessions) as session:
        return accounts.add_user(
            session, new, now=runtime.clock.now(), hasher=runtime.password_hasher
        )


# Fixtures: import them into a test module (and list them in its __all__) to use them there.


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def runtime(
    engine: Engine, tmp_path: Path, clock: FakeClock, hasher: CountingHasher
) -> Iterator[Runtime]:
    yield from counted_runtime(engine, tmp_path, clock, hasher)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
def server(app: FastAPI) -> Iterator[ServerThread]:
    with serve_in_thread(app) as running:
        yield running


@pytest.fixture
def admin(runtime: Runtime) -> User:
    return add_counted_user(runtime, "ada@example.com", Role.ADMIN)


@pytest.fixture
def rep(runtime: Runtime, admin: User) -> User:
    return add_counted_user(runtime, "rex@example.com")


@contextmanager
def signed_in_client(server: ServerThread, user: User) -> Iterator[httpx.Client]:
    """A browser signed in as ``user`` whose API writes carry the CSRF header."""
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login").text)
        form = {"email": user.email, "password": PASSWORD, "csrf_token": token}
        answer = client.post("/login", data=form)
        assert answer.status_code == 303, answer.text
        client.headers["X-CSRF-Token"] = csrf_from(client.get("/").text)
        yield client
