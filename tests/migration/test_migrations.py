"""The migrations build exactly the tables in code, and go down again, on every database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, make_url, text

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
    # Named after the test database, so test runs against other databases never collide.
    name = f"{make_url(POSTGRES_URL).database}_migration_test"
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


_BEFORE_ONE_SPELLING = "e13a5f7c2b01"
_ONE_SPELLING = "f17c5a1ab0de"
_T0 = "2026-03-02 15:30:00"


def _add_task_with_lowercase_sync_data(engine: Engine) -> None:
    """A linked task as the code before the one-spelling migration stored it."""
    snapshot = {
        "base": {
            "name": "Call Maria",
            "status": "complete",
            "priority": "high",
            "due_date": "2026-03-03",
            "details": None,
        },
        "remote": {"Status": "Completed", "Priority": "High", "Subject": "Call Maria"},
        "owner": "005000000000001AAA",
    }
    statements = [
        "INSERT INTO teams (id, name, api_budget_share, attribute_field_map,"
        " external_id_field, created_at) VALUES (1, 'Acme', 0.5, '{}', '', :t0)",
        "INSERT INTO users (id, team_id, email, name, role, time_zone, password_hash,"
        " is_active, created_at, language) VALUES"
        " (1, 1, 'ana@example.com', 'Ana', 'rep', 'UTC', 'x', true, :t0, 'en')",
        "INSERT INTO reminder_tasks (id, team_id, assignee_id, name, status, priority,"
        " details, field_edited_at, created_at, updated_at, task_type) VALUES"
        " (1, 1, 1, 'Call Maria', 'Complete', 'High', '', '{}', :t0, :t0, 'Custom')",
        "INSERT INTO task_conflicts (id, task_id, field, local_value, remote_value, winner,"
        " reason, decided_at) VALUES"
        " (1, 1, 'status', 'open', 'complete', 'salesforce', 'later edit', :t0),"
        " (2, 1, 'due_date', '2026-03-03', '2026-03-04', 'salesync', 'later edit', :t0)",
        "INSERT INTO sync_cursors (id, scope, name, value, updated_at) VALUES"
        " (1, 'task:1', 'snapshot', :snapshot, :t0),"
        " (2, 'org:00D000000000001AAA', 'tasks', :cursor, :t0)",
    ]
    params = {
        "t0": _T0,
        "snapshot": json.dumps(snapshot),
        "cursor": json.dumps({"status": "open", "since": _T0}),
    }
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


def _sync_data(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        snapshot, cursor = (
            row.value if isinstance(row.value, dict) else json.loads(row.value)
            for row in connection.execute(text("SELECT value FROM sync_cursors ORDER BY id"))
        )
        conflicts = connection.execute(
            text("SELECT field, local_value, remote_value FROM task_conflicts ORDER BY id")
        ).all()
    base = snapshot["base"]
    return (
        base["status"],
        base["priority"],
        snapshot["remote"],
        cursor,
        [tuple(c) for c in conflicts],
    )


def test_one_spelling_rewrites_snapshots_and_conflicts_and_goes_back(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, _BEFORE_ONE_SPELLING)
    _add_task_with_lowercase_sync_data(empty_engine)
    remote = {"Status": "Completed", "Priority": "High", "Subject": "Call Maria"}
    untouched = {"status": "open", "since": _T0}  # not a task snapshot
    migrate.upgrade(empty_engine, _ONE_SPELLING)
    assert _sync_data(empty_engine) == (
        "Complete",
        "High",
        remote,
        untouched,
        [("status", "Open", "Complete"), ("due_date", "2026-03-03", "2026-03-04")],
    )
    migrate.downgrade(empty_engine, _BEFORE_ONE_SPELLING)
    assert _sync_data(empty_engine) == (
        "complete",
        "high",
        remote,
        untouched,
        [("status", "open", "complete"), ("due_date", "2026-03-03", "2026-03-04")],
    )


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


def test_the_shipped_head_constant_is_the_migrations_head(empty_engine: Engine) -> None:
    """A start at the head skips Alembic only if SHIPPED_HEAD names the real head: a new
    migration must update it (else every start would load Alembic and upgrade for nothing)."""
    assert migrate.head_revisions(empty_engine) == {migrate.SHIPPED_HEAD}
    assert not migrate.at_shipped_head(empty_engine)  # never migrated: no version table
    migrate.upgrade(empty_engine)
    assert migrate.at_shipped_head(empty_engine)
    migrate.downgrade(empty_engine, "-1")
    assert not migrate.at_shipped_head(empty_engine)
    migrate.upgrade(empty_engine)  # not at the head: Alembic runs and gets there
    assert migrate.current_revisions(empty_engine) == {migrate.SHIPPED_HEAD}
