"""Memory while syncing 100,000 Salesforce Tasks into salesync (DESIGN §5: flat, < 300 MB RSS).

The sandbox org runs in its own process (``salesync sandbox --db``) so that only salesync's
memory is measured here: a rep with 100,000 recent Tasks turns two-way task sync on, and the
worker imports them all. RSS is sampled every 50 ms from /proc while it runs.

Usage: python -m bench.memory_bench [N]   (default 100000)
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.support import bench_runtime, connect_sandbox_rep
from salesync.clock import SystemClock
from salesync.runtime import Runtime
from salesync.services import task_sync
from salesync.store.tables import (
    OutboxItem,
    OutboxStatus,
    ReminderTask,
)
from salesync.sync.factory import build_worker
from tests.fixtures_sandbox import add_user

REP = "rep1@sandbox.salesync.test"
BUILD_ORG = """
import sys
from datetime import date
from salesync.sandbox.org import Org
from salesync.sandbox.security import UserAccess
org = Org.open(sys.argv[1], seed="empty")
org.add_user(sys.argv[2], first_name="Rep", last_name="One", email="rep1@salesync.test",
             access=UserAccess(password="sandbox"))
# One writer in one batch, saved once: create_record saves the org after every record, and
# each save scans the change log, which made 100,000 records take hours.
writer, task = org.dml(org.user_id(sys.argv[2]), mode="ui"), org.sobject("Task")
assert task is not None
with org.batch(save=False):
    for i in range(int(sys.argv[3])):
        writer.create(task, {"Subject": f"Follow up {i}", "TaskSubtype": "Task",
                             "ActivityDate": date.today().isoformat(),
                             "Description": "Call back about the renewal " * 4})
org.save(replace_all=True)
"""


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        org_file = Path(folder) / "org.db"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", BUILD_ORG, str(org_file), REP, str(count)], check=True
        )
        print(f"org with {count} Tasks built in {time.perf_counter() - started:.0f} s", flush=True)
        port = free_port()
        sandbox = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "salesync",
                "sandbox",
                "--port",
                str(port),
                "--db",
                str(org_file),
                "--seed",
                "empty",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            run(folder, f"http://127.0.0.1:{port}", count)
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)


def run(folder: str, base_url: str, count: int) -> None:
    for _ in range(600):
        try:
            httpx.get(base_url + "/services/data/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    with bench_runtime(folder, base_url, SystemClock()) as runtime:
        measure(runtime, base_url, count)


def measure(runtime: Runtime, base_url: str, count: int) -> None:
    user = add_user(runtime, "rep1@salesync.test")
    connect_sandbox_rep(runtime, user.team_id, user.id, base_url, REP, datetime.now(UTC))
    baseline = rss_mb()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    task_sync.set_mode(runtime, user, "two_way")
    worker = build_worker(runtime)
    for _ in range(1000):
        worker.drain()
        for job in worker.periodic:
            job.run_once()
        with runtime.sessions() as session:
            waiting = (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.status != OutboxStatus.DONE)
                )
                or 0
            )
            imported = session.scalar(select(func.count()).select_from(ReminderTask)) or 0
        if not waiting and imported >= count:
            break
    elapsed = time.perf_counter() - started
    done.set()
    print(
        f"{'tasks imported':>15} {'seconds':>8} {'RSS before MB':>14} {'peak RSS MB':>12} "
        f"{'growth MB':>10}"
    )
    print(
        f"{imported:>15} {elapsed:>8.1f} {baseline:>14.0f} {peak[0]:>12.0f} "
        f"{peak[0] - baseline:>10.0f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
