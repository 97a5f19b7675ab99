"""Queries for reminder tasks, their Salesforce links, sync state, conflicts and poll gates.

Per-task sync snapshots ("the values both sides last agreed on") and per-user task sync state
live in ``sync_cursors`` rows as JSON until the schema grows columns for them; everything that
reads or writes them goes through the functions here, so that move touches only this module.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, insert, or_, select, update
from sqlalchemy.orm import Session

from salesync.store.tables import (
    OutboxItem,
    OutboxStatus,
    ReminderTask,
    SalesforceLink,
    SyncCursor,
    TaskConflict,
)

#: ``salesforce_links.local_type`` of a reminder task.
LINK_TYPE = "task"
#: Outbox kind of a reminder task change that must reach Salesforce.
PUSH_KIND = "task_push"
#: Outbox kind of the first import or the catch-up after a pause.
ENABLE_KIND = "task_sync_enable"
#: ``outbox.subject_type`` of a reminder task.
SUBJECT_TYPE = "reminder_task"


# -- tasks ------------------------------------------------------------------------------------


def add_task(session: Session, task: ReminderTask) -> ReminderTask:
    session.add(task)
    session.flush()
    return task


def task_in_team(session: Session, team_id: int, task_id: int) -> ReminderTask | None:
    """A live (not deleted) task of the team, or None."""
    return session.scalars(
        select(ReminderTask).where(
            ReminderTask.id == task_id,
            ReminderTask.team_id == team_id,
            ReminderTask.deleted_at.is_(None),
        )
    ).first()


def tasks_by_ids(session: Session, task_ids: Collection[int]) -> dict[int, ReminderTask]:
    """Tasks by id, deleted ones included."""
    if not task_ids:
        return {}
    rows = session.scalars(select(ReminderTask).where(ReminderTask.id.in_(list(task_ids))))
    return {task.id: task for task in rows}


def list_tasks(
    session: Session,
    team_id: int,
    *,
    visible_to: int | None,
    assignee_id: int | None = None,
    status: str | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ReminderTask]:
    """Live tasks of a team, by due date (no date last) then id.

    ``visible_to`` limits them to a rep's own tasks (assignee or creator); None means all.
    """
    query = select(ReminderTask).where(
        ReminderTask.team_id == team_id, ReminderTask.deleted_at.is_(None)
    )
    if visible_to is not None:
        query = query.where(_own_task(visible_to))
    if assignee_id is not None:
        query = query.where(ReminderTask.assignee_id == assignee_id)
    if status is not None:
        query = query.where(ReminderTask.status == status)
    if due_from is not None:
        query = query.where(ReminderTask.due_date >= due_from)
    if due_to is not None:
        query = query.where(ReminderTask.due_date <= due_to)
    order = (ReminderTask.due_date.is_(None), ReminderTask.due_date, ReminderTask.id)
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))


def _own_task(user_id: int) -> ColumnElement[bool]:
    return or_(ReminderTask.assignee_id == user_id, ReminderTask.created_by_id == user_id)


# -- links ------------------------------------------------------------------------------------


def link_for_task(session: Session, task_id: int) -> SalesforceLink | None:
    return session.scalars(
        select(SalesforceLink).where(
            SalesforceLink.local_type == LINK_TYPE, SalesforceLink.local_id == task_id
        )
    ).first()


def links_for_tasks(session: Session, task_ids: Collection[int]) -> dict[int, SalesforceLink]:
    if not task_ids:
        return {}
    rows = session.scalars(
        select(SalesforceLink).where(
            SalesforceLink.local_type == LINK_TYPE, SalesforceLink.local_id.in_(list(task_ids))
        )
    )
    return {link.local_id: link for link in rows}


def links_by_sf_ids(
    session: Session, org_id: str, sf_ids: Collection[str]
) -> dict[str, SalesforceLink]:
    """Task links of an org by Salesforce id (18-character ids)."""
    found: dict[str, SalesforceLink] = {}
    ids = list(sf_ids)
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(SalesforceLink).where(
                SalesforceLink.local_type == LINK_TYPE,
                SalesforceLink.org_id == org_id,
                SalesforceLink.sf_id.in_(ids[start : start + 500]),
            )
        )
        found.update({link.sf_id: link for link in rows})
    return found


def add_link(
    session: Session, *, task_id: int, org_id: str, sf_id: str, now: datetime
) -> SalesforceLink:
    link = SalesforceLink(
        local_type=LINK_TYPE,
        local_id=task_id,
        target_key="",
        org_id=org_id,
        sobject="Task",
        sf_id=sf_id,
        synced_at=now,
    )
    session.add(link)
    session.flush()
    return link


def insert_links(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Task links of a batch in one executemany INSERT (the ORM would insert them one by one
    to fetch their ids, which nobody needs here)."""
    if rows:
        defaults = {"local_type": LINK_TYPE, "target_key": "", "sobject": "Task"}
        session.execute(
            insert(cast(Table, SalesforceLink.__table__)), [{**defaults, **row} for row in rows]
        )


def live_links_of_assignee(
    session: Session, user_id: int, org_id: str
) -> list[tuple[SalesforceLink, ReminderTask]]:
    """Links not yet deleted of the tasks assigned to a user, deleted tasks included."""
    rows = session.execute(
        select(SalesforceLink, ReminderTask)
        .join(ReminderTask, ReminderTask.id == SalesforceLink.local_id)
        .where(
            SalesforceLink.local_type == LINK_TYPE,
            SalesforceLink.org_id == org_id,
            SalesforceLink.deleted_at.is_(None),
            ReminderTask.assignee_id == user_id,
        )
        .order_by(SalesforceLink.id)
    )
    return [(link, task) for link, task in rows]


# -- JSON state in sync_cursors ----------------------------------------------------------------


def state(session: Session, scope: str, name: str) -> dict[str, Any] | None:
    row = _cursor_row(session, scope, name)
    return dict(row.value) if row is not None else None


def states(session: Session, scopes: Collection[str], name: str) -> dict[str, dict[str, Any]]:
    """Values of ``name`` for many scopes at once."""
    found: dict[str, dict[str, Any]] = {}
    scope_list = list(scopes)
    for start in range(0, len(scope_list), 500):
        rows = session.scalars(
            select(SyncCursor).where(
                SyncCursor.name == name, SyncCursor.scope.in_(scope_list[start : start + 500])
            )
        )
        found.update({row.scope: dict(row.value) for row in rows})
    return found


def states_named(session: Session, name: str, scope_prefix: str) -> dict[str, dict[str, Any]]:
    """Every value of ``name`` whose scope starts with ``scope_prefix``."""
    rows = session.scalars(
        select(SyncCursor).where(
            SyncCursor.name == name, SyncCursor.scope.startswith(scope_prefix, autoescape=True)
        )
    )
    return {row.scope: dict(row.value) for row in rows}


def put_state(
    session: Session, scope: str, name: str, value: dict[str, Any], *, now: datetime
) -> None:
    row = _cursor_row(session, scope, name)
    if row is None:
        session.add(SyncCursor(scope=scope, name=name, value=value, updated_at=now))
        session.flush()
        return
    row.value = value
    row.updated_at = now


def put_states(
    session: Session, values: Mapping[str, dict[str, Any]], name: str, *, now: datetime
) -> None:
    """:func:`put_state` for many scopes: one read, new rows written at the next flush."""
    existing: dict[str, SyncCursor] = {}
    scope_list = list(values)
    for start in range(0, len(scope_list), 500):
        rows = session.scalars(
            select(SyncCursor).where(
                SyncCursor.name == name, SyncCursor.scope.in_(scope_list[start : start + 500])
            )
        )
        existing.update({row.scope: row for row in rows})
    new = [
        {"scope": scope, "name": name, "value": value, "updated_at": now}
        for scope, value in values.items()
        if scope not in existing
    ]
    if new:
        # Core executemany: the ORM would insert the rows one by one to fetch their ids.
        session.execute(insert(cast(Table, SyncCursor.__table__)), new)
    for scope, row in existing.items():
        row.value = values[scope]
        row.updated_at = now


def delete_state(session: Session, scope: str, name: str) -> None:
    row = _cursor_row(session, scope, name)
    if row is not None:
        session.delete(row)


def _cursor_row(session: Session, scope: str, name: str) -> SyncCursor | None:
    return session.scalars(
        select(SyncCursor).where(SyncCursor.scope == scope, SyncCursor.name == name)
    ).first()


def add_gate(session: Session, scope: str, name: str, *, now: datetime) -> None:
    """Create a gate row that anyone may take at once. Run it in its own transaction: when
    two workers race, the loser's commit fails on the unique (scope, name) and may be ignored.
    """
    session.add(SyncCursor(scope=scope, name=name, value={}, updated_at=now - timedelta(days=1)))
    session.flush()


def take_gate(
    session: Session, scope: str, name: str, *, holder: str, now: datetime, min_gap: timedelta
) -> bool | None:
    """Take the gate unless someone took it less than ``min_gap`` ago; None when it does not
    exist yet (see :func:`add_gate`).

    One conditional UPDATE, so of several workers racing for the same gate exactly one wins
    on both databases. Commit right after: the gate is what keeps the others out.
    """
    if _cursor_row(session, scope, name) is None:
        return None
    result = session.execute(
        update(SyncCursor)
        .where(
            SyncCursor.scope == scope,
            SyncCursor.name == name,
            SyncCursor.updated_at <= now - min_gap,
        )
        .values(value={"holder": holder, "taken_at": now.isoformat()}, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


# -- outbox lookups for task pushes -------------------------------------------------------------


def has_pending_push(session: Session, task_id: int) -> bool:
    """True when a push of the task waits in the queue (not yet claimed)."""
    found = session.scalar(
        select(OutboxItem.id)
        .where(
            OutboxItem.kind == PUSH_KIND,
            OutboxItem.subject_type == SUBJECT_TYPE,
            OutboxItem.subject_id == task_id,
            OutboxItem.status == OutboxStatus.PENDING,
        )
        .limit(1)
    )
    return found is not None


def pushes_in_flight_elsewhere(
    session: Session, task_ids: Collection[int], *, claimed: Collection[int], now: datetime
) -> set[int]:
    """Tasks with a push being sent by someone else right now: an item with a live lease
    that is not one of the ``claimed`` items of the caller."""
    if not task_ids:
        return set()
    query = select(OutboxItem.subject_id).where(
        OutboxItem.kind == PUSH_KIND,
        OutboxItem.subject_type == SUBJECT_TYPE,
        OutboxItem.subject_id.in_(list(task_ids)),
        OutboxItem.status == OutboxStatus.IN_FLIGHT,
        OutboxItem.lease_expires_at > now,
        OutboxItem.id.not_in(list(claimed) or [0]),
    )
    return set(session.scalars(query))


def pushes_in_doubt(
    session: Session, user_ids: Collection[int], *, unknown_outcome_codes: Collection[str]
) -> dict[int, datetime]:
    """Per user, the oldest queue time of a task push that may have created a Task we have not
    linked yet: one being sent now, or one whose last attempt got no answer."""
    if not user_ids:
        return {}
    in_doubt = or_(
        OutboxItem.status == OutboxStatus.IN_FLIGHT,
        OutboxItem.last_error_code.in_(list(unknown_outcome_codes)),
    )
    rows = session.execute(
        select(OutboxItem.user_id, func.min(OutboxItem.created_at))
        .where(
            OutboxItem.kind == PUSH_KIND,
            OutboxItem.status.in_([OutboxStatus.IN_FLIGHT, OutboxStatus.PENDING]),
            OutboxItem.user_id.in_(list(user_ids)),
            in_doubt,
        )
        .group_by(OutboxItem.user_id)
    )
    return {int(user_id): since for user_id, since in rows if user_id is not None}


def requeue(item: OutboxItem, *, at: datetime, now: datetime) -> None:
    """Put a claimed item back to wait until ``at``; not a failure, so no attempt counts."""
    item.status = OutboxStatus.PENDING
    item.available_at = at
    item.lease_owner = None
    item.lease_expires_at = None
    item.updated_at = now


def items_by_ids(session: Session, item_ids: Sequence[int]) -> list[OutboxItem]:
    if not item_ids:
        return []
    return list(
        session.scalars(
            select(OutboxItem).where(OutboxItem.id.in_(list(item_ids))).order_by(OutboxItem.id)
        )
    )


# -- conflicts ----------------------------------------------------------------------------------


def add_conflict(
    session: Session,
    *,
    task_id: int,
    field: str,
    local_value: str | None,
    remote_value: str | None,
    winner: str,
    reason: str,
    now: datetime,
) -> TaskConflict:
    conflict = TaskConflict(
        task_id=task_id,
        field=field,
        local_value=local_value,
        remote_value=remote_value,
        winner=winner,
        reason=reason[:200],
        decided_at=now,
    )
    session.add(conflict)
    session.flush()
    return conflict


def conflicts_of_tasks(session: Session, task_ids: Collection[int]) -> list[TaskConflict]:
    if not task_ids:
        return []
    return list(
        session.scalars(
            select(TaskConflict)
            .where(TaskConflict.task_id.in_(list(task_ids)))
            .order_by(TaskConflict.decided_at.desc(), TaskConflict.id.desc())
        )
    )


def recent_conflicts(
    session: Session, team_id: int, *, visible_to: int | None, limit: int
) -> list[TaskConflict]:
    query = (
        select(TaskConflict)
        .join(ReminderTask, ReminderTask.id == TaskConflict.task_id)
        .where(ReminderTask.team_id == team_id)
    )
    if visible_to is not None:
        query = query.where(_own_task(visible_to))
    order = (TaskConflict.decided_at.desc(), TaskConflict.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))
