"""Push reminder task changes to Salesforce Tasks: batched creates, updates and deletes.

One handler run takes up to 200 queued pushes and, per Salesforce connection, makes at most
one create, one read, one update and one delete call (sObject Collections, API-FACTS §2.4).
Updates read the Tasks first, in one query, and merge field by field: a Salesforce edit made
since the last poll is kept or overwritten by the later-edit rule and recorded as a conflict,
never silently lost. After every write the snapshot and fingerprint of what Salesforce now
holds are stored, so the next poll reads our own write as an echo, not an edit.

Tasks go to Salesforce through their assignee's connection, with OwnerId = the assignee's
Salesforce user: a task assigned to a rep who is not connected, or who has task sync off, is not
pushed (the catch-up when they turn sync on sends what changed meanwhile). TASK-6: a task that
existed before sync was turned on is never pushed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from salesync.domain import budget, reminder_mapping
from salesync.domain.soql import chunk_in_clause, format_soql
from salesync.domain.sync_windows import DEFAULT_OVERLAP, may_push_new_task
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.salesforce.results import CollectionItemResult
from salesync.services import sync_settings, task_sync
from salesync.store import connections as connections_store
from salesync.store import diagnostics, outbox
from salesync.store import tasks as store
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    OutboxItem,
    OutboxStatus,
    Person,
    ReminderTask,
    SalesforceConnection,
    SalesforceLink,
    Team,
)
from salesync.sync import task_api, task_apply
from salesync.sync import task_records as records
from salesync.sync.failures import Failure, settle_failures
from salesync.sync.task_api import ApiOpener, TaskApi

#: A push waiting for another worker's push of the same task tries again this much later.
BUSY_RETRY = dt.timedelta(seconds=2)
#: Read the Tasks to update in queries of at most this many ids.
READ_CHUNK = 200
#: The Task an unanswered create may have made: same owner and subject, created since.
EARLIER_CREATE_SOQL = (
    "SELECT {fields:literal} FROM Task WHERE OwnerId = {owner} AND Subject = {subject} "
    "AND CreatedDate >= {since} AND TaskSubtype = 'Task' ORDER BY CreatedDate, Id"
)


@dataclasses.dataclass
class _Work:
    """One task to push and the queue items it settles."""

    task_id: int
    item_ids: list[int]
    sf_id: str | None = None
    #: The Task fields to send.
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: The reminder as it was sent, and which of its fields the update carries.
    local: reminder_mapping.LocalReminder | None = None
    pushed: tuple[str, ...] = ()
    #: A create whose earlier attempt got no answer: it may exist already, queued then.
    in_doubt_since: dt.datetime | None = None


@dataclasses.dataclass
class _Batch:
    """Everything one connection pushes in this run."""

    connection_id: int
    team_id: int
    user_id: int
    org_id: str
    sf_user_id: str
    template: str
    creates: list[_Work] = dataclasses.field(default_factory=list)
    updates: list[_Work] = dataclasses.field(default_factory=list)
    deletes: list[_Work] = dataclasses.field(default_factory=list)

    @property
    def item_ids(self) -> list[int]:
        works = [*self.creates, *self.updates, *self.deletes]
        return [item_id for work in works for item_id in work.item_ids]


class TaskPushHandler:
    """The outbox handler of ``task_push`` items."""

    kinds: tuple[str, ...] = (store.PUSH_KIND,)
    max_batch = 200

    def __init__(self, runtime: Runtime, *, opener: ApiOpener | None = None) -> None:
        self.runtime = runtime
        self.opener = opener or task_api.default_opener(runtime)

    def process(self, items: Sequence[OutboxItem]) -> None:
        for batch in self._plan([item.id for item in items]):
            self._push(batch)

    # -- planning ----------------------------------------------------------------------------

    def _plan(self, item_ids: list[int]) -> list[_Batch]:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            claimed = store.items_by_ids(session, item_ids)
            by_task: dict[int, list[OutboxItem]] = {}
            for item in claimed:
                if item.status is OutboxStatus.IN_FLIGHT:
                    by_task.setdefault(item.subject_id, []).append(item)
            busy = store.pushes_in_flight_elsewhere(
                session, list(by_task), claimed=item_ids, now=now
            )
            batches: dict[int, _Batch] = {}
            tasks = store.tasks_by_ids(session, list(by_task))
            links = store.links_for_tasks(session, list(by_task))
            assignees = _Assignees(session)
            for task_id, task_items in by_task.items():
                if task_id in busy:
                    for item in task_items:
                        store.requeue(item, at=now + BUSY_RETRY, now=now)
                    continue
                task = tasks.get(task_id)
                self._plan_task(session, batches, assignees, task, links, task_items, now)
            return list(batches.values())

    def _plan_task(
        self,
        session: Session,
        batches: dict[int, _Batch],
        assignees: _Assignees,
        task: ReminderTask | None,
        links: dict[int, SalesforceLink],
        items: list[OutboxItem],
        now: dt.datetime,
    ) -> None:
        """Put the task's push in its connection's batch, or settle its items right here."""
        if task is None or not assignees.state(task.assignee_id).on:
            _done(items, now)  # gone, or sync is off: the catch-up sends it when turned on
            return
        connection = assignees.connection(task.assignee_id)
        if connection is None or not task_sync.is_usable(connection):
            _hold_until_connected(session, items, now)
            return
        link = links.get(task.id)
        if link is not None and link.org_id != connection.org_id:
            _done(items, now)  # linked in another org; reconnecting elsewhere dropped links
            return
        batch = _batch_for(session, batches, task, connection)
        work = _Work(task_id=task.id, item_ids=[item.id for item in items])
        if link is None:
            enabled_at = assignees.state(task.assignee_id).enabled_at
            self._plan_create(session, batch, work, task, items, enabled_at, now)
        elif link.deleted_at is not None:
            _done(items, now)
        else:
            work.sf_id = link.sf_id
            (batch.deletes if task.deleted_at is not None else batch.updates).append(work)

    def _plan_create(
        self,
        session: Session,
        batch: _Batch,
        work: _Work,
        task: ReminderTask,
        items: list[OutboxItem],
        enabled_at: dt.datetime | None,
        now: dt.datetime,
    ) -> None:
        if task.deleted_at is not None or enabled_at is None:
            _done(items, now)
        elif not may_push_new_task(task.created_at, enabled_at):
            _done(items, now)  # TASK-6: it existed before sync was turned on
        else:
            work.local = records.to_local(task)
            work.fields = _create_fields(session, task, batch)
            work.in_doubt_since = _in_doubt_since(items)
            batch.creates.append(work)

    # -- sending -----------------------------------------------------------------------------

    def _push(self, batch: _Batch) -> None:
        if not self._budget_allows(batch):
            return
        with unit_of_work(self.runtime.sessions) as session:
            connection = connections_store.by_id(session, batch.connection_id)
            assert connection is not None
            session.expunge(connection)
        try:
            with self.opener(connection) as api:
                self._send_creates(api, batch)
                self._send_deletes(api, batch)
                self._send_updates(api, batch)
        except SalesforceError as error:
            # Opening failed, or a call failed as a whole: every item not yet settled waits.
            self._settle_open_items(batch, error)
            task_api.break_connection_if_revoked(self.runtime, batch.connection_id, error)

    def _budget_allows(self, batch: _Batch) -> bool:
        calls = sum(1 for works in (batch.creates, batch.deletes) if works) + 2 * bool(
            batch.updates
        )
        if not calls:
            return False
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            team = session.get(Team, batch.team_id)
            assert team is not None
            decision = task_api.budget_check(
                session, team, batch.org_id, budget.WorkKind.TASK_PUSH, calls=calls, now=now
            )
            if isinstance(decision, budget.Allow):
                return True
            later = now + dt.timedelta(minutes=5)
            for item in store.items_by_ids(session, batch.item_ids):
                store.requeue(item, at=later, now=now)
            task_api.record_budget_wait(
                session, batch.team_id, batch.user_id, decision.reason, now=now
            )
            return False

    def _send_creates(self, api: TaskApi, batch: _Batch) -> None:
        if not batch.creates:
            return
        found = self._find_earlier_creates(api, batch)
        creates = [work for work in batch.creates if work.task_id not in found]
        results = api.create_many("Task", [work.fields for work in creates]) if creates else []
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            settle = _Settlement(session, now, batch.creates)
            created: list[tuple[_Work, str, dict[str, Any] | None]] = []
            for work in batch.creates:
                if work.task_id in found:
                    created.append((work, str(found[work.task_id]["Id"]), found[work.task_id]))
            for work, result in zip(creates, results, strict=True):
                if result.ok and result.id:
                    created.append((work, result.id, None))
                else:
                    settle.failed(work, result)
            self._link_created(session, batch, created, now)
            for work, _, _ in created:
                settle.done(work)
            settle.write()
        batch.creates.clear()

    def _find_earlier_creates(self, api: TaskApi, batch: _Batch) -> dict[int, dict[str, Any]]:
        """A create retried after an attempt that got no answer may have happened: look for
        the Task first, so it is linked instead of created twice (API-FACTS "Idempotent
        creates"; without an External ID field this search is the guard)."""
        found: dict[int, dict[str, Any]] = {}
        for work in batch.creates:
            if work.in_doubt_since is None:
                continue
            soql = format_soql(
                EARLIER_CREATE_SOQL,
                fields=", ".join(records.TASK_QUERY_FIELDS),
                owner=batch.sf_user_id,
                subject=str(work.fields["Subject"]),
                since=work.in_doubt_since - DEFAULT_OVERLAP,
            )
            candidates = list(api.query_all(soql))
            with unit_of_work(self.runtime.sessions) as session:
                ids = [str(row["Id"]) for row in candidates]
                linked = store.links_by_sf_ids(session, batch.org_id, ids)
            taken = {str(row["Id"]) for row in found.values()}
            for row in candidates:
                if row["Id"] not in linked and row["Id"] not in taken:
                    found[work.task_id] = row
                    break
        return found

    def _link_created(
        self,
        session: Session,
        batch: _Batch,
        created: list[tuple[_Work, str, dict[str, Any] | None]],
        now: dt.datetime,
    ) -> None:
        """Link every created (or found) Task and store its snapshot, in a fixed number of
        statements for the whole batch."""
        done: list[records.Created] = []
        for work, sf_id, record in created:
            source = record if record is not None else work.fields
            remote = {name: source.get(name) for name in records.SALESFORCE_FIELDS}
            assert work.local is not None
            snapshot = records.Snapshot(work.local, remote, batch.sf_user_id)
            sf_id = records.normalized_id(sf_id) or sf_id
            done.append(records.Created(work.task_id, batch.org_id, sf_id, snapshot, record))
        records.link_created(session, done, now=now)

    def _send_deletes(self, api: TaskApi, batch: _Batch) -> None:
        if not batch.deletes:
            return
        results = api.delete_many([work.sf_id or "" for work in batch.deletes])
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            settle = _Settlement(session, now, batch.deletes)
            links = store.links_for_tasks(session, [work.task_id for work in batch.deletes])
            for work, result in zip(batch.deletes, results, strict=True):
                code = result.real_error.code if result.real_error else ""
                if result.ok or code in ("ENTITY_IS_DELETED", "NOT_FOUND"):
                    links[work.task_id].deleted_at = now  # gone there too: done for good
                    settle.done(work)
                else:
                    settle.failed(work, result)
            settle.write()
        batch.deletes.clear()

    def _send_updates(self, api: TaskApi, batch: _Batch) -> None:
        if not batch.updates:
            return
        current = self._read_current(api, batch)
        ready = self._merge_before_update(batch, current)
        if ready:
            results = api.update_many("Task", [work.fields for work in ready])
            self._after_update(batch, ready, results)
        batch.updates.clear()

    def _read_current(self, api: TaskApi, batch: _Batch) -> list[dict[str, Any]]:
        template = "SELECT " + ", ".join(records.TASK_QUERY_FIELDS) + " FROM Task WHERE Id IN {}"
        ids = [work.sf_id for work in batch.updates if work.sf_id]
        found: list[dict[str, Any]] = []
        for soql in chunk_in_clause(template, ids, max_values=READ_CHUNK):
            found.extend(api.query_all(soql))
        return found

    def _merge_before_update(self, batch: _Batch, current: list[dict[str, Any]]) -> list[_Work]:
        """Merge each Task as Salesforce holds it now; returns the updates still to write."""
        now = self.runtime.clock.now()
        ready: list[_Work] = []
        with unit_of_work(self.runtime.sessions) as session:
            owner = task_apply.Owner(batch.user_id, batch.sf_user_id)
            context = task_apply.ApplyContext(
                session=session,
                now=now,
                team_id=batch.team_id,
                org_id=batch.org_id,
                owners={batch.sf_user_id: owner},
                queue_pushes=False,
                reread=True,
            )
            report = task_apply.apply_versions(context, current)
            settle = _Settlement(session, now, batch.updates)
            tasks = store.tasks_by_ids(session, [work.task_id for work in batch.updates])
            links = store.links_for_tasks(session, list(tasks))
            snapshots = records.load_snapshots(session, list(tasks.values()))
            for work in batch.updates:
                task, link = tasks[work.task_id], links[work.task_id]
                outcome = report.outcomes.get(link.sf_id)
                if self._still_to_write(
                    session, batch, settle, work, (task, link, snapshots[task.id]), outcome
                ):
                    ready.append(work)
            settle.write()
        return ready

    def _still_to_write(
        self,
        session: Session,
        batch: _Batch,
        settle: _Settlement,
        work: _Work,
        loaded: tuple[ReminderTask, SalesforceLink, records.Snapshot],
        outcome: task_apply.Outcome | None,
    ) -> bool:
        """After the merge: True when the Task still needs an update; otherwise the items
        are settled here."""
        task, link, snapshot = loaded
        now = settle.now
        items = [settle.items[item_id] for item_id in work.item_ids if item_id in settle.items]
        if outcome is None:
            # Not even queryAll has it: purged from the Recycle Bin, deleted for good.
            task.deleted_at = task.deleted_at or now
            link.deleted_at = now
        elif outcome is task_apply.Outcome.UNMAPPABLE:
            for item in items:
                outbox.mark_failed(
                    item, now=now, code=task_apply.UNMAPPABLE_CODE, message=_UNMAPPABLE
                )
            return False
        elif task.deleted_at is None and self._prepare_update(
            session, batch, work, task, (link, snapshot)
        ):
            work.fields = {"Id": link.sf_id, **work.fields}
            return True
        settle.done(work)
        return False

    def _prepare_update(
        self,
        session: Session,
        batch: _Batch,
        work: _Work,
        task: ReminderTask,
        loaded: tuple[SalesforceLink, records.Snapshot],
    ) -> bool:
        """Fill in the fields to write: those the merge keeps from salesync (TASK-5: the name
        only through ``{{activity_subject}}``), and OwnerId after a reassignment."""
        link, snapshot = loaded
        local = records.to_local(task)
        pushed = tuple(
            name
            for name in reminder_mapping.SYNCED_FIELDS
            if getattr(local, name) != getattr(snapshot.base, name)
        )
        fields = dict(reminder_mapping.push_update_fields(local, pushed, batch.template))
        if not _same_owner(snapshot.owner_sf_id, batch.sf_user_id):
            fields["OwnerId"] = batch.sf_user_id  # reassigned to another connected rep
        work.local, work.pushed, work.fields = local, pushed, fields
        if pushed and not fields:
            # Nothing Salesforce holds changes (a rename without {{activity_subject}}).
            base = dataclasses.replace(
                snapshot.base, **{name: getattr(local, name) for name in pushed}
            )
            new_snapshot = records.Snapshot(base, snapshot.remote, snapshot.owner_sf_id)
            records.save_snapshot(session, link, new_snapshot, now=self.runtime.clock.now())
        return bool(fields)

    def _after_update(
        self, batch: _Batch, works: list[_Work], results: list[CollectionItemResult]
    ) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            settle = _Settlement(session, now, works)
            tasks = store.tasks_by_ids(session, [work.task_id for work in works])
            links = store.links_for_tasks(session, list(tasks))
            snapshots = records.load_snapshots(session, list(tasks.values()))
            saved: list[tuple[SalesforceLink, records.Snapshot, dict[str, Any] | None]] = []
            for work, result in zip(works, results, strict=True):
                if not result.ok:
                    settle.failed(work, result)
                    continue
                task, link = tasks[work.task_id], links[work.task_id]
                snapshot = snapshots[task.id]
                assert work.local is not None
                pushed_values = {name: getattr(work.local, name) for name in work.pushed}
                base = dataclasses.replace(snapshot.base, **pushed_values)
                remote = {**snapshot.remote}
                remote.update(
                    {k: v for k, v in work.fields.items() if k in records.SALESFORCE_FIELDS}
                )
                owner = work.fields.get("OwnerId", snapshot.owner_sf_id)
                saved.append((link, records.Snapshot(base, remote, owner), None))
                settle.done(work)
            records.save_snapshots(session, saved, now=now)
            settle.write()

    def _settle_open_items(self, batch: _Batch, error: SalesforceError) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            open_items = [
                item
                for item in store.items_by_ids(session, batch.item_ids)
                if item.status is OutboxStatus.IN_FLIGHT
            ]
            task_api.settle_call_failure(session, open_items, error, now=now)


_UNMAPPABLE = "The Salesforce Task holds a value salesync cannot read; see Diagnostics."


def _batch_for(
    session: Session,
    batches: dict[int, _Batch],
    task: ReminderTask,
    connection: SalesforceConnection,
) -> _Batch:
    batch = batches.get(connection.id)
    if batch is None:
        team = session.get(Team, task.team_id)
        assert team is not None
        batch = _Batch(
            connection_id=connection.id,
            team_id=task.team_id,
            user_id=task.assignee_id,
            org_id=connection.org_id,
            sf_user_id=connection.sf_user_id,
            template=sync_settings.subject_template_of(team),
        )
        batches[connection.id] = batch
    return batch


def _in_doubt_since(items: list[OutboxItem]) -> dt.datetime | None:
    doubtful = [
        item.created_at for item in items if item.last_error_code in task_api.UNKNOWN_OUTCOME_CODES
    ]
    return min(doubtful) if doubtful else None


def _same_owner(first: str | None, second: str) -> bool:
    return first is None or records.normalized_id(first) == records.normalized_id(second)


def _create_fields(session: Session, task: ReminderTask, batch: _Batch) -> dict[str, Any]:
    local = records.to_local(task)
    who_id = _who_id(session, task.person_id)
    fields = dict(
        reminder_mapping.push_create_fields(local, batch.template, batch.sf_user_id, who_id)
    )
    return fields


def _who_id(session: Session, person_id: int | None) -> str | None:
    """The person's Contact, else their Lead, as the Task's WhoId."""
    person = session.get(Person, person_id) if person_id is not None else None
    if person is None:
        return None
    return person.sf_contact_id or person.sf_lead_id


def _done(
    items: Iterable[OutboxItem],
    now: dt.datetime,
    *,
    session: Session | None = None,
    task_id: int | None = None,
) -> None:
    for item in items:
        outbox.mark_done(item, now=now)
    if session is not None and task_id is not None:
        diagnostics.resolve_item(session, store.SUBJECT_TYPE, task_id, now=now)


def _hold_until_connected(session: Session, items: list[OutboxItem], now: dt.datetime) -> None:
    for item in items:
        store.requeue(item, at=now, now=now)
        item.status = OutboxStatus.PAUSED
        item.last_error_code = "NOT_CONNECTED"
        item.last_error_message = "Waiting for the assignee to connect Salesforce."


class _Assignees:
    """Each assignee's task sync state and connection, read once per planning run rather than
    once per task (a batch's tasks mostly share a few assignees)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._states: dict[int, task_sync.SyncState] = {}
        self._connections: dict[int, SalesforceConnection | None] = {}

    def state(self, user_id: int) -> task_sync.SyncState:
        if user_id not in self._states:
            self._states[user_id] = task_sync.state_of(self.session, user_id)
        return self._states[user_id]

    def connection(self, user_id: int) -> SalesforceConnection | None:
        if user_id not in self._connections:
            self._connections[user_id] = connections_store.for_user(self.session, user_id)
        return self._connections[user_id]


class _Settlement:
    """Settles the queue items of one call's answers in a fixed number of statements:
    the items read at once, the done ones in one ``UPDATE … IN``, their tasks' Diagnostics
    entries closed in another, and the failures in :func:`settle_failures`'s few statements.
    (Settling item by item cost a read and a write or two per Task.)"""

    def __init__(self, session: Session, now: dt.datetime, works: Sequence[_Work]) -> None:
        self.session, self.now = session, now
        ids = [item_id for work in works for item_id in work.item_ids]
        self.items = {item.id: item for item in store.items_by_ids(session, ids)}
        self.done_items: list[int] = []
        self.done_tasks: list[int] = []
        self.failures: list[Failure] = []

    def done(self, work: _Work) -> None:
        self.done_items.extend(work.item_ids)
        self.done_tasks.append(work.task_id)

    def failed(self, work: _Work, result: CollectionItemResult) -> None:
        code, category, message = task_api.item_error(result)
        self.failures.extend(
            Failure(self.items[item_id], code, category, message)
            for item_id in work.item_ids
            if item_id in self.items
        )

    def write(self) -> None:
        done = [item_id for item_id in self.done_items if item_id in self.items]
        outbox.mark_done_many(self.session, done, now=self.now)
        diagnostics.resolve_items(self.session, store.SUBJECT_TYPE, self.done_tasks, now=self.now)
        settle_failures(self.session, self.failures, now=self.now)
