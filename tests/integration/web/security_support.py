"""A counting password hasher and a runtime that uses it, for the security tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from salesync.runtime import Runtime, load_settings
from salesync.services import accounts
from salesync.store.db import unit_of_work
from salesync.store.tables import Role, User
from tests.support import FakeClock

PASSWORD = "correct horse battery"


class CountingHasher:
    """A fast stand-in for Argon2 that counts every hash and every check it is asked for."""

    def __init__(self) -> None:
        self.hashes = 0
        self.verifies = 0

    def hash(self, password: str) -> str:
        self.hashes += 1
        return "counted$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifies += 1
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
