"""Exactly once under faults: N emails logged while the org misbehaves (DESIGN §5).

Faults injected over real HTTP through the sandbox's control plane: 503s, row locks,
responses lost after the write committed, expired sessions, the daily API limit running out,
and a worker that claims a batch and dies without a word. Afterwards the org must hold exactly
one Task per email — checked with and without the External ID field (without it, salesync
searches before retrying a create whose answer was lost) — and salesync must hold every email
as logged, linked to the id of its Task in the org: none left failed or pending while its
Task exists. Both sides are printed next to each other.

Usage: python -m bench.exactly_once_bench [N]   (default 10000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.support import bench_runtime
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.services import activities
from salesync.serving import serve_in_thread
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus, SalesforceLink, User
from salesync.sync.factory import build_worker
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.support import FakeClock

#: The last part of the emails goes out once the rest is logged: their lookups go through,
#: their creates commit and the answer is lost. The retry's upserts (or searches) must find
#: those Tasks and end logged with their ids; an upsert that matches sends only the fields
#: Salesforce lets it update (never TaskSubtype).
LOST_CREATES = {
    "method": "POST",
    "path": "/composite$",
    "dropAfterCommit": True,
    "skip": 1,
    "times": 1,
}

FAULTS = (
    {
        "method": "POST",
        "path": "/composite$",
        "status": 503,
        "errorCode": "SERVER_UNAVAILABLE",
        "message": "server too busy",
        "times": 3,
    },
    {
        "method": "POST",
        "path": "/composite$",
        "status": 400,
        "errorCode": "UNABLE_TO_LOCK_ROW",
        "message": "unable to obtain exclusive access to this record",
        "times": 2,
    },
    {"method": "POST", "path": "/composite$", "dropAfterCommit": True, "times": 3},
)


def _org(count: int, external_id: bool) -> tuple[Org, list[str]]:
    org = Org("demo" if external_id else "empty")
    if not external_id:
        org.add_user(
            "rep1@sandbox.salesync.test",
            first_name="Rep",
            last_name="One",
            email="rep1@salesync.test",
        )
    emails = [f"once.{i}@prospects.example" for i in range(count)]
    with org.batch():
        for i, address in enumerate(emails):
            org.create_record("Contact", {"LastName": f"Once{i}", "Email": address})
    return org, emails


def run(count: int, external_id: bool) -> dict[str, object]:
    org, emails = _org(count, external_id)
    seeded = frozenset(str(row["Id"]) for row in org.records.rows("Task"))
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    with (
        serve_in_thread(create_sandbox_app(org)) as server,
        tempfile.TemporaryDirectory() as folder,
        bench_runtime(folder, server.base_url, clock) as runtime,
    ):
        sandbox = Sandbox(org, server.base_url, seeded)
        result = _log_under_faults(runtime, sandbox, emails, clock)
    return {"mode": "external id" if external_id else "search", "emails": count, **result}


def _log_under_faults(
    runtime: Runtime, sandbox: Sandbox, emails: list[str], clock: FakeClock
) -> dict[str, object]:
    rep = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, rep, "rep1")
    mailer = InMemoryMailer()
    later = max(1, len(emails) // 10)
    _send(runtime, rep, emails[:-later], mailer)
    started = time.perf_counter()
    # A worker claims the first batch and dies: its lease must run out before others act.
    with unit_of_work(runtime.sessions) as session:
        outbox.claim(
            session,
            worker_id="killed-worker",
            now=clock.now(),
            lease=timedelta(minutes=5),
            limit=1000,
        )
    before = sandbox.api_calls()
    worker = build_worker(runtime)
    rounds = 0
    for rounds in range(1, 400):
        _misbehave(sandbox, rounds)
        worker.drain()
        if _left(runtime) == 0:
            break
        _advance(clock, sandbox)
    _send(runtime, rep, emails[-later:], mailer)
    sandbox.control("POST", "faults", LOST_CREATES)
    for _ in range(20):
        rounds += 1
        worker.drain()
        if _left(runtime) == 0:
            break
        _advance(clock, sandbox)
    org_tasks = sandbox.tasks()
    per_contact = Counter(t.get("WhoId") for t in org_tasks)
    return {
        "tasks": sum(per_contact.values()),
        "duplicates": sum(n - 1 for n in per_contact.values() if n > 1),
        "missing": len(emails) - len(per_contact),
        **_local_outcomes(runtime, {str(t["Id"]) for t in org_tasks}),
        "rounds": rounds,
        "api_calls": sandbox.api_calls() - before,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _advance(clock: FakeClock, sandbox: Sandbox) -> None:
    """Ten minutes pass for salesync and the org alike (backoffs and leases run out)."""
    clock.advance(minutes=10)
    sandbox.control("POST", "clock", {"advanceSeconds": 600})


def _send(runtime: Runtime, rep: User, emails: list[str], mailer: InMemoryMailer) -> None:
    for address in emails:
        draft = activities.EmailDraft(
            to=[activities.RecipientRef(email=address)], subject="Following up", body_text="Hello"
        )
        activities.send_email(runtime, rep, draft, mailer)


def _left(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.query(OutboxItem).filter(OutboxItem.status != OutboxStatus.DONE).count()


def _local_outcomes(runtime: Runtime, org_task_ids: set[str]) -> dict[str, int]:
    """salesync's side: items logged with the id of a Task the org holds, failed, pending."""
    with runtime.sessions() as session:
        linked = {
            link.local_id
            for link in session.query(SalesforceLink).filter(SalesforceLink.local_type == "email")
            if link.sf_id in org_task_ids
        }
        counts: Counter[str] = Counter()
        for item in session.query(OutboxItem):
            if item.status is OutboxStatus.DONE and item.subject_id in linked:
                counts["logged"] += 1
            elif item.status is OutboxStatus.FAILED:
                counts["failed"] += 1
            else:
                counts["pending"] += 1  # done without a Task id counts here too: not logged
    return {"logged": counts["logged"], "failed": counts["failed"], "pending": counts["pending"]}


def _misbehave(sandbox: Sandbox, round_number: int) -> None:
    """The faults of each round: errors first, then an expired session, then the limit."""
    if round_number <= len(FAULTS):
        sandbox.control("POST", "faults", FAULTS[round_number - 1])
    if round_number == 4:
        sandbox.control("POST", "tokens/expire", {})
    if round_number == 5:  # the daily limit runs out for a while, then is raised again
        used = sandbox.control("GET", "api-calls")["last24h"]
        sandbox.control("PUT", "limits", {"dailyApiRequests": used})
    if round_number == 7:
        sandbox.control("PUT", "limits", {"dailyApiRequests": 1_000_000})


def main(count: int) -> None:
    print(f"{'':>20}{'--- org ---':^24}{'--- salesync ---':^25}")
    print(
        f"{'mode':>12} {'emails':>7} {'tasks':>7} {'dupes':>6} {'missing':>8} "
        f"{'logged':>7} {'failed':>7} {'pending':>8} {'rounds':>7} {'calls':>6} {'time s':>7}"
    )
    for external_id in (True, False):
        r = run(count, external_id)
        print(
            f"{r['mode']:>12} {r['emails']:>7} {r['tasks']:>7} {r['duplicates']:>6} "
            f"{r['missing']:>8} {r['logged']:>7} {r['failed']:>7} {r['pending']:>8} "
            f"{r['rounds']:>7} {r['api_calls']:>6} {r['seconds']:>7}",
            flush=True,
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
