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


def test_the_language_migration_makes_the_unchosen_english_automatic(
    empty_engine: Engine,
) -> None:
    """ "en" was only the column's default (it came in the same release): it becomes "" (the
    browser's language, then the team's); a language a rep did choose stays."""
    migrate.upgrade(empty_engine, "e13a5f7c2b01")
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO teams (id, name, api_budget_share, attribute_field_map,"
                " external_id_field, created_at) VALUES (1, 'T', 50, '{}', 'X__c', :at)"
            ),
            {"at": "2026-12-03 10:00:00+00:00"},
        )
        for user_id, language in [(1, "en"), (2, "de"), (3, "ja")]:
            connection.execute(
                text(
                    "INSERT INTO users (id, team_id, email, name, role, time_zone, password_hash,"
                    " is_active, created_at, language) VALUES (:id, 1, :email, 'U', 'rep', 'UTC',"
                    " 'x', true, :at, :language)"
                ),
                {
                    "id": user_id,
                    "email": f"u{user_id}@example.com",
                    "at": "2026-12-03 10:00:00+00:00",
                    "language": language,
                },
            )
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as connection:
        languages = dict(connection.execute(text("SELECT id, language FROM users")).all())
        assert languages == {1: "", 2: "de", 3: "ja"}
        assert connection.execute(text("SELECT default_language FROM teams")).scalar() == "en"
        connection.execute(
            text(
                "INSERT INTO users (id, team_id, email, name, role, time_zone, password_hash,"
                " is_active, created_at) VALUES (4, 1, 'new@example.com', 'N', 'rep', 'UTC',"
                " 'x', true, :at)"
            ),
            {"at": "2026-12-03 10:00:00+00:00"},
        )
        assert connection.execute(text("SELECT language FROM users WHERE id = 4")).scalar() == ""
    migrate.downgrade(empty_engine, "e13a5f7c2b01")
    with empty_engine.begin() as connection:
        languages = dict(connection.execute(text("SELECT id, language FROM users")).all())
    assert languages == {1: "en", 2: "de", 3: "ja", 4: "en"}
