"""A salesync + sandbox world for task sync tests, sharing one clock (the sandbox's).

salesync's runtime reads the sandbox org's clock, frozen at the start: edit times on both
sides, cursors, the 24-hour import window and the 15-day delete window all move together
when a test advances it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from salesync.domain.conflicts import fingerprint
from salesync.runtime import Runtime
from salesync.sandbox.security import UserAccess
from salesync.sandbox.seed import PASSWORD, username
from salesync.services import task_sync
from salesync.services import tasks as task_service
from salesync.store import tasks as task_store
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    DiagnosticEntry,
    OutboxItem,
    ReminderTask,
    SalesforceConnection,
    SalesforceLink,
    TaskConflict,
    User,
)
from salesync.sync.task_pull import PollReport, TaskPullJob
from salesync.sync.task_worker import task_handlers
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, build_runtime, make_sandbox

WORKER_ID = "test-worker"
#: Where the shared clock starts: a Monday afternoon in UTC.
START = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


@dataclasses.dataclass
class World:
    sandbox: Sandbox
    runtime: Runtime
    worker: Worker
    puller: TaskPullJob

    @property
    def org(self) -> Any:
        return self.sandbox.org

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def advance(self, **delta: float) -> datetime:
        self.org.clock.advance(timedelta(**delta))
        return self.now()

    # -- people -------------------------------------------------------------------------------

    def sf_user(self, local: str) -> str:
        """Create (once) a Salesforce user ``local@…`` and return its id."""
        found = self.org.user_by_username(username(local))
        if found is not None:
            return str(found["Id"])
        return str(
            self.org.add_user(
                username(local),
                first_name=local.title(),
                last_name="Test",
                email=f"{local}@salesync.test",
                access=UserAccess(password=PASSWORD),
            )
        )

    def user(self, email: str, *, admin: bool = False, tz: str = "UTC") -> User:
        return add_user(self.runtime, email, admin=admin, tz=tz)

    def connect(self, user: User, local: str, *, team_sync: bool = False) -> int:
        """Store a connection of ``user`` (or the team's sync connection) as ``local``."""
        sf_user_id = self.sf_user(local)
        tokens = self.org.issue_token(username(local))
        box, now = self.runtime.secret_box, self.now()
        with unit_of_work(self.runtime.sessions) as session:
            row = SalesforceConnection(
                team_id=user.team_id,
                user_id=None if team_sync else user.id,
                purpose=ConnectionPurpose.TEAM_SYNC if team_sync else ConnectionPurpose.USER,
                environment="production",
                login_url=self.sandbox.base_url,
                instance_url=self.sandbox.base_url,
                org_id=self.org.org_id,
                sf_user_id=sf_user_id,
                sf_username=username(local),
                sf_email=f"{local}@salesync.test",
                access_token_enc=box.encrypt(tokens.access_token),
                refresh_token_enc=box.encrypt(tokens.refresh_token or ""),
                status=ConnectionStatus.CONNECTED,
                connected_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

    def rep(self, email: str, local: str, *, tz: str = "UTC", sync: bool = True) -> User:
        """A connected rep, with two-way task sync on unless ``sync`` is false."""
        user = self.user(email, tz=tz)
        self.connect(user, local)
        if sync:
            task_sync.set_mode(self.runtime, user, "two_way")
            self.drain()
        return user

    # -- running the sync ---------------------------------------------------------------------

    def drain(self) -> int:
        """Run the outbox handlers until nothing is ready (pushes, imports)."""
        return self.worker.drain()

    def poll(self) -> PollReport:
        """One poll interval later: poll Salesforce, then send what the poll queued."""
        self.advance(seconds=self.runtime.settings.poll_interval_seconds)
        report = self.puller.poll()
        self.drain()
        return report

    # -- Salesforce side ----------------------------------------------------------------------

    def sf_create(self, owner_local: str, **fields: Any) -> str:
        values = {"Subject": "Call back", "TaskSubtype": "Task", **fields}
        self.sf_user(owner_local)
        return str(self.org.create_record("Task", values, as_user=username(owner_local)))

    def sf_update(self, sf_id: str, owner_local: str, **fields: Any) -> None:
        self.org.update_record(sf_id, fields, as_user=username(owner_local))

    def sf_delete(self, sf_id: str, owner_local: str) -> None:
        self.org.delete_record(sf_id, as_user=username(owner_local))

    def sf_task(self, sf_id: str) -> dict[str, Any]:
        record = self.org.get_record(sf_id)
        assert record is not None
        return record

    def sf_tasks_of(self, owner_local: str) -> list[dict[str, Any]]:
        owner = self.sf_user(owner_local)
        return [
            dict(row)
            for row in self.org.records.rows("Task")
            if row["OwnerId"] == owner and not row.get("IsDeleted")
        ]

    # -- salesync side ------------------------------------------------------------------------

    def create(self, user: User, name: str, **values: Any) -> ReminderTask:
        return task_service.create_task(self.runtime, user, {"name": name, **values})

    def update(self, user: User, task_id: int, **changes: Any) -> ReminderTask:
        return task_service.update_task(self.runtime, user, task_id, changes)

    def task(self, task_id: int) -> ReminderTask:
        with unit_of_work(self.runtime.sessions) as session:
            task = session.get(ReminderTask, task_id)
            assert task is not None
            return task

    def tasks_of(self, user: User, *, deleted: bool = False) -> list[ReminderTask]:
        with unit_of_work(self.runtime.sessions) as session:
            query = select(ReminderTask).where(ReminderTask.assignee_id == user.id)
            if not deleted:
                query = query.where(ReminderTask.deleted_at.is_(None))
            return list(session.scalars(query.order_by(ReminderTask.id)))

    def all_tasks(self) -> list[ReminderTask]:
        with unit_of_work(self.runtime.sessions) as session:
            return list(session.scalars(select(ReminderTask).order_by(ReminderTask.id)))

    def user_by_id(self, user_id: int) -> User:
        with unit_of_work(self.runtime.sessions) as session:
            user = session.get(User, user_id)
            assert user is not None
            return user

    def link(self, task_id: int) -> SalesforceLink | None:
        with unit_of_work(self.runtime.sessions) as session:
            return task_store.link_for_task(session, task_id)

    def task_for_sf(self, sf_id: str) -> ReminderTask | None:
        with unit_of_work(self.runtime.sessions) as session:
            link = session.scalars(
                select(SalesforceLink).where(SalesforceLink.sf_id == sf_id)
            ).first()
            return session.get(ReminderTask, link.local_id) if link is not None else None

    def conflicts(self) -> list[TaskConflict]:
        with unit_of_work(self.runtime.sessions) as session:
            return list(session.scalars(select(TaskConflict).order_by(TaskConflict.id)))

    def diagnostics(self, code: str | None = None) -> list[DiagnosticEntry]:
        with unit_of_work(self.runtime.sessions) as session:
            query = select(DiagnosticEntry).where(DiagnosticEntry.resolved_at.is_(None))
            if code is not None:
                query = query.where(DiagnosticEntry.code == code)
            return list(session.scalars(query.order_by(DiagnosticEntry.id)))

    def outbox(self, kind: str | None = None) -> list[OutboxItem]:
        with unit_of_work(self.runtime.sessions) as session:
            query = select(OutboxItem)
            if kind is not None:
                query = query.where(OutboxItem.kind == kind)
            return list(session.scalars(query.order_by(OutboxItem.id)))

    def api_calls(self) -> int:
        return self.sandbox.api_calls()


def make_world(engine: Engine, tmp_path: Path, seed: str = "empty") -> Iterator[World]:
    for sandbox in make_sandbox(seed):
        sandbox.org.clock.freeze()
        sandbox.org.clock.set(START)
        runtime = build_runtime(engine, sandbox, tmp_path, sandbox.org.clock)  # type: ignore[arg-type]
        worker = Worker(runtime, task_handlers(runtime), worker_id=WORKER_ID)
        puller = TaskPullJob(runtime, worker_id=WORKER_ID)
        yield World(sandbox, runtime, worker, puller)


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


def test_salesync_and_the_sandbox_share_one_clock(world: World) -> None:
    before = world.now()
    assert before == START
    world.advance(hours=5)
    assert world.now() == before + timedelta(hours=5) == world.org.clock.now()


def test_a_fingerprint_ignores_fields_that_do_not_sync(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    sf_id = world.sf_create("ana", Status="Not Started", ActivityDate="2026-03-03")
    record = world.sf_task(sf_id)
    moved = {**record, "SystemModstamp": "2030-01-01T00:00:00.000+0000", "CallType": "Inbound"}
    assert fingerprint(record) == fingerprint(moved)
    assert fingerprint({**record, "Status": "Completed"}) != fingerprint(record)
    assert rep.id > 0
