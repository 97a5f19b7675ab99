"""What happens when a rep turns task sync on: the first import, or the catch-up after a pause.

First enable (TASK-6/7): the rep's Salesforce reminders (TaskSubtype Task) created or modified
in the 24 hours before enabling are imported; none of the rep's existing salesync tasks are
pushed (only tasks created from now on are).

Re-enable after a pause (TASK-8): Salesforce deletes of the last 15 days are applied (getDeleted);
when the pause began before the oldest delete Salesforce still keeps (``earliestDateAvailable``),
every linked task id is checked instead (a full reconcile), so a Task deleted and purged while
sync was off is removed here too. Then the Task changes made during the pause are read and
merged, and the salesync changes made during the pause are queued for Salesforce.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session

from salesync.domain.dates import format_salesforce_datetime
from salesync.domain.soql import chunk_in_clause, format_soql
from salesync.domain.sync_windows import (
    DEFAULT_OVERLAP,
    first_import_since,
    needs_full_reconcile,
    reenable_delete_start,
    replication_window,
)
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.salesforce.results import Record
from salesync.services import task_sync
from salesync.store import connections as connections_store
from salesync.store import outbox
from salesync.store import tasks as store
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus, ReminderTask, SalesforceConnection
from salesync.sync import task_api, task_apply
from salesync.sync import task_records as records
from salesync.sync.task_api import ApiOpener, TaskApi

FIRST_IMPORT_SOQL = (
    "SELECT {fields:literal} FROM Task WHERE OwnerId = {owner} AND LastModifiedDate >= {since} "
    "AND (TaskSubtype = 'Task' OR TaskSubtype = null) ORDER BY SystemModstamp, Id"
)
CATCH_UP_SOQL = (
    "SELECT {fields:literal} FROM Task WHERE OwnerId = {owner} AND SystemModstamp >= {since} "
    "AND (TaskSubtype = 'Task' OR TaskSubtype = null) ORDER BY SystemModstamp, Id"
)
RECONCILE_SOQL = "SELECT Id, IsDeleted, SystemModstamp FROM Task WHERE Id IN {}"
_SUMMARY = "task_catch_up"


@dataclasses.dataclass
class CatchUpSummary:
    """What the last import or catch-up did; kept for the status panel and tests."""

    mode: str
    at: dt.datetime
    imported: int = 0
    merged: int = 0
    deleted: int = 0
    full_reconcile: bool = False
    pushes_queued: int = 0

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> CatchUpSummary:
        return cls(**{**value, "at": dt.datetime.fromisoformat(value["at"])})


def last_summary(session: Session, user_id: int) -> CatchUpSummary | None:
    value = store.state(session, f"user:{user_id}", _SUMMARY)
    return CatchUpSummary.from_json(value) if value is not None else None


@dataclasses.dataclass(frozen=True)
class _Job:
    item_id: int
    team_id: int
    user_id: int
    mode: str
    enabled_at: dt.datetime
    paused_at: dt.datetime | None
    connection: SalesforceConnection


class TaskSyncEnableHandler:
    """The outbox handler of ``task_sync_enable`` items (one per turn-on)."""

    kinds: tuple[str, ...] = (store.ENABLE_KIND,)
    max_batch = 10

    def __init__(self, runtime: Runtime, *, opener: ApiOpener | None = None) -> None:
        self.runtime = runtime
        self.opener = opener or task_api.default_opener(runtime)

    def process(self, items: Sequence[OutboxItem]) -> None:
        for item in items:
            job = self._load(item.id)
            if job is not None:
                self._run(job)

    def _load(self, item_id: int) -> _Job | None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            item = store.items_by_ids(session, [item_id])[0]
            if item.status is not OutboxStatus.IN_FLIGHT or item.user_id is None:
                return None
            if not task_sync.state_of(session, item.user_id).on:
                outbox.mark_done(item, now=now)  # turned off again before it ran
                return None
            connection = connections_store.for_user(session, item.user_id)
            if connection is None or not task_sync.is_usable(connection):
                store.requeue(item, at=now, now=now)
                item.status = OutboxStatus.PAUSED  # released when the rep connects
                return None
            session.expunge(connection)
            payload = item.payload
            return _Job(
                item_id=item.id,
                team_id=item.team_id,
                user_id=item.user_id,
                mode=str(payload.get("mode", "first")),
                enabled_at=dt.datetime.fromisoformat(payload["enabled_at"]),
                paused_at=_parse(payload.get("paused_at")),
                connection=connection,
            )

    def _run(self, job: _Job) -> None:
        summary = CatchUpSummary(job.mode, self.runtime.clock.now())
        try:
            with self.opener(job.connection) as api:
                if job.mode == "resume" and job.paused_at is not None:
                    self._resume(api, job, job.paused_at, summary)
                else:
                    self._first_import(api, job, summary)
        except SalesforceError as error:
            with unit_of_work(self.runtime.sessions) as session:
                items = store.items_by_ids(session, [job.item_id])
                task_api.settle_call_failure(session, items, error, now=self.runtime.clock.now())
            task_api.break_connection_if_revoked(self.runtime, job.connection.id, error)
            return
        self._finish(job, summary)

    # -- first enable ----------------------------------------------------------------------------

    def _first_import(self, api: TaskApi, job: _Job, summary: CatchUpSummary) -> None:
        soql = format_soql(
            FIRST_IMPORT_SOQL,
            fields=", ".join(records.TASK_QUERY_FIELDS),
            owner=job.connection.sf_user_id,
            since=first_import_since(job.enabled_at),
        )
        for versions in _pages(self._read_large(api, soql)):
            self._apply(job, versions, summary, first_import_at=job.enabled_at)

    # -- after a pause ---------------------------------------------------------------------------

    def _resume(
        self, api: TaskApi, job: _Job, paused_at: dt.datetime, summary: CatchUpSummary
    ) -> None:
        now = self.runtime.clock.now()
        deleted: list[Record] = []
        window = replication_window(max(paused_at, reenable_delete_start(now)), now)
        earliest: dt.datetime | None = None
        if window is not None:
            answer = api.get_deleted("Task", window.start, window.end)
            earliest = answer.earliest_date_available
            deleted = [_deleted(row.id, row.deleted_date) for row in answer.records]
        if earliest is not None and needs_full_reconcile(paused_at, earliest):
            summary.full_reconcile = True
            deleted.extend(self._reconcile(api, job))
        self._apply(job, deleted, summary, reread=True)
        soql = format_soql(
            CATCH_UP_SOQL,
            fields=", ".join(records.TASK_QUERY_FIELDS),
            owner=job.connection.sf_user_id,
            since=paused_at - DEFAULT_OVERLAP,
        )
        for versions in _pages(self._read_large(api, soql)):
            self._apply(job, versions, summary)
        summary.pushes_queued = self._queue_pause_changes(job)

    def _reconcile(self, api: TaskApi, job: _Job) -> list[Record]:
        """Every linked Task that Salesforce no longer has (purged, or in the Recycle Bin)."""
        with unit_of_work(self.runtime.sessions) as session:
            linked = store.live_links_of_assignee(session, job.user_id, job.connection.org_id)
            sf_ids = [link.sf_id for link, _ in linked]
        present: set[str] = set()
        gone: list[Record] = []
        now = self.runtime.clock.now()
        for soql in chunk_in_clause(RECONCILE_SOQL, sf_ids, max_values=200):
            for row in api.query_all(soql):
                sf_id = records.normalized_id(row.get("Id"))
                if sf_id is not None and row.get("IsDeleted") is not True:
                    present.add(sf_id)
        for sf_id in sf_ids:
            if sf_id not in present:
                gone.append(_deleted(sf_id, now))
        return gone

    def _queue_pause_changes(self, job: _Job) -> int:
        """Queue what changed in salesync while sync was off (edits and deletes of linked
        tasks); tasks created during the pause stay local (TASK-6)."""
        now = self.runtime.clock.now()
        queued = 0
        with unit_of_work(self.runtime.sessions) as session:
            for _link, task in store.live_links_of_assignee(
                session, job.user_id, job.connection.org_id
            ):
                changed = task.deleted_at is not None or _differs(session, task)
                if changed and not store.has_pending_push(session, task.id):
                    outbox.enqueue(
                        session,
                        team_id=task.team_id,
                        user_id=task.assignee_id,
                        kind=store.PUSH_KIND,
                        subject_type=store.SUBJECT_TYPE,
                        subject_id=task.id,
                        now=now,
                    )
                    queued += 1
        return queued

    # -- shared ----------------------------------------------------------------------------------

    def _read_large(self, api: TaskApi, soql: str) -> Iterator[Record]:
        """Past ``bulk_above_rows`` (10,000) rows the read goes through a Bulk API 2.0 query
        job: a handful of calls instead of one per 2,000 rows, and pages applied as they
        come (memory stays flat)."""
        return api.query_all_large(
            soql,
            bulk_above=self.runtime.settings.bulk_above_rows,
            booleans=records.TASK_BOOLEAN_FIELDS,
        )

    def _apply(
        self,
        job: _Job,
        versions: list[Record],
        summary: CatchUpSummary,
        *,
        first_import_at: dt.datetime | None = None,
        reread: bool = False,
    ) -> None:
        sf_user_id = job.connection.sf_user_id
        with unit_of_work(self.runtime.sessions) as session:
            context = task_apply.ApplyContext(
                session=session,
                now=self.runtime.clock.now(),
                team_id=job.team_id,
                org_id=job.connection.org_id,
                owners={sf_user_id: task_apply.Owner(job.user_id, sf_user_id)},
                first_import_at=first_import_at,
                reread=reread,
            )
            report = task_apply.apply_versions(context, versions)
        summary.imported += report.count(task_apply.Outcome.IMPORTED)
        summary.merged += report.count(task_apply.Outcome.MERGED)
        summary.deleted += report.count(task_apply.Outcome.DELETED)

    def _finish(self, job: _Job, summary: CatchUpSummary) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            for item in store.items_by_ids(session, [job.item_id]):
                outbox.mark_done(item, now=now)
            scope = f"user:{job.user_id}"
            store.put_state(session, scope, _SUMMARY, summary.to_json(), now=now)


#: Rows applied per transaction: memory stays flat however many Tasks an import brings, and
#: a crash repeats at most one page (applying a version twice is a no-op).
APPLY_PAGE = 2000


def _pages(rows: Iterable[Record]) -> Iterator[list[Record]]:
    page: list[Record] = []
    for row in rows:
        page.append(row)
        if len(page) >= APPLY_PAGE:
            yield page
            page = []
    if page:
        yield page


def _deleted(sf_id: str, deleted_at: dt.datetime) -> Record:
    """A deleted Task as the apply step reads it."""
    return {
        "Id": sf_id,
        "IsDeleted": True,
        "SystemModstamp": format_salesforce_datetime(deleted_at),
    }


def _differs(session: Session, task: ReminderTask) -> bool:
    snapshot = records.load_snapshot(session, task)
    return records.to_local(task) != snapshot.base


def _parse(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
