"""Glue between stored reminder tasks and the pure task-sync rules: conversions and snapshots.

A *snapshot* is what both sides last agreed on for one linked task: the reminder in salesync
terms (the merge's ``base``), the synced Task fields as Salesforce holds them, and the OwnerId
last written or read. The per-field merge needs the base; the push needs the Salesforce values
to fingerprint what it wrote (echo suppression, DESIGN §3).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from salesync.domain import ids
from salesync.domain.conflicts import fingerprint
from salesync.domain.dates import parse_salesforce_datetime
from salesync.domain.reminder_mapping import (
    SALESFORCE_FIELD,
    SYNCED_FIELDS,
    LocalReminder,
    PulledFields,
    ReminderPriority,
    ReminderStatus,
    ReminderType,
)
from salesync.store import tasks as store
from salesync.store.tables import ReminderTask, SalesforceLink

#: Fields read from Salesforce for every Task version the sync looks at.
TASK_QUERY_FIELDS = (
    "Id",
    "OwnerId",
    "Subject",
    "Status",
    "Priority",
    "ActivityDate",
    "Description",
    "WhoId",
    "TaskSubtype",
    "IsRecurrence",
    "IsDeleted",
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
)
#: The boolean fields among them (Bulk API 2.0 reads them as CSV text).
TASK_BOOLEAN_FIELDS = frozenset({"IsRecurrence", "IsDeleted"})
#: The synced Task fields as Salesforce names them (TASK-2).
SALESFORCE_FIELDS = tuple(SALESFORCE_FIELD[name] for name in SYNCED_FIELDS)
_SNAPSHOT = "snapshot"


def to_local(task: ReminderTask) -> LocalReminder:
    """The stored task in the terms of the mapping rules."""
    return LocalReminder(
        name=task.name,
        status=ReminderStatus(task.status),
        priority=ReminderPriority(task.priority),
        due_date=task.due_date,
        details=task.details or None,
        task_type=task.task_type or ReminderType.CUSTOM.value,
    )


def set_fields(
    task: ReminderTask, reminder: LocalReminder, names: tuple[str, ...], now: dt.datetime
) -> None:
    """Copy the named fields of ``reminder`` onto the stored task (a pull: no edit times)."""
    for name in names:
        if name == "status":
            if reminder.status != task.status:
                task.completed_at = now if reminder.status is ReminderStatus.COMPLETE else None
            task.status = reminder.status
        elif name == "priority":
            task.priority = reminder.priority
        elif name == "details":
            task.details = reminder.details or ""
        else:
            setattr(task, name, getattr(reminder, name))
    if names:
        task.updated_at = now


def edited_at(task: ReminderTask) -> dict[str, dt.datetime]:
    """When each synced field was last edited in salesync."""
    return {
        name: dt.datetime.fromisoformat(value)
        for name, value in (task.field_edited_at or {}).items()
        if isinstance(value, str)
    }


def remote_in_local_terms(base: LocalReminder, pulled: PulledFields) -> LocalReminder:
    """What Salesforce holds, in reminder terms: the name is never pulled (TASK-5) and an
    unsynced status or priority counts as unchanged (TASK-3/4)."""
    return dataclasses.replace(
        base,
        status=pulled.status or base.status,
        priority=pulled.priority or base.priority,
        due_date=pulled.due_date,
        details=pulled.details,
    )


def salesforce_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """The synced fields of a Task record (what the fingerprint covers)."""
    return {name: record.get(name) for name in SALESFORCE_FIELDS}


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What both sides last agreed on for one linked task."""

    base: LocalReminder
    remote: dict[str, Any]
    owner_sf_id: str | None

    def to_json(self) -> dict[str, Any]:
        base = self.base
        return {
            "base": {
                "name": base.name,
                "status": base.status.value,
                "priority": base.priority.value,
                "due_date": base.due_date.isoformat() if base.due_date else None,
                "details": base.details,
            },
            "remote": self.remote,
            "owner": self.owner_sf_id,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Snapshot:
        base = value["base"]
        reminder = LocalReminder(
            name=base["name"],
            status=_status(base["status"]),
            priority=_priority(base["priority"]),
            due_date=dt.date.fromisoformat(base["due_date"]) if base["due_date"] else None,
            details=base["details"],
        )
        return cls(reminder, dict(value.get("remote") or {}), value.get("owner"))


def load_snapshot(session: Session, task: ReminderTask) -> Snapshot:
    """The task's snapshot; a link without one (never expected) counts as agreeing now."""
    value = store.state(session, _scope(task.id), _SNAPSHOT)
    if value is None:
        return Snapshot(to_local(task), {}, None)
    return Snapshot.from_json(value)


def load_snapshots(session: Session, tasks: Sequence[ReminderTask]) -> dict[int, Snapshot]:
    """:func:`load_snapshot` of many tasks, in one read."""
    values = store.states(session, [_scope(task.id) for task in tasks], _SNAPSHOT)
    return {
        task.id: (
            Snapshot.from_json(values[_scope(task.id)])
            if _scope(task.id) in values
            else Snapshot(to_local(task), {}, None)
        )
        for task in tasks
    }


def save_snapshots(
    session: Session,
    saved: Sequence[tuple[SalesforceLink, Snapshot, Mapping[str, Any] | None]],
    *,
    now: dt.datetime,
) -> None:
    """:func:`save_snapshot` for a batch: one read, then one write per kind of row."""
    store.put_states(
        session,
        {_scope(link.local_id): snapshot.to_json() for link, snapshot, _ in saved},
        _SNAPSHOT,
        now=now,
    )
    for link, snapshot, record in saved:
        _stamp(link, snapshot, now=now, record=record)


@dataclasses.dataclass(frozen=True)
class Created:
    """A Task just created (or found) in Salesforce for a task: its link is still to write."""

    task_id: int
    org_id: str
    sf_id: str
    snapshot: Snapshot
    #: The Task as read back, when it was found rather than created.
    record: Mapping[str, Any] | None = None


def link_created(session: Session, created: Sequence[Created], *, now: dt.datetime) -> None:
    """Write the links and snapshots of a batch of created Tasks: one insert of links, one
    read and one insert of snapshots, whatever the batch's size."""
    store.insert_links(
        session,
        [
            {
                "local_id": done.task_id,
                "org_id": done.org_id,
                "sf_id": done.sf_id,
                **_stamp_values(done.snapshot, now=now, record=done.record),
            }
            for done in created
        ],
    )
    store.put_states(
        session,
        {_scope(done.task_id): done.snapshot.to_json() for done in created},
        _SNAPSHOT,
        now=now,
    )


def save_snapshot(
    session: Session,
    link: SalesforceLink,
    snapshot: Snapshot,
    *,
    now: dt.datetime,
    record: Mapping[str, Any] | None = None,
) -> None:
    """Store the snapshot and its fingerprint; ``record`` is the Task version it came from."""
    store.put_state(session, _scope(link.local_id), _SNAPSHOT, snapshot.to_json(), now=now)
    _stamp(link, snapshot, now=now, record=record)


def _stamp(
    link: SalesforceLink,
    snapshot: Snapshot,
    *,
    now: dt.datetime,
    record: Mapping[str, Any] | None,
) -> None:
    values = _stamp_values(snapshot, now=now, record=record)
    if record is None:  # an update written blind keeps the times of the last version read
        del values["sf_last_modified"], values["sf_system_modstamp"]
    for name, value in values.items():
        setattr(link, name, value)


def _stamp_values(
    snapshot: Snapshot, *, now: dt.datetime, record: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What a link records of the Task version it was last synced with (the Salesforce
    times only when that version was read back: ``record``)."""
    values: dict[str, Any] = {"fingerprint": fingerprint(snapshot.remote), "synced_at": now}
    values["sf_last_modified"] = values["sf_system_modstamp"] = None
    if record is not None:
        values["sf_last_modified"] = parse_salesforce_datetime(record["LastModifiedDate"])
        values["sf_system_modstamp"] = parse_salesforce_datetime(record["SystemModstamp"])
    return values


def _status(value: str) -> ReminderStatus:
    # Snapshots written before status had one spelling said "open"/"complete"; the migration
    # rewrites them, and this still reads one written by a worker not yet upgraded.
    return ReminderStatus(value.capitalize())


def _priority(value: str) -> ReminderPriority:
    # Likewise "normal"/"high" before.
    return ReminderPriority(value.capitalize())


def _scope(task_id: int) -> str:
    return f"task:{task_id}"


def normalized_id(value: object) -> str | None:
    """The 18-character form of an id, or None when it is not one."""
    return ids.normalize(value) if isinstance(value, str) and ids.is_valid_id(value) else None
