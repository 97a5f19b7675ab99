"""The migrations build exactly the tables in code, and go down again, on every database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text

from salesync.store import migrate
from salesync.store.db import create_db_engine
from salesync.store.tables import Base
from tests.support import DATABASES, POSTGRES_URL, postgres_database_url


@pytest.fixture(params=DATABASES)
def empty_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    admin = create_db_engine(POSTGRES_URL, echo=False)
    name = "salesync_migration_test"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine = create_db_engine(postgres_database_url(name))
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


def _user_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_every_table_and_matches_the_code(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert _user_tables(empty_engine) == set(Base.metadata.tables)
    migrate.check(empty_engine)  # raises when code and migrations differ


def test_downgrade_to_base_removes_everything(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert _user_tables(empty_engine) == set()
    migrate.upgrade(empty_engine)
    assert _user_tables(empty_engine) == set(Base.metadata.tables)
