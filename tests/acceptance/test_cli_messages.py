"""The command line's messages: one line and no traceback for a missing or empty database,
what ``db upgrade`` did, database URLs, misspelt variables and the password prompt."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

#: Every command that reads the database without creating it.
READING_COMMANDS = [
    ["diagnose", "rep@example.com"],
    ["people", "import", "people.csv", "--user", "rep@example.com"],
    ["diagnostics", "retry", "--user", "rep@example.com", "--all"],
]


def _run(
    args: list[str], tmp_path: Path, env_extra: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESYNC_")}
    env.update({"SALESYNC_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)})
    env.update(env_extra or {})
    (tmp_path / "people.csv").write_text("Email\nann@example.com\n")
    return subprocess.run(
        [sys.executable, "-m", "salesync", *args],
        env=env,
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", READING_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_missing_database_is_one_line(args: list[str], tmp_path: Path) -> None:
    result = _run(args, tmp_path)
    assert result.returncode == 1
    database = tmp_path / "data" / "salesync.db"
    assert result.stderr == (
        f"error: no database at {database}: create it with `salesync db upgrade` "
        "(or start `salesync demo`)\n"
    )
    assert not database.exists()


@pytest.mark.parametrize("args", READING_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_unmigrated_database_is_one_line(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "salesync.db").touch()
    result = _run(args, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: the database sqlite:///")
    assert result.stderr.endswith("is empty: set it up with `salesync db upgrade`\n")


def test_db_upgrade_says_whether_it_changed_anything(tmp_path: Path) -> None:
    first = _run(["db", "upgrade"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert " created (revision " in first.stdout
    second = _run(["db", "upgrade"], tmp_path)
    assert " was already up to date (revision " in second.stdout
    assert _run(["db", "upgrade", "base"], tmp_path).returncode == 0


def test_postgres_scheme_is_accepted_as_postgresql(tmp_path: Path) -> None:
    url = "postgres://nobody@127.0.0.1:9/none"
    result = _run(["db", "upgrade"], tmp_path, {"SALESYNC_DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: cannot reach the database postgresql+psycopg://nobody@127.0.0.1:9/none"
    )


def test_unknown_database_scheme_names_what_works(tmp_path: Path) -> None:
    result = _run(["db", "upgrade"], tmp_path, {"SALESYNC_DATABASE_URL": "mysql://x@h/db"})
    assert result.returncode == 2
    assert "postgresql://user@host/db" in result.stderr


def test_misspelt_variable_is_warned_about_with_the_closest_name(tmp_path: Path) -> None:
    result = _run(["db", "upgrade"], tmp_path, {"SALESYNC_DATABSE_URL": "sqlite:///x.db"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "warning: SALESYNC_DATABSE_URL is not a salesync setting and is ignored; "
        "did you mean SALESYNC_DATABASE_URL?\n"
    )


def test_password_prompt_shows_no_empty_default(tmp_path: Path) -> None:
    result = _run(["user", "add", "a@example.com"], tmp_path, stdin="a long password\n" * 2)
    assert result.returncode == 0, result.stderr
    prompts = result.stdout + result.stderr
    assert "Password:" in prompts
    assert "[]" not in prompts


def test_a_database_migrated_by_a_newer_salesync_is_one_line(tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    database = tmp_path / "data" / "salesync.db"
    with sqlite3.connect(database) as connection:
        connection.execute("update alembic_version set version_num = 'ffffffffffff'")
    diagnose = _run(["diagnose", "rep@example.com"], tmp_path)
    assert diagnose.returncode == 1
    assert diagnose.stderr.endswith(
        "is at revision ffffffffffff, which this version of salesync does not know: "
        "a newer salesync migrated it\n"
    )
    upgrade = _run(["db", "upgrade"], tmp_path)
    assert upgrade.returncode == 1
    assert upgrade.stderr == (
        "error: database migrations: Can't locate revision identified by 'ffffffffffff'\n"
    )
