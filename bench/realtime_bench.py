"""Real time and big reads: Change Data Capture vs polling, Bulk API 2.0 vs REST paging.

1. Latency, Salesforce -> salesync: a worker runs the real loop on the real clock against the
   sandbox; a Task is edited in the org and salesync is watched until it shows the edit.
   Once with the org's Change Data Capture stream (the sandbox's Pub/Sub API over gRPC),
   once with polling only (CDC unavailable), side by side.
2. First import of a rep's N recent Tasks: API calls and peak RSS of salesync through a Bulk
   API 2.0 query job vs REST query pages. The sandbox org runs in its own process and each
   import in a fresh process of its own, so each RSS figure is that import's alone.

Usage: python -m bench.realtime_bench [--samples 10] [--poll-interval 5] [--tasks 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.memory_bench import BUILD_ORG, REP, free_port, rss_mb
from bench.support import bench_runtime, connect_sandbox_rep
from bench.task_sync_bench import Setup, _p95, _pull_once, _wait_for, setup
from salesync.clock import SystemClock
from salesync.runtime import Runtime
from salesync.salesforce import oauth
from salesync.salesforce.auth import MemoryTokenStore, OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.pubsub import PubSubClient
from salesync.sandbox.pubsub_server import PubSubServer
from salesync.services import task_sync, tasks
from salesync.store import task_streams
from salesync.store import tasks as task_store
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    OutboxItem,
    OutboxStatus,
    ReminderTask,
)
from salesync.sync.task_stream_job import PubSubFactory
from salesync.sync.task_worker import task_handlers, task_periodic_jobs
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import add_user

WORKER_ID = "bench-realtime"

# -- 1. latency ----------------------------------------------------------------------------------


@contextmanager
def _worker(world: Setup, pubsub: PubSubFactory) -> Iterator[Worker]:
    runtime = world.runtime
    periodic = task_periodic_jobs(runtime, worker_id=WORKER_ID, pubsub=pubsub)
    worker = Worker(
        runtime, task_handlers(runtime), periodic, worker_id=WORKER_ID, idle_seconds=0.05
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(timeout=30)
        for job in periodic:
            getattr(job, "stop", lambda: None)()


def _linked_task(world: Setup) -> None:
    rep = world.reps[0]
    task = tasks.create_task(world.runtime, rep, {"name": "Watched"})

    def linked() -> bool:
        with unit_of_work(world.runtime.sessions) as session:
            return task_store.link_for_task(session, task.id) is not None

    _wait_for(linked, timeout=30)


def latency(samples: int, poll_interval: float, *, cdc: bool) -> tuple[list[float], int]:
    """Seconds from a Salesforce edit until salesync shows it; and the API calls made."""
    with setup(1, clock=SystemClock(), poll_interval=poll_interval) as world:
        rep = world.reps[0]
        task_sync.set_mode(world.runtime, rep, "two_way")
        with PubSubServer(world.org, instance_urls=(world.base_url,)) as server:

            def connect(_: str) -> PubSubClient | None:
                return PubSubClient(server.address, tls=False) if cdc else None

            with _worker(world, connect):
                _linked_task(world)
                if cdc:
                    _wait_for(lambda: _mode(world) == task_streams.CDC, timeout=30)
                calls = world.org.usage.total
                measured = []
                for number in range(samples):
                    # Salesforce stamps saves to the second: keep edits in separate seconds,
                    # as a person's would be.
                    time.sleep(1.1)
                    measured.append(_pull_once(world, rep, number, poll_interval))
                return measured, int(world.org.usage.total - calls)


def _mode(world: Setup) -> str:
    with unit_of_work(world.runtime.sessions) as session:
        states = task_streams.load_all(session, world.reps[0].team_id)
    return next(iter(states.values())).mode if states else ""


# -- 2. first import through Bulk API 2.0 vs REST ------------------------------------------------


def import_in_fresh_process(base_url: str, bulk: bool, mode: str) -> dict[str, float]:
    """Run one first import (or read) in a new Python process; its calls, seconds and RSS."""
    bulk_flag = ["--bulk"] if bulk else []
    output = subprocess.run(
        [sys.executable, "-m", "bench.realtime_bench", mode, base_url, *bulk_flag],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def import_run(base_url: str, bulk: bool) -> None:
    """The child process: connect a rep, turn task sync on, import until done; print JSON."""
    with (
        tempfile.TemporaryDirectory() as folder,
        bench_runtime(folder, base_url, SystemClock()) as runtime,
    ):
        threshold = 0 if bulk else 10**9
        runtime.settings = runtime.settings.model_copy(update={"bulk_above_rows": threshold})
        user = _connect(runtime, base_url)
        control = f"{base_url}/__sandbox__/api-calls"
        before = httpx.get(control).json()["total"]
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
        worker = Worker(runtime, task_handlers(runtime), worker_id=WORKER_ID)
        while worker.drain():
            pass
        elapsed = time.perf_counter() - started
        done.set()
        with runtime.sessions() as session:
            imported = session.scalar(select(func.count()).select_from(ReminderTask)) or 0
            waiting = (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.status != OutboxStatus.DONE)
                )
                or 0
            )
        calls = httpx.get(control).json()["total"] - before
        print(
            json.dumps(
                {
                    "imported": imported,
                    "left": waiting,
                    "calls": calls,
                    "seconds": elapsed,
                    "rss_before": baseline,
                    "rss_peak": peak[0],
                }
            )
        )


def read_run(base_url: str, bulk: bool) -> None:
    """The child process of a read-only run: read every Task once, apply nothing."""
    with httpx.Client(timeout=120) as http:
        config = oauth.OAuthClientConfig("salesync", "salesync-secret", login_url=base_url)
        tokens = oauth.password_login(config, REP, "sandbox", http=http)
        auth = RefreshingAuth(MemoryTokenStore(tokens), OAuthRefresher(config, http))
        client = SalesforceClient(tokens.instance_url, auth, http=http)
        baseline = rss_mb()
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.05)

        threading.Thread(target=sample, daemon=True).start()
        started = time.perf_counter()
        soql = "SELECT Id, Subject, Description, ActivityDate, SystemModstamp FROM Task"
        rows = client.query_all_large(soql, bulk_above=0 if bulk else 10**9)
        count = sum(1 for _ in rows)
        done.set()
        print(
            json.dumps(
                {
                    "imported": count,
                    "calls": client.api_calls_made,
                    "seconds": time.perf_counter() - started,
                    "rss_before": baseline,
                    "rss_peak": peak[0],
                }
            )
        )


def _connect(runtime: Runtime, base_url: str) -> object:
    user = add_user(runtime, "rep1@salesync.test")
    connect_sandbox_rep(runtime, user.team_id, user.id, base_url, REP, datetime.now(UTC))
    return user


def imports(count: int, mode: str = "--import-run") -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        org_file = Path(folder) / "org.db"
        subprocess.run(
            [sys.executable, "-c", BUILD_ORG, str(org_file), REP, str(count)], check=True
        )
        results: dict[str, dict[str, float]] = {}
        for name, bulk in (("Bulk API 2.0", True), ("REST paging", False)):
            # A fresh copy of the org per run: the first import is the same work each time.
            copy = Path(folder) / f"org-{int(bulk)}.db"
            copy.write_bytes(org_file.read_bytes())
            port = free_port()
            sandbox = subprocess.Popen(
                [
                    *(sys.executable, "-m", "salesync", "sandbox", "--port", str(port)),
                    *("--db", str(copy), "--seed", "empty"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base_url = f"http://127.0.0.1:{port}"
            try:
                _wait_for(lambda url=base_url: _up(url), timeout=60)
                results[name] = import_in_fresh_process(base_url, bulk, mode)
            finally:
                sandbox.terminate()
                sandbox.wait(timeout=30)
        return results


def _up(base_url: str) -> bool:
    try:
        httpx.get(base_url + "/services/data/", timeout=1)
    except httpx.TransportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--tasks", type=int, default=5_000)
    parser.add_argument(
        "--read-tasks",
        type=int,
        default=0,
        help="also read N Tasks through each path without applying them (client only)",
    )
    parser.add_argument("--only-read", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--import-run", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--read-run", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--bulk", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_run:
        import_run(args.import_run, args.bulk)
        return
    if args.read_run:
        read_run(args.read_run, args.bulk)
        return
    if args.read_tasks:
        _report(
            f"reading {args.read_tasks} Tasks, nothing applied",
            args.read_tasks,
            imports(args.read_tasks, "--read-run"),
        )
    if args.only_read:
        return
    print(
        f"Salesforce -> salesync latency, {args.samples} edits each (poll interval "
        f"{args.poll_interval:g} s)"
    )
    print(f"  {'mode':<26} {'p50 s':>7} {'p95 s':>7} {'API calls':>10}")
    for name, cdc in (("Change Data Capture", True), ("polling", False)):
        measured, calls = latency(args.samples, args.poll_interval, cdc=cdc)
        print(
            f"  {name:<26} {statistics.median(measured):>7.3f} {_p95(measured):>7.3f} {calls:>10}"
        )
    _report(f"first import of {args.tasks} Tasks", args.tasks, imports(args.tasks))


def _report(title: str, count: int, results: dict[str, dict[str, float]]) -> None:
    print(f"{title} (sandbox in its own process)")
    header = f"{'calls':>7} {'seconds':>8} {'peak RSS MB':>12} {'growth MB':>10}"
    print(f"  {'read through':<26} {header}")
    for name, result in results.items():
        print(
            f"  {name:<26} {result['calls']:>7.0f} {result['seconds']:>8.1f} "
            f"{result['rss_peak']:>12.0f} {result['rss_peak'] - result['rss_before']:>10.0f}"
            + (f"  ({result['imported']:.0f} rows)" if result["imported"] != count else "")
        )


if __name__ == "__main__":
    main()
