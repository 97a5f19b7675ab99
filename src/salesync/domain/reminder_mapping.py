"""Reminder task fields <-> Salesforce Task fields for two-way task sync (TASK-2..5)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Collection, Mapping
from types import MappingProxyType

from salesync.domain import ids
from salesync.domain.activity_task import cut_description
from salesync.domain.dates import parse_salesforce_date
from salesync.domain.subject_template import fit_subject, render_subject, uses_activity_subject


class ReminderStatus(enum.StrEnum):
    """A reminder task's status in salesync (TASK-3).

    The one spelling of it: the database column, the API, the sync snapshots and the
    recorded conflicts all use these values.
    """

    OPEN = "Open"
    COMPLETE = "Complete"


class ReminderPriority(enum.StrEnum):
    """A reminder task's priority in salesync (TASK-4: only Normal and High); one spelling
    everywhere, like the status."""

    NORMAL = "Normal"
    HIGH = "High"


#: TASK-3: Open <-> Not Started, Complete <-> Completed; other Salesforce values don't sync.
SALESFORCE_STATUS = MappingProxyType(
    {ReminderStatus.OPEN: "Not Started", ReminderStatus.COMPLETE: "Completed"}
)
#: TASK-4: Normal and High both ways; Salesforce Low doesn't sync.
SALESFORCE_PRIORITY = MappingProxyType(
    {ReminderPriority.NORMAL: "Normal", ReminderPriority.HIGH: "High"}
)
_LOCAL_STATUS = {value: key for key, value in SALESFORCE_STATUS.items()}
_LOCAL_PRIORITY = {value: key for key, value in SALESFORCE_PRIORITY.items()}
#: The reminder fields that sync, in order; ``name`` is push-only (TASK-5).
SYNCED_FIELDS = ("name", "status", "priority", "due_date", "details")
#: The Salesforce field each reminder field maps to (TASK-2).
SALESFORCE_FIELD = MappingProxyType(
    {
        "name": "Subject",
        "status": "Status",
        "priority": "Priority",
        "due_date": "ActivityDate",
        "details": "Description",
    }
)


class ReminderType(enum.StrEnum):
    """What a reminder task is for (TASK-10); the template's ``{{activity_type}}``."""

    EMAIL = "Email"
    CALL = "Call"
    INMAIL = "InMail"
    CUSTOM = "Custom"


@dataclasses.dataclass(frozen=True)
class LocalReminder:
    """A reminder task as salesync keeps it (TASK-10)."""

    name: str
    status: ReminderStatus = ReminderStatus.OPEN
    priority: ReminderPriority = ReminderPriority.NORMAL
    due_date: dt.date | None = None
    details: str | None = None
    #: The template's ``{{activity_type}}``: Email, Call, InMail or Custom (API-6).
    task_type: str = "Custom"


@dataclasses.dataclass(frozen=True)
class PulledFields:
    """Salesforce Task values in salesync terms; None status/priority means "not synced"."""

    subject: str | None
    #: None when the Salesforce status is neither Not Started nor Completed (TASK-3).
    status: ReminderStatus | None
    #: None when the Salesforce priority is Low or unknown (TASK-4).
    priority: ReminderPriority | None
    due_date: dt.date | None
    details: str | None


@dataclasses.dataclass(frozen=True)
class MappingError:
    """A Salesforce value that cannot be mapped; nothing of the record is applied."""

    field: str
    value: object
    reason: str


def subject_for(reminder: LocalReminder, template: str) -> str:
    """The Task subject of a reminder: the template with the name as activity subject."""
    values = {"activity_type": reminder.task_type, "activity_subject": reminder.name}
    return render_subject(template, values) or fit_subject(reminder.name) or reminder.task_type


def push_create_fields(
    reminder: LocalReminder,
    template: str,
    owner_id: str,
    who_id: str | None = None,
    what_id: str | None = None,
) -> Mapping[str, object]:
    """Fields for creating the Task of a new reminder.

    A Task always gets a Subject on create: the template is rendered with the reminder's
    name as ``{{activity_subject}}`` (TASK-11). TaskSubtype is ``Task``, chosen now because
    it cannot change later (API-FACTS §1); Type is never set on reminders (API-5).
    """
    fields: dict[str, object] = {
        "Subject": subject_for(reminder, template),
        "TaskSubtype": "Task",
        "OwnerId": ids.normalize(owner_id),
        "Status": SALESFORCE_STATUS[reminder.status],
        "Priority": SALESFORCE_PRIORITY[reminder.priority],
    }
    if reminder.due_date is not None:
        fields["ActivityDate"] = reminder.due_date.isoformat()
    if reminder.details:
        fields["Description"] = cut_description(reminder.details)
    if who_id is not None:
        fields["WhoId"] = ids.normalize(who_id)
    if what_id is not None:
        fields["WhatId"] = ids.normalize(what_id)
    return MappingProxyType(fields)


def push_update_fields(
    reminder: LocalReminder, changed: Collection[str], template: str
) -> Mapping[str, object]:
    """Fields for updating the Task after the reminder fields in ``changed`` were edited.

    A name change is sent only when the template uses ``{{activity_subject}}`` (TASK-5).
    A cleared due date or details is sent as null, which clears it in Salesforce.
    """
    unknown = set(changed) - set(SYNCED_FIELDS)
    if unknown:
        raise ValueError(f"not synced reminder fields: {sorted(unknown)}")
    values: dict[str, object] = {
        "Status": SALESFORCE_STATUS[reminder.status],
        "Priority": SALESFORCE_PRIORITY[reminder.priority],
        "ActivityDate": reminder.due_date.isoformat() if reminder.due_date else None,
        "Description": cut_description(reminder.details) if reminder.details else None,
    }
    if uses_activity_subject(template):
        values["Subject"] = subject_for(reminder, template)
    wanted = {SALESFORCE_FIELD[name] for name in changed}
    return MappingProxyType({key: value for key, value in values.items() if key in wanted})


def pull_fields(sf_task: Mapping[str, object]) -> PulledFields | MappingError:
    """Read the synced fields of a Salesforce Task; any bad value fails the whole record."""
    texts: dict[str, str | None] = {}
    for field in ("Subject", "Status", "Priority", "Description"):
        value = sf_task.get(field)
        if value is not None and not isinstance(value, str):
            return MappingError(field, value, f"{field} should be text")
        texts[field] = value
    try:
        due_date = parse_salesforce_date(sf_task.get("ActivityDate"))
    except ValueError:
        value = sf_task.get("ActivityDate")
        return MappingError("ActivityDate", value, "ActivityDate is not a date (YYYY-MM-DD)")
    return PulledFields(
        subject=texts["Subject"],
        status=_LOCAL_STATUS.get(texts["Status"] or ""),
        priority=_LOCAL_PRIORITY.get(texts["Priority"] or ""),
        due_date=due_date,
        details=texts["Description"] or None,
    )


def import_reminder(sf_task: Mapping[str, object]) -> LocalReminder | MappingError:
    """A new reminder from a Salesforce Task: the Subject becomes the name (TASK-5 applies
    only to later edits); an unsynced status arrives Open, an unsynced priority Normal."""
    pulled = pull_fields(sf_task)
    if isinstance(pulled, MappingError):
        return pulled
    return LocalReminder(
        name=(pulled.subject or "").strip(),
        status=pulled.status or ReminderStatus.OPEN,
        priority=pulled.priority or ReminderPriority.NORMAL,
        due_date=pulled.due_date,
        details=pulled.details,
    )


def apply_pull(local: LocalReminder, pulled: PulledFields) -> LocalReminder:
    """The reminder after taking Salesforce's values: the name never changes (TASK-5) and an
    unsynced status or priority leaves the local value as it is (TASK-3/4)."""
    return dataclasses.replace(
        local,
        status=pulled.status or local.status,
        priority=pulled.priority or local.priority,
        due_date=pulled.due_date,
        details=pulled.details,
    )


def is_importable(sf_task: Mapping[str, object], connected_user_id: str) -> bool:
    """Tell whether a Salesforce Task is a reminder salesync imports (DESIGN §3).

    Owned by the connected user, TaskSubtype ``Task`` or empty (never logged emails or
    calls), not a recurring series master, not deleted.
    """
    owner = sf_task.get("OwnerId")
    return (
        isinstance(owner, str)
        and ids.same_id(owner, connected_user_id)
        and sf_task.get("TaskSubtype") in ("Task", None)
        and sf_task.get("IsRecurrence") is not True
        and sf_task.get("IsDeleted") is not True
    )
