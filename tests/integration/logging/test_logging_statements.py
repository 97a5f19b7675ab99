"""Saving a batch's results takes a fixed number of SQL statements, whatever its size.

The statements are counted with an engine event listener (observing, not patching): one
batch of 5 emails and one of 50, both half matched (links, done) and half unmatched (failed,
Diagnostics), must cost the same, so no per-row statement can creep back into a loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from salesync.runtime import Runtime
from salesync.store import connections
from salesync.store.tables import (
    ApiCallCount,
    DiagnosticEntry,
    OutboxItem,
    OutboxStatus,
    SalesforceLink,
    User,
)
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.integration.logging.test_logging_api import send
from tests.support import counted_statements


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


@contextmanager
def counted(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(str(args[2]).split(None, 1)[0].upper())

    event.listen(runtime.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(runtime.engine, "before_cursor_execute", listener)


def _contact_addresses(sandbox: Sandbox, count: int) -> list[str]:
    rows = [str(r["Email"]) for r in sandbox.org.records.rows("Contact") if r.get("Email")]
    unique = [a for a in rows if rows.count(a) == 1]
    lead_emails = {str(r.get("Email") or "").lower() for r in sandbox.org.records.rows("Lead")}
    return [a for a in unique if a.lower() not in lead_emails][:count]


def _batch_statements(runtime: Runtime, rep: User, matched: list[str], unknown: int) -> list[str]:
    for address in matched:
        send(runtime, rep, [address])
    for number in range(unknown):
        send(runtime, rep, [f"nobody.{len(matched)}.{number}@unknown.example"])
    worker = Worker(runtime, [ActivityLoggingHandler(runtime)])
    with counted(runtime) as statements:
        assert worker.run_once() == len(matched) + unknown
    return statements


def test_saving_a_batch_costs_the_same_statements_for_5_or_50_emails(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    addresses = _contact_addresses(sandbox, 30)
    # The first batch discovers the org (describe, cached afterwards): not counted.
    send(runtime, rep, [addresses[0]])
    Worker(runtime, [ActivityLoggingHandler(runtime)]).drain()

    small = _batch_statements(runtime, rep, addresses[1:4], unknown=2)
    large = _batch_statements(runtime, rep, addresses[4:30], unknown=24)

    assert sorted(large) == sorted(small)
    # Claim, load, budget, links, settle, Diagnostics, and a token read and usage write per
    # API call: a fixed handful, nowhere near one per email.
    assert len(large) <= 40
    with runtime.sessions() as session:
        links = session.scalar(select(func.count()).select_from(SalesforceLink))
        failed = session.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.status == OutboxStatus.FAILED)
        )
        entries = session.scalar(select(func.count()).select_from(DiagnosticEntry))
    assert (links, failed, entries) == (30, 26, 26)


def test_a_batch_reads_its_tokens_once_and_writes_its_call_count_once(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    """The connection row read when the batch is loaded gives the tokens of every call, and
    the batch's calls are counted in one write, however many calls it makes; the count
    still equals the calls Salesforce saw."""
    addresses = _contact_addresses(sandbox, 12)
    send(runtime, rep, [addresses[0]])
    worker = Worker(runtime, [ActivityLoggingHandler(runtime)])
    worker.drain()  # discovers the org (describe), cached afterwards
    now = runtime.clock.now()
    org_calls = sandbox.api_calls()
    with runtime.sessions() as session:
        org_id = session.scalar(select(func.min(ApiCallCount.org_id)))
        assert org_id is not None
        counted_before = connections.calls_in_last_day(session, org_id, now=now)
    for address in addresses[1:12]:
        send(runtime, rep, [address])
    commits: list[object] = []

    def on_commit(connection: object) -> None:
        commits.append(connection)

    event.listen(runtime.engine, "commit", on_commit)
    try:
        with counted_statements(runtime.engine) as statements:
            assert worker.run_once() == 11
    finally:
        event.remove(runtime.engine, "commit", on_commit)
    calls = sandbox.api_calls() - org_calls
    assert calls >= 2  # lookups and creates at least
    connection_reads = [
        s for s in statements if s.startswith("SELECT") and "FROM salesforce_connections" in s
    ]
    count_writes = [s for s in statements if s.startswith("INSERT INTO api_call_counts")]
    assert len(connection_reads) == 1, connection_reads  # the batch's own load
    # A batch of emails only does not look for calls; the rep's team comes with the rep.
    assert not [s for s in statements if "FROM calls" in s]
    assert not [s for s in statements if s.startswith("SELECT teams.")]
    assert len(count_writes) == 1, count_writes
    # The claim, the batch's reads, its results saved with its call count (which has no
    # transaction of its own), and the worker handing back whatever the handler left.
    assert len(commits) == 4, statements
    with runtime.sessions() as session:
        assert connections.calls_in_last_day(session, org_id, now=now) == counted_before + calls


def test_the_reps_of_one_claim_are_read_together_not_one_by_one(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    """A claim of three reps reads their users, connections, settings and emails in one
    statement each, and in one transaction: the reads don't grow with the claim's reps."""
    reps = [add_user(runtime, f"rep{n}@salesync.test") for n in (1, 2, 3)]
    for number, rep in enumerate(reps, start=1):
        connect(runtime, sandbox, rep, f"rep{number}")
    addresses = _contact_addresses(sandbox, 6)
    worker = Worker(runtime, [ActivityLoggingHandler(runtime)])
    for rep, address in zip(reps, addresses[:3], strict=True):
        send(runtime, rep, [address])
    worker.drain()  # each rep reads its org (describe), cached afterwards
    for rep, address in zip(reps, addresses[3:], strict=True):
        send(runtime, rep, [address])

    with counted_statements(runtime.engine) as statements:
        assert worker.run_once() == 3

    def reads_of(table: str) -> list[str]:
        return [s for s in statements if s.startswith("SELECT") and f" FROM {table} " in s + " "]

    for table in ("users", "salesforce_connections", "sync_settings", "sent_emails"):
        assert len(reads_of(table)) == 1, (table, reads_of(table))
    with runtime.sessions() as session:
        links = session.scalar(select(func.count()).select_from(SalesforceLink))
    assert links == 6
