"""The ``salesync`` command in a subprocess, with no configuration but a data folder."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def _run(
    args: list[str], env_extra: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESYNC_")}
    env.update({"SALESYNC_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path), **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "salesync", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_and_user_add_work_with_no_configuration(tmp_path: Path) -> None:
    upgraded = _run(["db", "upgrade"], {}, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    added = _run(
        ["user", "add", "admin@example.com", "--admin", "--name", "Ada"],
        {"SALESYNC_NEW_USER_PASSWORD": "a long password"},
        tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert "created admin admin@example.com" in added.stdout
    db = tmp_path / "data" / "salesync.db"
    rows = sqlite3.connect(db).execute("select email, role from users").fetchall()
    assert rows == [("admin@example.com", "admin")]
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o777 == 0o600


def test_invalid_configuration_exits_2_with_the_variable_and_no_traceback(tmp_path: Path) -> None:
    result = _run(["db", "upgrade"], {"SALESYNC_SMTP_PORT": "many"}, tmp_path)
    assert result.returncode == 2
    assert "SALESYNC_SMTP_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    result = _run(["db", "upgrade"], {"SALESYNC_DATABASE_URL": url}, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the database")
    assert "Traceback" not in result.stderr


def test_duplicate_user_is_refused_cleanly(tmp_path: Path) -> None:
    env = {"SALESYNC_NEW_USER_PASSWORD": "a long password"}
    assert _run(["user", "add", "a@example.com"], env, tmp_path).returncode == 0
    again = _run(["user", "add", "a@example.com"], env, tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_the_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    upgraded = _run(["db", "upgrade"], {}, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    data = tmp_path / "data"
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "salesync.db").stat().st_mode & 0o777 == 0o600


def test_an_admin_resets_a_password_from_the_command_line(tmp_path: Path) -> None:
    env = {"SALESYNC_NEW_USER_PASSWORD": "a long password"}
    assert _run(["user", "add", "ada@example.com", "--admin"], env, tmp_path).returncode == 0
    db = tmp_path / "data" / "salesync.db"
    before = sqlite3.connect(db).execute("select password_hash from users").fetchone()[0]
    reset = _run(
        ["user", "reset-password", "ada@example.com"],
        {"SALESYNC_NEW_USER_PASSWORD": "another long password"},
        tmp_path,
    )
    assert reset.returncode == 0, reset.stderr
    assert "new password set for ada@example.com" in reset.stdout
    after = sqlite3.connect(db).execute("select password_hash from users").fetchone()[0]
    assert after != before
    unknown = _run(["user", "reset-password", "nobody@example.com"], env, tmp_path)
    assert unknown.returncode == 1
    assert "no user has the email nobody@example.com" in unknown.stderr
