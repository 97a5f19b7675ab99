"""How the poll spends API calls: one query per org with a team sync connection, one gate per
org for many workers, the budget, broken connections and Tasks that cannot be mapped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from salesync.salesforce.results import CollectionItemResult, DeletedRecords, Record
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionStatus,
    OutboxStatus,
    SalesforceConnection,
    Team,
    User,
)
from salesync.sync.task_pull import TaskPullJob
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


def _reps(world: World, count: int) -> list[User]:
    return [world.rep(f"rep{n}@example.com", f"rep{n}") for n in range(count)]


def test_a_team_sync_connection_reads_every_rep_s_changes_in_one_call(world: World) -> None:
    reps = _reps(world, 3)
    world.connect(reps[0], "integration", team_sync=True)
    world.poll()
    world.advance(minutes=1)
    for n in range(3):
        world.sf_create(f"rep{n}", Subject=f"From rep {n}")
    before = world.api_calls()
    report = world.poll()
    assert (report.queries, world.api_calls() - before) == (1, 1)
    assert report.outcomes == {"imported": 3}
    assert [len(world.tasks_of(rep)) for rep in reps] == [1, 1, 1]


def test_without_a_team_sync_connection_each_rep_polls_for_themselves(world: World) -> None:
    _reps(world, 3)
    world.poll()
    before = world.api_calls()
    report = world.poll()
    assert (report.orgs_polled, report.queries, world.api_calls() - before) == (1, 3, 3)


def test_of_several_workers_only_one_polls_an_org_per_interval(world: World) -> None:
    world.rep("ana@example.com", "ana")
    world.advance(seconds=30)
    others = [TaskPullJob(world.runtime, worker_id=f"worker-{n}") for n in range(3)]
    reports = [job.poll() for job in [world.puller, *others]]
    assert [report.orgs_polled for report in reports] == [1, 0, 0, 0]
    world.advance(seconds=30)
    assert others[1].poll().orgs_polled == 1


def test_near_the_budget_cap_the_poll_waits_and_says_why(world: World) -> None:
    world.rep("ana@example.com", "ana")
    world.poll()
    with unit_of_work(world.runtime.sessions) as session:
        team = session.query(Team).one()
        team.api_budget_share = 1
    world.sandbox.control("PUT", "limits", {"dailyApiRequests": 100})
    world.poll()  # one answer carries the new daily maximum
    before = world.api_calls()
    report = world.poll()
    assert report.orgs_polled == 0 and report.skipped
    assert world.api_calls() == before
    [entry] = world.diagnostics("API_BUDGET_LOW")
    assert "task_pull waits" in entry.message


def test_a_revoked_connection_is_marked_broken_and_the_rep_s_work_waits(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    world.org.tokens.revoke_user_refresh(world.sf_user("ana"))
    world.create(rep, "Waits for reconnect")
    world.drain()
    with unit_of_work(world.runtime.sessions) as session:
        connection = session.query(SalesforceConnection).one()
        assert connection.status is ConnectionStatus.BROKEN
    assert [item.status for item in world.outbox("task_push")] == [OutboxStatus.PAUSED]
    assert world.diagnostics("CONNECTION_BROKEN")
    assert world.poll().orgs_polled == 0  # nobody left to poll for


class _FakeApi:
    """Answers every query with fixed Task rows (values the sandbox itself would refuse)."""

    def __init__(self, rows: list[Record]) -> None:
        self.rows = rows
        self.queries: list[str] = []

    def query_all(self, soql: str, *, batch_size: int | None = None) -> Iterator[Record]:
        self.queries.append(soql)
        return iter(self.rows)

    def query_all_large(
        self, soql: str, *, bulk_above: int = 0, booleans: frozenset[str] = frozenset()
    ) -> Iterator[Record]:
        return self.query_all(soql)

    def get_deleted(self, sobject: str, start: datetime, end: datetime) -> DeletedRecords:
        return DeletedRecords((), None, None)

    def create_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[CollectionItemResult]:
        raise AssertionError("the poll never writes")

    update_many = create_many

    def delete_many(self, record_ids: Sequence[str]) -> list[CollectionItemResult]:
        raise AssertionError("the poll never writes")


def _row(world: World, sf_id: str, **fields: Any) -> Record:
    stamp = "2026-03-02T15:35:00.000+0000"
    return {
        "Id": sf_id,
        "OwnerId": world.sf_user("ana"),
        "Subject": "From a fake",
        "Status": "Not Started",
        "Priority": "Normal",
        "ActivityDate": None,
        "Description": None,
        "WhoId": None,
        "TaskSubtype": "Task",
        "IsRecurrence": False,
        "IsDeleted": False,
        "CreatedDate": stamp,
        "LastModifiedDate": stamp,
        "SystemModstamp": stamp,
        **fields,
    }


def test_a_task_that_cannot_be_mapped_is_reported_and_nothing_of_it_applied(
    world: World,
) -> None:
    rep = world.rep("ana@example.com", "ana")
    linked = world.create(rep, "Linked", details="kept as is")
    world.drain()
    linked_sf_id = world.link(linked.id).sf_id  # type: ignore[union-attr]
    good, bad_new = "00T000000000001AAA", "00T000000000002AAA"
    fake = _FakeApi(
        [
            _row(world, good, Subject="Good one"),
            _row(world, bad_new, ActivityDate="31/12/2026"),
            _row(
                world,
                linked_sf_id,
                ActivityDate="tomorrow",
                Description="half of an update",
                LastModifiedDate="2026-03-02T15:36:00.000+0000",
                SystemModstamp="2026-03-02T15:36:00.000+0000",
            ),
        ]
    )

    @contextmanager
    def open_fake(connection: SalesforceConnection) -> Iterator[_FakeApi]:
        yield fake

    world.advance(minutes=10)
    report = TaskPullJob(world.runtime, opener=open_fake, worker_id="fake").poll()
    assert report.outcomes == {"imported": 1, "unmappable": 2}
    assert [task.name for task in world.tasks_of(rep)] == ["Linked", "Good one"]
    assert world.task(linked.id).details == "kept as is"
    entries = world.diagnostics("TASK_NOT_MAPPABLE")
    assert {entry.detail["field"] for entry in entries} == {"ActivityDate"}
    assert any(linked_sf_id in entry.message for entry in entries)
    assert "ActivityDate is not a date" in entries[0].message
