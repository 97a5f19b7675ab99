"""A worker has at most REQUESTS_AT_ONCE_PER_ORG requests at one org at once.

The limit is on requests, not on reps: the reps a worker logs side by side take a slot only
while a request of theirs is at Salesforce, so one rep's reading, planning and saving never
keeps another's request waiting. The sandbox is served behind an ASGI wrapper that holds
every REST request a moment (a slow Salesforce) and notes how many are inside at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from salesync.runtime import Runtime
from salesync.salesforce_access import ConnectionClients
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.sandbox.security import UserAccess
from salesync.sandbox.seed import PASSWORD, username
from salesync.serving import serve_in_thread
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus, SalesforceConnection
from salesync.sync.activity_logging import (
    REPS_PER_CLAIM,
    REQUESTS_AT_ONCE_PER_ORG,
    ActivityLoggingHandler,
)
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, build_runtime, connect, connection_row
from tests.integration.logging.test_logging_api import send
from tests.support import FakeClock

#: How long the wrapper holds each request: long enough that every rep's request is waiting
#: while the first ones are inside.
HOLD_SECONDS = 0.15


class _SlowCountingApp:
    """Holds each REST request ``HOLD_SECONDS`` and notes the most inside at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inside = 0
        self.most = 0
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/services/data/"):
            await self.app(scope, receive, send)
            return
        # One event loop serves every request: these counters need no lock.
        self.inside += 1
        self.requests += 1
        self.most = max(self.most, self.inside)
        try:
            await asyncio.sleep(HOLD_SECONDS)
            await self.app(scope, receive, send)
        finally:
            self.inside -= 1


@pytest.fixture
def slow() -> Iterator[tuple[Sandbox, _SlowCountingApp]]:
    org = Org("demo")
    app = _SlowCountingApp(create_sandbox_app(org))
    with serve_in_thread(app) as server:
        yield Sandbox(org, server.base_url), app


@pytest.fixture
def runtime(
    engine: Engine, slow: tuple[Sandbox, _SlowCountingApp], tmp_path: Path, live_clock: FakeClock
) -> Runtime:
    return build_runtime(engine, slow[0], tmp_path, live_clock)


def _connected_reps(runtime: Runtime, sandbox: Sandbox, count: int) -> list[int]:
    """``count`` reps, each connected as a sandbox user of their own; their user ids."""
    ids = []
    for number in range(1, count + 1):
        local = f"bulk{number}"
        sandbox.org.add_user(
            username(local),
            first_name="Bulk",
            last_name=str(number),
            email=f"{local}@salesync.test",
            access=UserAccess(password=PASSWORD),
        )
        rep = add_user(runtime, f"{local}@salesync.test")
        connect(runtime, sandbox, rep, local)
        send(runtime, rep, [f"someone.{number}@unknown.example"])
        ids.append(rep.id)
    return ids


def test_the_reps_of_one_claim_have_at_most_the_org_limit_of_requests_at_once(
    runtime: Runtime, slow: tuple[Sandbox, _SlowCountingApp]
) -> None:
    sandbox, app = slow
    assert REPS_PER_CLAIM > REQUESTS_AT_ONCE_PER_ORG  # else the limit would never bite
    _connected_reps(runtime, sandbox, REPS_PER_CLAIM)
    handler = ActivityLoggingHandler(runtime)
    try:
        assert Worker(runtime, [handler]).run_once() == REPS_PER_CLAIM
    finally:
        handler.close()

    # Each rep read its org and looked its recipient up in one call (nobody to log to).
    assert app.requests == REPS_PER_CLAIM
    assert app.most == REQUESTS_AT_ONCE_PER_ORG
    with runtime.sessions() as session:
        open_items = session.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT]))
        )
    assert open_items == 0


def _most_at_once(app: _SlowCountingApp, clients: ConnectionClients, rows: list[Any]) -> int:
    """Send one request through each row's client, all from threads started together."""
    app.most = 0
    start = threading.Barrier(len(rows))

    def one(row: SalesforceConnection) -> None:
        client = clients.get(row)
        start.wait()
        client.limits()

    threads = [threading.Thread(target=one, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return app.most


def test_the_limit_is_shared_by_the_connections_of_one_org_only(
    runtime: Runtime, slow: tuple[Sandbox, _SlowCountingApp]
) -> None:
    sandbox, app = slow
    first, second, third = (
        connect(runtime, sandbox, add_user(runtime, f"rep{n}@salesync.test"), f"rep{n}")
        for n in (1, 2, 3)
    )
    # The third connection stands for another org (same host: the sandbox serves one org).
    with unit_of_work(runtime.sessions) as session:
        session.execute(
            update(SalesforceConnection)
            .where(SalesforceConnection.id == third)
            .values(org_id="00D000000000OTHER")
        )
    rows = [connection_row(runtime, c) for c in (first, second, third)]
    clients = ConnectionClients(runtime, requests_per_org=1)
    try:
        # One org: its two connections' requests go one at a time.
        assert _most_at_once(app, clients, rows[:2]) == 1
        # Two orgs: one request each, side by side.
        assert _most_at_once(app, clients, [rows[0], rows[2]]) == 2
    finally:
        clients.close()
    # Without a limit (the services' clients), nothing waits.
    unlimited = ConnectionClients(runtime)
    try:
        assert _most_at_once(app, unlimited, rows[:2]) == 2
    finally:
        unlimited.close()
