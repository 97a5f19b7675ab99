"""Per-field merge of a reminder edited in salesync and in Salesforce, with echo suppression."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from salesync.domain.dates import parse_salesforce_date, parse_salesforce_datetime, require_aware
from salesync.domain.reminder_mapping import (
    SALESFORCE_FIELD,
    SYNCED_FIELDS,
    LocalReminder,
    MappingError,
    PulledFields,
    pull_fields,
)


class FieldAction(enum.StrEnum):
    """What happens to one synced field."""

    PUSH = "push"
    PULL = "pull"
    NONE = "none"


class Side(enum.StrEnum):
    """Who won a conflict."""

    SALESYNC = "salesync"
    SALESFORCE = "salesforce"


@dataclasses.dataclass(frozen=True)
class FieldOutcome:
    field: str
    action: FieldAction


@dataclasses.dataclass(frozen=True)
class Conflict:
    """Both sides changed one field to different values; recorded and shown (DESIGN §3)."""

    field: str
    local_value: object
    remote_value: object
    winner: Side
    reason: str


@dataclasses.dataclass(frozen=True)
class MergeDecision:
    """Per-field outcome of one merge, the conflicts, and the reminder to keep locally."""

    outcomes: tuple[FieldOutcome, ...]
    conflicts: tuple[Conflict, ...]
    #: The incoming version was our own write (or automation that changed no synced field).
    is_echo: bool
    merged: LocalReminder

    def fields_with(self, action: FieldAction) -> tuple[str, ...]:
        """The reminder fields with ``action``, in ``SYNCED_FIELDS`` order."""
        return tuple(outcome.field for outcome in self.outcomes if outcome.action is action)


def fingerprint(sf_values: Mapping[str, object]) -> str:
    """A hash of the synced Task fields (Subject, Status, Priority, ActivityDate,
    Description) as Salesforce holds them; other fields and SystemModstamp don't count.

    Store it after every write or read; an incoming version with the same fingerprint is
    an echo (API-FACTS "Pitfalls": loop and echo suppression).
    """
    canonical = [[name, _canonical(name, sf_values.get(name))] for name in _SF_FIELDS]
    encoded = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def is_echo(sf_task: Mapping[str, object], last_fingerprint: str | None) -> bool:
    """Tell whether an incoming Task version changes no synced field we last wrote or read."""
    return last_fingerprint is not None and fingerprint(sf_task) == last_fingerprint


def decide_merge(
    base: LocalReminder,
    local: LocalReminder,
    local_edited_at: Mapping[str, dt.datetime],
    remote: Mapping[str, object],
    last_fingerprint: str | None,
) -> MergeDecision | MappingError:
    """Merge one reminder field by field (DESIGN §3).

    ``base`` is the reminder as last synced; ``local_edited_at`` holds when each field was
    last edited in salesync (a missing time counts as older than any Salesforce edit);
    ``remote`` is the Salesforce Task with LastModifiedDate. When both sides changed a
    field, the later edit wins and ties go to Salesforce. The name is never pulled (TASK-5).
    """
    echo = is_echo(remote, last_fingerprint)
    pulled = _unchanged_remote(base) if echo else pull_fields(remote)
    if isinstance(pulled, MappingError):
        return pulled
    remote_edited_at = _remote_edit_time(remote)
    if isinstance(remote_edited_at, MappingError):
        return remote_edited_at
    remote_values = _remote_values(base, pulled)
    outcomes: list[FieldOutcome] = []
    conflicts: list[Conflict] = []
    merged: dict[str, Any] = {}  # values come from LocalReminder fields of the same name
    for name in SYNCED_FIELDS:
        local_value, remote_value = getattr(local, name), remote_values[name]
        local_changed = local_value != getattr(base, name)
        remote_changed = remote_value != getattr(base, name)
        action = _action(local_changed, remote_changed, local_value == remote_value)
        if local_changed and remote_changed and local_value != remote_value:
            local_time = local_edited_at.get(name)
            conflict = _conflict(name, local_value, remote_value, local_time, remote_edited_at)
            conflicts.append(conflict)
            action = FieldAction.PUSH if conflict.winner is Side.SALESYNC else FieldAction.PULL
        outcomes.append(FieldOutcome(name, action))
        merged[name] = remote_value if action is FieldAction.PULL else local_value
    return MergeDecision(
        tuple(outcomes), tuple(conflicts), echo, dataclasses.replace(local, **merged)
    )


_SF_FIELDS = tuple(SALESFORCE_FIELD[name] for name in SYNCED_FIELDS)


def _canonical(name: str, value: object) -> object:
    if value == "":
        return None
    if name == "ActivityDate":
        try:
            parsed = parse_salesforce_date(value)
        except ValueError:
            return repr(value)
        return parsed.isoformat() if parsed else None
    return value if value is None or isinstance(value, str | int | float | bool) else repr(value)


def _unchanged_remote(base: LocalReminder) -> PulledFields:
    return PulledFields(base.name, base.status, base.priority, base.due_date, base.details)


def _remote_values(base: LocalReminder, pulled: PulledFields) -> dict[str, object]:
    """Remote values in reminder terms; what does not sync counts as unchanged."""
    return {
        "name": base.name,  # TASK-5: Salesforce subject edits are never pulled
        "status": pulled.status or base.status,  # TASK-3
        "priority": pulled.priority or base.priority,  # TASK-4
        "due_date": pulled.due_date,
        "details": pulled.details,
    }


def _remote_edit_time(remote: Mapping[str, object]) -> dt.datetime | MappingError:
    value = remote.get("LastModifiedDate")
    try:
        return parse_salesforce_datetime(value)
    except ValueError:
        return MappingError("LastModifiedDate", value, "LastModifiedDate is not a datetime")


def _action(local_changed: bool, remote_changed: bool, same_value: bool) -> FieldAction:
    if local_changed and not (remote_changed and same_value):
        return FieldAction.PUSH
    if remote_changed and not local_changed:
        return FieldAction.PULL
    return FieldAction.NONE


def _conflict(
    name: str,
    local_value: object,
    remote_value: object,
    local_time: dt.datetime | None,
    remote_time: dt.datetime,
) -> Conflict:
    remote_at = remote_time.isoformat()
    if local_time is None:
        reason = "no salesync edit time is known, so Salesforce wins"
        return Conflict(name, local_value, remote_value, Side.SALESFORCE, reason)
    local_at = require_aware(local_time).isoformat()
    if local_time > remote_time:
        reason = f"edited in salesync at {local_at}, after Salesforce at {remote_at}"
        return Conflict(name, local_value, remote_value, Side.SALESYNC, reason)
    if local_time == remote_time:
        reason = f"both edited at {remote_at}; ties go to Salesforce"
    else:
        reason = f"edited in Salesforce at {remote_at}, after salesync at {local_at}"
    return Conflict(name, local_value, remote_value, Side.SALESFORCE, reason)
