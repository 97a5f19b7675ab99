"""Reminder task sync: API calls of an idle poll cycle, and propagation latency both ways.

1. Idle cycle (DESIGN §5: "1 API call per org with a sync connection, however many reps"):
   N reps with two-way sync on, nothing changed; one poll cycle is counted by the sandbox,
   with the team's sync connection and without it (then each rep polls for themselves).
2. Latency (DESIGN §5: salesync -> Salesforce within 2 s p95; Salesforce -> salesync within
   the poll interval plus 2 s): a worker thread runs the real loop against the sandbox, on
   the real clock; edits are made on one side and the other side is watched until it shows
   them.

Usage: python -m bench.task_sync_bench [--reps 1 200] [--samples 20] [--poll-interval 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import select

from salesync.clock import Clock, SystemClock
from salesync.passwords import hash_password
from salesync.runtime import Runtime
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.sandbox.security import UserAccess
from salesync.sandbox.seed import PASSWORD, username
from salesync.services import accounts, task_sync, tasks
from salesync.serving import serve_in_thread
from salesync.settings import Settings
from salesync.store import accounts as account_store
from salesync.store import migrate
from salesync.store import tasks as task_store
from salesync.store.crypto import SecretBox
from salesync.store.db import create_db_engine, session_factory, unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    ReminderTask,
    Role,
    SalesforceConnection,
    User,
)
from salesync.sync.task_pull import TaskPullJob
from salesync.sync.task_worker import task_handlers, task_periodic_jobs
from salesync.sync.worker import Worker

WORKER_ID = "bench-worker"


@dataclass
class Setup:
    org: Org
    base_url: str
    runtime: Runtime
    reps: list[User]


@contextmanager
def setup(rep_count: int, *, clock: Clock | None, poll_interval: float) -> Iterator[Setup]:
    """A sandbox org and a salesync database with ``rep_count`` connected reps."""
    org = Org("empty")
    with (
        tempfile.TemporaryDirectory() as folder,
        serve_in_thread(create_sandbox_app(org)) as server,
    ):
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate.upgrade(engine)
        settings = Settings(
            data_dir=Path(folder),
            database_url=str(engine.url),
            salesforce_login_url=server.base_url,  # type: ignore[arg-type]
            poll_interval_seconds=poll_interval,
        )
        runtime = Runtime(
            settings, engine, session_factory(engine), SecretBox(b"b" * 40), clock or org.clock
        )
        reps = [_connected_rep(runtime, org, server.base_url, n) for n in range(rep_count)]
        try:
            yield Setup(org, server.base_url, runtime, reps)
        finally:
            engine.dispose()


@cache
def _rep_password_hash() -> str:
    return hash_password("bench password!")


def _connected_rep(runtime: Runtime, org: Org, base_url: str, number: int) -> User:
    local = f"rep{number}"
    sf_user_id = org.add_user(
        username(local),
        first_name="Rep",
        last_name=str(number),
        email=f"{local}@salesync.test",
        access=UserAccess(password=PASSWORD),
    )
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        team = account_store.first_team(session)
        if team is None:
            new = accounts.NewUser(f"{local}@example.com", local, "bench password!", Role.REP)
            user = accounts.add_user(session, new, now=now)
        else:
            # One password hash for every rep: hashing (Argon2) 1,000 times is not the point.
            user = User(
                team_id=team.id,
                email=f"{local}@example.com",
                name=local,
                role=Role.REP,
                time_zone="UTC",
                password_hash=_rep_password_hash(),
                is_active=True,
                created_at=now,
            )
            session.add(user)
            session.flush()
    _store_connection(runtime, org, base_url, user, local, sf_user_id, team_sync=False)
    return user


def _store_connection(
    runtime: Runtime,
    org: Org,
    base_url: str,
    user: User,
    local: str,
    sf_user_id: str,
    *,
    team_sync: bool,
) -> None:
    tokens = org.issue_token(username(local))
    box, now = runtime.secret_box, runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        session.add(
            SalesforceConnection(
                team_id=user.team_id,
                user_id=None if team_sync else user.id,
                purpose=ConnectionPurpose.TEAM_SYNC if team_sync else ConnectionPurpose.USER,
                environment="production",
                login_url=base_url,
                instance_url=base_url,
                org_id=org.org_id,
                sf_user_id=sf_user_id,
                sf_username=username(local),
                sf_email=f"{local}@salesync.test",
                access_token_enc=box.encrypt(tokens.access_token),
                refresh_token_enc=box.encrypt(tokens.refresh_token or ""),
                status=ConnectionStatus.CONNECTED,
                connected_at=now,
                updated_at=now,
            )
        )


def _add_team_connection(world: Setup) -> None:
    local = "integration"
    sf_user_id = world.org.add_user(
        username(local),
        first_name="Integration",
        last_name="User",
        email="integration@salesync.test",
        access=UserAccess(password=PASSWORD),
    )
    _store_connection(
        world.runtime, world.org, world.base_url, world.reps[0], local, sf_user_id, team_sync=True
    )


# -- 1. idle cycle -------------------------------------------------------------------------------


def idle_cycle_calls(rep_count: int, *, team_connection: bool) -> int:
    """API calls of one poll cycle in which nothing changed."""
    with setup(rep_count, clock=None, poll_interval=30) as world:
        world.org.clock.freeze()
        for rep in world.reps:
            task_sync.set_mode(world.runtime, rep, "two_way")
        Worker(world.runtime, task_handlers(world.runtime)).drain()
        if team_connection:
            _add_team_connection(world)
        puller = TaskPullJob(world.runtime, worker_id=WORKER_ID)
        world.org.clock.advance(timedelta(seconds=30))
        puller.poll()  # the first cycle after enabling
        world.org.clock.advance(timedelta(seconds=30))
        before = world.org.usage.total
        puller.poll()
        return int(world.org.usage.total - before)


# -- 2. latency ------------------------------------------------------------------------------------


@contextmanager
def running_worker(world: Setup) -> Iterator[None]:
    runtime = world.runtime
    worker = Worker(
        runtime,
        task_handlers(runtime),
        task_periodic_jobs(runtime, worker_id=WORKER_ID),
        worker_id=WORKER_ID,
        idle_seconds=0.05,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _wait_for(condition: Callable[[], bool], timeout: float) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            return float("inf")
        time.sleep(0.01)
    return time.perf_counter() - started


def latencies(samples: int, poll_interval: float) -> tuple[list[float], list[float]]:
    """Seconds from an edit on one side until the other side shows it: (push, pull)."""
    with setup(1, clock=SystemClock(), poll_interval=poll_interval) as world:
        rep = world.reps[0]
        task_sync.set_mode(world.runtime, rep, "two_way")
        with running_worker(world):
            push = [_push_once(world, rep, n) for n in range(samples)]
            pull = [_pull_once(world, rep, n, poll_interval) for n in range(samples)]
        return push, pull


def _push_once(world: Setup, rep: User, number: int) -> float:
    name = f"Pushed {number}"
    tasks.create_task(world.runtime, rep, {"name": name})
    subject = f"Custom: {name}"

    def arrived() -> bool:
        with world.org.lock:
            return any(row["Subject"] == subject for row in world.org.records.rows("Task"))

    return _wait_for(arrived, timeout=30)


def _pull_once(world: Setup, rep: User, number: int, poll_interval: float) -> float:
    with unit_of_work(world.runtime.sessions) as session:
        task = session.scalars(
            select(ReminderTask)
            .where(ReminderTask.assignee_id == rep.id, ReminderTask.deleted_at.is_(None))
            .order_by(ReminderTask.id)
        ).first()
        assert task is not None
        link = task_store.link_for_task(session, task.id)
        assert link is not None
    details = f"edited in Salesforce #{number} at {datetime.now(UTC).isoformat()}"
    world.org.update_record(link.sf_id, {"Description": details}, as_user=username("rep0"))

    def arrived() -> bool:
        with unit_of_work(world.runtime.sessions) as session:
            current = session.get(ReminderTask, task.id)
            return current is not None and current.details == details

    return _wait_for(arrived, timeout=poll_interval * 3 + 10)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, nargs="+", default=[1, 200])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    args = parser.parse_args()
    print("idle poll cycle, API calls (bar: 1 per org with a sync connection)")
    for count in args.reps:
        with_team = idle_cycle_calls(count, team_connection=True)
        without = idle_cycle_calls(count, team_connection=False)
        print(f"  {count:>4} reps: {with_team} with the team sync connection, {without} without")
    push, pull = latencies(args.samples, args.poll_interval)
    print(f"latency over {args.samples} edits each way (poll interval {args.poll_interval:g} s)")
    print(
        f"  salesync -> Salesforce: p50 {statistics.median(push):.3f} s, "
        f"p95 {_p95(push):.3f} s (bar: 2 s)"
    )
    print(
        f"  Salesforce -> salesync: p50 {statistics.median(pull):.3f} s, "
        f"p95 {_p95(pull):.3f} s (bar: {args.poll_interval + 2:g} s)"
    )


if __name__ == "__main__":
    main()
