"""Apply Salesforce Task versions to reminder tasks: import, merge per field, delete.

Used by the poll (every change of synced reps), the first import and the catch-up after a
pause, and by the push right before it writes (so a Salesforce edit made since the last poll
is merged, and recorded as a conflict, instead of being overwritten). Everything happens in
the caller's transaction; a version that cannot be mapped changes nothing and is reported on
Diagnostics (never half-applied).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.domain import reminder_mapping as mapping
from salesync.domain.conflicts import Conflict, FieldAction, MergeDecision, decide_merge
from salesync.domain.dates import parse_salesforce_datetime
from salesync.domain.sync_windows import DEFAULT_OVERLAP, in_first_import_window
from salesync.domain.wording import tr
from salesync.store import diagnostics, outbox
from salesync.store import tasks as store
from salesync.store.tables import Person, ReminderTask, SalesforceLink
from salesync.sync import task_records as records
from salesync.sync.task_records import Snapshot

#: Diagnostics code of a Salesforce Task whose values salesync cannot read.
UNMAPPABLE_CODE = "TASK_NOT_MAPPABLE"
#: Name given to an imported Task without a subject.
NO_SUBJECT = "(no subject)"


class Outcome(enum.StrEnum):
    IMPORTED = "imported"
    MERGED = "merged"
    ECHO = "echo"
    DELETED = "deleted"
    RESTORED = "restored"
    ALREADY_SEEN = "already_seen"
    IGNORED = "ignored"
    DEFERRED = "deferred"
    UNMAPPABLE = "unmappable"


@dataclasses.dataclass(frozen=True)
class Owner:
    """A salesync rep whose Salesforce Tasks sync."""

    user_id: int
    sf_user_id: str


@dataclasses.dataclass
class ApplyContext:
    session: Session
    now: dt.datetime
    team_id: int
    org_id: str
    #: Synced reps by their 18-character Salesforce user id.
    owners: Mapping[str, Owner]
    #: First import at this instant: only Tasks created or modified in the 24 hours before
    #: it are imported (TASK-7); None: any change is.
    first_import_at: dt.datetime | None = None
    #: Reps with a push in doubt (being sent, or its last attempt got no answer), and since
    #: when: their Tasks created since then may be ours and not linked yet. Importing them
    #: would duplicate them, so they wait; the cursor stays before them.
    defer_new_of: Mapping[int, dt.datetime] = dataclasses.field(default_factory=dict)
    #: The poll queues a push when the merge keeps a salesync value; the push itself does not.
    queue_pushes: bool = True
    #: Re-merge versions already seen (the push's read-before-write).
    reread: bool = False


@dataclasses.dataclass
class ApplyReport:
    outcomes: dict[str, Outcome] = dataclasses.field(default_factory=dict)
    #: The merge of each linked task (by task id) that was merged.
    decisions: dict[int, MergeDecision] = dataclasses.field(default_factory=dict)
    conflicts: list[Conflict] = dataclasses.field(default_factory=list)
    #: Newest SystemModstamp among the versions read.
    newest_modstamp: dt.datetime | None = None
    #: Oldest SystemModstamp of a version left for the next poll; the cursor stays before it.
    earliest_deferred: dt.datetime | None = None

    def count(self, outcome: Outcome) -> int:
        return sum(1 for value in self.outcomes.values() if value is outcome)


def apply_versions(context: ApplyContext, versions: Iterable[Mapping[str, Any]]) -> ApplyReport:
    """Apply Task versions (queryAll rows); duplicates of one Id keep the newest."""
    latest = _newest_per_id(versions)
    report = ApplyReport()
    links = store.links_by_sf_ids(context.session, context.org_id, list(latest))
    tasks = store.tasks_by_ids(context.session, [link.local_id for link in links.values()])
    for sf_id, (stamp, record) in latest.items():
        if report.newest_modstamp is None or stamp > report.newest_modstamp:
            report.newest_modstamp = stamp
        link = links.get(sf_id)
        task = tasks.get(link.local_id) if link is not None else None
        if link is not None and task is not None:
            outcome = _apply_linked(context, report, link, task, record, stamp)
        else:
            outcome = _maybe_import(context, record, sf_id)
        if outcome is Outcome.DEFERRED and (
            report.earliest_deferred is None or stamp < report.earliest_deferred
        ):
            report.earliest_deferred = stamp
        report.outcomes[sf_id] = outcome
    return report


def _newest_per_id(
    versions: Iterable[Mapping[str, Any]],
) -> dict[str, tuple[dt.datetime, Mapping[str, Any]]]:
    """Overlapping polls read a version twice: keep one per Id, the newest."""
    latest: dict[str, tuple[dt.datetime, Mapping[str, Any]]] = {}
    for record in versions:
        sf_id = records.normalized_id(record.get("Id"))
        if sf_id is None:
            continue
        try:
            stamp = parse_salesforce_datetime(record.get("SystemModstamp"))
        except ValueError:
            continue  # a system field; Salesforce always sets it
        if sf_id not in latest or stamp > latest[sf_id][0]:
            latest[sf_id] = (stamp, record)
    return latest


# -- linked tasks ----------------------------------------------------------------------------


def _apply_linked(
    context: ApplyContext,
    report: ApplyReport,
    link: SalesforceLink,
    task: ReminderTask,
    record: Mapping[str, Any],
    stamp: dt.datetime,
) -> Outcome:
    seen = link.sf_system_modstamp
    if not context.reread and seen is not None and stamp <= seen:
        return Outcome.ALREADY_SEEN
    if link.deleted_at is not None or task.deleted_at is not None:
        if record.get("IsDeleted") is not True and _deleted_by_salesforce(context, link):
            _restore(context, link, task)  # undeleted there (Recycle Bin): back here too
            _merge(context, report, link, task, record)
            return Outcome.RESTORED
        # Deleted here: the push deletes it there; nothing from Salesforce brings it back.
        if record.get("IsDeleted") is True:
            link.deleted_at = link.deleted_at or context.now
        return Outcome.IGNORED
    if record.get("IsDeleted") is True:
        return _delete_locally(context, link, task)
    return _merge(context, report, link, task, record)


def _delete_locally(context: ApplyContext, link: SalesforceLink, task: ReminderTask) -> Outcome:
    """Deleted in Salesforce: deleted here too, for good (TASK-8/9)."""
    task.deleted_at = context.now
    task.updated_at = context.now
    link.deleted_at = context.now
    # Remembered so that an undelete in Salesforce brings the task back (never one the rep
    # deleted here).
    store.put_state(
        context.session,
        _link_scope(link),
        _SF_DELETED,
        {"at": context.now.isoformat()},
        now=context.now,
    )
    diagnostics.resolve_item(context.session, store.SUBJECT_TYPE, task.id, now=context.now)
    return Outcome.DELETED


_SF_DELETED = "deleted_in_salesforce"


def _link_scope(link: SalesforceLink) -> str:
    return f"link:{link.id}"


def _deleted_by_salesforce(context: ApplyContext, link: SalesforceLink) -> bool:
    return store.state(context.session, _link_scope(link), _SF_DELETED) is not None


def _restore(context: ApplyContext, link: SalesforceLink, task: ReminderTask) -> None:
    task.deleted_at = None
    task.updated_at = context.now
    link.deleted_at = None
    store.delete_state(context.session, _link_scope(link), _SF_DELETED)


def _merge(
    context: ApplyContext,
    report: ApplyReport,
    link: SalesforceLink,
    task: ReminderTask,
    record: Mapping[str, Any],
) -> Outcome:
    snapshot = records.load_snapshot(context.session, task)
    local = records.to_local(task)
    decision = decide_merge(snapshot.base, local, records.edited_at(task), record, link.fingerprint)
    if isinstance(decision, mapping.MappingError):
        _report_unmappable(context, task.assignee_id, task.id, record, decision)
        return Outcome.UNMAPPABLE
    records.set_fields(task, decision.merged, decision.fields_with(FieldAction.PULL), context.now)
    for conflict in decision.conflicts:
        _record_conflict(context, task, conflict)
    report.conflicts.extend(decision.conflicts)
    report.decisions[task.id] = decision
    base = snapshot.base if decision.is_echo else _remote_base(snapshot, record)
    owner = records.normalized_id(record.get("OwnerId"))
    remote = records.salesforce_values(record)
    records.save_snapshot(
        context.session, link, Snapshot(base, remote, owner), now=context.now, record=record
    )
    if context.queue_pushes and decision.fields_with(FieldAction.PUSH):
        _queue_push(context, task)
    return Outcome.ECHO if decision.is_echo else Outcome.MERGED


def _remote_base(snapshot: Snapshot, record: Mapping[str, Any]) -> mapping.LocalReminder:
    """The new base: what Salesforce holds now, so a field salesync keeps is pushed once and
    a conflict is never recorded twice."""
    pulled = mapping.pull_fields(record)
    assert not isinstance(pulled, mapping.MappingError)  # decide_merge read it already
    return records.remote_in_local_terms(snapshot.base, pulled)


def _record_conflict(context: ApplyContext, task: ReminderTask, conflict: Conflict) -> None:
    store.add_conflict(
        context.session,
        task_id=task.id,
        field=conflict.field,
        local_value=_text(conflict.local_value),
        remote_value=_text(conflict.remote_value),
        winner=conflict.winner.value,
        reason=conflict.reason,
        now=context.now,
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _queue_push(context: ApplyContext, task: ReminderTask) -> None:
    if store.has_pending_push(context.session, task.id):
        return
    outbox.enqueue(
        context.session,
        team_id=task.team_id,
        user_id=task.assignee_id,
        kind=store.PUSH_KIND,
        subject_type=store.SUBJECT_TYPE,
        subject_id=task.id,
        now=context.now,
    )


# -- new Salesforce Tasks ------------------------------------------------------------------


def _maybe_import(context: ApplyContext, record: Mapping[str, Any], sf_id: str) -> Outcome:
    owner = context.owners.get(records.normalized_id(record.get("OwnerId")) or "")
    if owner is None or not mapping.is_importable(record, owner.sf_user_id):
        return Outcome.IGNORED  # not a synced rep's reminder (logged emails and calls never are)
    try:
        created = parse_salesforce_datetime(record.get("CreatedDate"))
        modified = parse_salesforce_datetime(record.get("LastModifiedDate"))
    except ValueError:
        error = mapping.MappingError("LastModifiedDate", record.get("LastModifiedDate"), _BAD_TIME)
        _report_unmappable(context, owner.user_id, None, record, error)
        return Outcome.UNMAPPABLE
    first = context.first_import_at
    if first is not None and not in_first_import_window(created, modified, first):
        return Outcome.IGNORED
    doubt_since = context.defer_new_of.get(owner.user_id)
    if doubt_since is not None and created >= doubt_since - DEFAULT_OVERLAP:
        return Outcome.DEFERRED
    imported = mapping.import_reminder(record)
    if isinstance(imported, mapping.MappingError):
        _report_unmappable(context, owner.user_id, None, record, imported)
        return Outcome.UNMAPPABLE
    _import(context, owner, record, sf_id, imported)
    return Outcome.IMPORTED


_BAD_TIME = "CreatedDate or LastModifiedDate is not a datetime"


def _import(
    context: ApplyContext,
    owner: Owner,
    record: Mapping[str, Any],
    sf_id: str,
    reminder: mapping.LocalReminder,
) -> None:
    name = (reminder.name or NO_SUBJECT)[:255]
    reminder = dataclasses.replace(reminder, name=name)
    task = ReminderTask(
        team_id=context.team_id,
        assignee_id=owner.user_id,
        created_by_id=None,
        person_id=_person_for(context, record.get("WhoId")),
        name=name,
        status=reminder.status,
        priority=reminder.priority,
        due_date=reminder.due_date,
        details=reminder.details or "",
        field_edited_at={},
        created_at=context.now,
        updated_at=context.now,
        completed_at=context.now if reminder.status is mapping.ReminderStatus.COMPLETE else None,
    )
    store.add_task(context.session, task)
    link = store.add_link(
        context.session, task_id=task.id, org_id=context.org_id, sf_id=sf_id, now=context.now
    )
    snapshot = Snapshot(reminder, records.salesforce_values(record), owner.sf_user_id)
    records.save_snapshot(context.session, link, snapshot, now=context.now, record=record)


def _person_for(context: ApplyContext, who_id: object) -> int | None:
    """The team's person whose Contact or Lead the Task is about, if salesync knows them."""
    who = records.normalized_id(who_id)
    if who is None:
        return None
    column = Person.sf_contact_id if who.startswith("003") else Person.sf_lead_id
    found = context.session.scalar(
        select(Person.id).where(Person.team_id == context.team_id, column == who).limit(1)
    )
    return int(found) if found is not None else None


def _report_unmappable(
    context: ApplyContext,
    user_id: int,
    task_id: int | None,
    record: Mapping[str, Any],
    error: mapping.MappingError,
) -> None:
    sf_id = str(record.get("Id"))
    diagnostics.record(
        context.session,
        team_id=context.team_id,
        user_id=user_id,
        item_type="salesforce_task",
        item_id=task_id,
        code=UNMAPPABLE_CODE,
        category="other",
        message=(
            tr(
                "The Salesforce Task {sf_id} was not synced: {reason} (found {value}). Nothing of "
                "it was applied; fix the value in Salesforce.",
                sf_id=sf_id,
                reason=error.reason,
                value=repr(error.value),
            )
        ),
        now=context.now,
        detail={"sf_id": sf_id, "field": error.field, "value": repr(error.value)},
    )
