"""``salesync demo`` in a subprocess: one demo per data folder, ports checked before anything
changes, "ready" only once the web app answers, task sync on with reminders on both sides,
and the other commands working on the demo's data while it runs."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

READY_WAIT_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESYNC_")}
    env.update({"SALESYNC_DATA_DIR": str(data_dir), "HOME": str(data_dir.parent), "COLUMNS": "200"})
    return env


def _salesync(args: list[str], data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salesync", *args],
        env=_env(data_dir),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class RunningDemo:
    process: subprocess.Popen[str]
    ports: list[str]
    web_url: str
    data_dir: Path
    output: str

    @property
    def folder(self) -> Path:
        return self.data_dir / "demo"


def _answers(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """One demo for the module (seeding the org takes a while), stopped with Ctrl+C."""
    tmp_path = tmp_path_factory.mktemp("demo")
    data_dir = tmp_path / "data"
    web, sandbox, smtp = _free_port(), _free_port(), _free_port()
    ports = ["--port", str(web), "--sandbox-port", str(sandbox), "--smtp-port", str(smtp)]
    process = subprocess.Popen(
        [sys.executable, "-m", "salesync", "demo", *ports],
        env=_env(data_dir),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    web_url = f"http://127.0.0.1:{web}"
    try:
        deadline = time.monotonic() + READY_WAIT_SECONDS
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("ready"):
                # Said only once the web app answers: it must answer right now.
                assert _answers(web_url + "/login") == 200
                break
        assert any(line.startswith("ready") for line in lines), "".join(lines)
        for _ in range(12):  # the rest of the welcome: the passwords table and the hints
            lines.append(process.stdout.readline())
        yield RunningDemo(process, ports, web_url, data_dir, "".join(lines))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_passwords_come_after_ready_and_reminders_sync_both_ways(demo: RunningDemo) -> None:
    before_ready, _, after_ready = demo.output.partition("\nready")
    assert "rep1@demo.salesync.test" not in before_ready
    assert "rep1@demo.salesync.test" in after_ready
    assert "two-way task sync on" in after_ready
    database = demo.folder / "salesync.db"
    deadline = time.monotonic() + 60
    while True:
        with sqlite3.connect(database) as connection:
            linked = connection.execute(
                "select t.name from reminder_tasks t join salesforce_links l "
                "on l.local_type = 'task' and l.local_id = t.id"
            ).fetchall()
        if len(linked) >= 8 or time.monotonic() > deadline:
            break
        time.sleep(1)
    names = sorted(name for (name,) in linked)
    # Two reps, two reminders made in Salesforce (imported) and two in salesync (pushed) each.
    assert names == sorted(
        ["Call back about the renewal", "Send the pricing sheet"] * 2
        + ["Prepare the demo agenda", "Follow up on the trial"] * 2
    )


def test_a_second_demo_is_refused_and_leaves_the_first_alone(
    demo: RunningDemo, tmp_path: Path
) -> None:
    second = _salesync(["demo", *demo.ports], demo.data_dir, tmp_path)
    assert second.returncode == 1
    assert second.stderr.startswith("error: a demo is already running on")
    assert "Traceback" not in second.stderr
    assert (demo.folder / "salesync.db").exists()
    assert _answers(demo.web_url + "/login") == 200
    assert demo.process.poll() is None


def test_commands_use_the_running_demos_data(demo: RunningDemo, tmp_path: Path) -> None:
    result = _salesync(["diagnose", "rep1@demo.salesync.test"], demo.data_dir, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"using the running demo's data in {demo.folder}" in result.stderr
    assert "Diagnostics" in result.stdout


def test_busy_port_is_found_before_anything_changes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    earlier = data_dir / "demo" / "kept.txt"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("a previous demo's data")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["demo", "--port", str(_free_port()), "--sandbox-port", str(port)]
        result = _salesync([*args, "--smtp-port", str(_free_port())], data_dir, tmp_path)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--sandbox-port" in result.stderr
    assert earlier.read_text() == "a previous demo's data"
