"""Logging throughput: salesync's workers vs a naive per-email script, same stand-in org.

salesync: emails are queued through the bulk intake, then 1, 2 or 4 worker processes
(``bench.worker_process``) start, say ready, and drain the queue together; time is taken from
"worker started" (ready) to the last worker done, and each worker reports its own CPU.
Naive: what a per-email simple-salesforce script does, one lookup query and one Task create
per email, one after the other.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import requests.adapters
from simple_salesforce import Salesforce
from sqlalchemy import func, select

from bench.standin import StandIn, parse_report, prospect
from bench.support import SystemClock, connection_row, runtime_at
from salesync.passwords import hash_password
from salesync.runtime import Runtime
from salesync.services import activity_bulk
from salesync.services.activities import RecipientRef
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    OutboxItem,
    OutboxStatus,
    Role,
    SalesforceLink,
    Team,
    User,
)


@dataclass
class Run:
    emails: int
    workers: int
    calls: int
    #: From "worker started" (every worker ready) to the last worker seeing the queue empty.
    seconds: float
    #: Worker CPU during the drain, all workers together.
    cpu: float
    startup_seconds: float
    logged: int
    #: CPU of the Salesforce stand-in's process during the drain.
    standin_cpu: float = 0.0


def prepare(runtime: Runtime, standin: StandIn, reps: int, per_rep: int) -> None:
    """A team of ``reps`` connected reps, each with ``per_rep`` emails queued for logging."""
    now = datetime.now(UTC)
    password_hash = hash_password("bench password")
    with unit_of_work(runtime.sessions) as session:
        team = Team(name="Bench", created_at=now)
        session.add(team)
        session.flush()
        users = [
            User(
                team_id=team.id,
                email=f"rep{r}@bench.example",
                name=f"Rep {r}",
                role=Role.REP,
                time_zone="UTC",
                password_hash=password_hash,
                is_active=True,
                created_at=now,
            )
            for r in range(reps)
        ]
        session.add_all(users)
        session.flush()
        for r, user in enumerate(users):
            tokens, identity = standin.login(r)
            session.add(
                connection_row(
                    runtime,
                    team_id=team.id,
                    user_id=user.id,
                    login_url=standin.base_url,
                    username=f"rep{r}@bench.sandbox",
                    tokens=tokens,
                    identity=identity,
                    now=now,
                )
            )
    sent_at = now - timedelta(minutes=1)
    for r, user in enumerate(users):
        drafts = [
            activity_bulk.SentElsewhere(
                to=[RecipientRef(email=prospect(r, n))],
                subject=f"Checking in #{n}",
                body_text="Hello, following up on our call.",
                sent_at=sent_at,
            )
            for n in range(per_rep)
        ]
        for start in range(0, len(drafts), activity_bulk.MAX_BULK_ITEMS):
            chunk = drafts[start : start + activity_bulk.MAX_BULK_ITEMS]
            results = activity_bulk.record_sent_emails(runtime, user, chunk)
            assert all(result.id for result in results), results[:3]


def run_workers(
    database_url: str, folder: Path, standin: StandIn, workers: int, emails: int
) -> Run:
    """Start ``workers`` worker processes, let them drain the queue together, and time it."""
    before = standin.api_calls()
    standin_cpu = standin.cpu_seconds()
    processes = []
    for number in range(workers):
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.worker_process",
                    database_url,
                    str(folder),
                    standin.base_url,
                    repr(time.time()),
                    f"bench-worker-{number}",
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    started = time.time()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    reports: list[dict[str, Any]] = []
    for process in processes:
        output, _ = process.communicate(timeout=3600)
        reports.append(parse_report(output))
    # Until the last worker saw the queue empty (one machine, one clock): the workers' exit
    # (closing clients, tearing the interpreter down) is nobody's wait.
    seconds = max(float(r["done_at"]) for r in reports) - started
    standin_cpu = standin.cpu_seconds() - standin_cpu
    calls = standin.api_calls() - before
    runtime = runtime_at(database_url, folder, standin.base_url, SystemClock())
    with runtime.sessions() as session:
        logged = session.scalar(select(func.count()).select_from(SalesforceLink)) or 0
        waiting = (
            session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status != OutboxStatus.DONE)
            )
            or 0
        )
    runtime.engine.dispose()
    assert waiting == 0 and logged == emails, f"{logged} of {emails} logged, {waiting} waiting"
    return Run(
        emails=emails,
        workers=workers,
        calls=calls,
        seconds=seconds,
        cpu=sum(float(r["cpu"]) for r in reports),
        startup_seconds=max(float(r["startup_s"]) for r in reports),
        logged=int(logged),
        standin_cpu=standin_cpu,
    )


def run_naive(standin: StandIn, emails: int) -> tuple[int, float]:
    """API calls and seconds of a per-email script logging ``emails`` emails of rep 0."""
    tokens, _ = standin.login(0)
    session = requests.Session()
    session.mount("https://", _PlainHttp())
    sf = Salesforce(
        instance_url=tokens.instance_url,
        session_id=tokens.access_token,
        session=session,
        version="59.0",
    )
    before = standin.api_calls()
    started = time.perf_counter()
    for number in range(emails):
        address = prospect(0, number)
        found = sf.query(f"SELECT Id FROM Contact WHERE Email = '{address}'")
        sf.Task.create(
            {
                "WhoId": found["records"][0]["Id"],
                "Subject": f"Email: Checking in #{number}",
                "Status": "Completed",
                "TaskSubtype": "Email",
                "Description": "Hello, following up on our call.",
            }
        )
    seconds = time.perf_counter() - started
    return standin.api_calls() - before, seconds


class _PlainHttp(requests.adapters.HTTPAdapter):
    """simple-salesforce always builds https:// URLs; the local stand-in speaks plain HTTP."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        request.url = request.url.replace("https://", "http://", 1)
        return super().send(request, *args, **kwargs)
