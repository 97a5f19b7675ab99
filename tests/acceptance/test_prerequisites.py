"""``scripts/prerequisites``: a missing system program stops ``make test`` at once, with the
one command that installs it (as a user who cannot install it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prerequisites"


def _as_unprivileged(args: list[str]) -> list[str]:
    # Run as root, the script would install packages; as another user it must only explain.
    if os.geteuid() == 0:
        return ["runuser", "-u", "nobody", "--", *args]
    return args


def _readable_copy() -> Path:
    """The script in a folder any user may read (the checkout may sit in a private home)."""
    folder = Path(tempfile.mkdtemp()) / "scripts"
    folder.mkdir()
    for path in (folder.parent, folder):
        path.chmod(0o755)
    copy = folder / SCRIPT.name
    shutil.copy(SCRIPT, copy)
    copy.chmod(0o755)
    return copy


def _run(env_extra: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **env_extra}
    script = _readable_copy()
    try:
        return subprocess.run(
            _as_unprivileged(["bash", str(script), what]),
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        shutil.rmtree(script.parent.parent)


def test_missing_chromium_and_dovecot_stop_with_the_install_command() -> None:
    result = _run(
        {"SALESYNC_CHROMIUM": "/nonexistent/chromium", "SALESYNC_DOVECOT": "/no/dovecot"}, "test"
    )
    assert result.returncode == 1
    assert "sudo sh -c 'apt-get update && apt-get install -y chromium dovecot-imapd'" in (
        result.stderr
    )


def test_only_what_is_missing_is_named() -> None:
    present = shutil.which("true") or "/bin/true"
    result = _run(
        {"SALESYNC_CHROMIUM": "/nonexistent/chromium", "SALESYNC_DOVECOT": present}, "test"
    )
    assert result.returncode == 1
    assert "apt-get install -y chromium'" in result.stderr
    assert "dovecot-imapd" not in result.stderr


def test_the_demo_does_not_need_the_test_programs() -> None:
    result = _run({"SALESYNC_CHROMIUM": "/nonexistent/chromium", "SALESYNC_DOVECOT": "/no"}, "demo")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
