"""Activity timelines: the emails, calls and reminder tasks a viewer may see, newest first.

A rep sees their own activities (emails they sent, calls they logged, tasks assigned to them or
created by them); an admin sees the team's, or one member's. The People and Activity pages and
the Command Center's sent emails read through here; how each item looks is the pages' business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from salesync.domain.reminder_mapping import ReminderStatus
from salesync.errors import NotFound
from salesync.runtime import Runtime
from salesync.services import engagement_view, task_sync
from salesync.services.engagement_view import EngagementView
from salesync.store import diagnostics as diagnostic_store
from salesync.store import tasks as task_store
from salesync.store.tables import (
    Call,
    OutboxItem,
    OutboxStatus,
    Person,
    ReminderTask,
    Role,
    SalesforceConnection,
    SentEmail,
    User,
)

#: Items of each kind read for one timeline; the newest of them are shown.
TIMELINE_LIMIT = 60
KINDS = ("email", "call", "task")

Activity = SentEmail | Call | ReminderTask


@dataclass(frozen=True)
class TimelineScope:
    """Which activities one timeline reads."""

    team_id: int
    #: Only this user's activities (a rep always sees only their own).
    user_id: int | None = None
    person_id: int | None = None
    kinds: tuple[str, ...] = KINDS
    limit: int = TIMELINE_LIMIT


def scope_for(
    viewer: User,
    *,
    user_id: int | None = None,
    person_id: int | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> TimelineScope:
    """Reps see their own activities; admins the team's, or one member's with ``user_id``."""
    only = viewer.id if viewer.role is not Role.ADMIN else user_id
    return TimelineScope(viewer.team_id, only, person_id, kinds)


@dataclass(frozen=True)
class TaskLink:
    """The Salesforce Task a reminder task is linked to, with its address in the org."""

    sobject: str
    sf_id: str
    url: str


@dataclass(frozen=True)
class TaskSyncState:
    """Where a reminder task stands with Salesforce."""

    #: "logged", "pending", "failed", "local" (task sync off) or "before_sync".
    state: str
    links: tuple[TaskLink, ...]
    #: Why it failed: the open Diagnostics entries of the task.
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Timeline:
    """One timeline's activities, newest first, and what the page needs to show them.

    The rows are detached from the session: read them, never lazy-load from them.
    """

    rows: list[Activity]
    #: The people the activities are about, by id.
    people: dict[int, Person]
    #: The team's user names, by id.
    users: dict[int, str]
    task_states: dict[int, TaskSyncState]
    #: Opens, clicks and template of the emails shown (docs/engagement.md).
    engagement: dict[int, EngagementView]


def activity_time(row: Activity) -> datetime:
    """When an activity happened: sent, occurred, completed or (open tasks) created."""
    if isinstance(row, SentEmail):
        return row.sent_at
    if isinstance(row, Call):
        return row.occurred_at
    if row.status is ReminderStatus.COMPLETE and row.completed_at is not None:
        return row.completed_at
    return row.created_at


def read_timeline(runtime: Runtime, scope: TimelineScope) -> Timeline:
    """The scope's emails, calls and tasks, newest first (``scope.limit`` of them)."""
    with runtime.sessions() as session:
        emails = _emails(session, scope) if "email" in scope.kinds else []
        calls = _calls(session, scope) if "call" in scope.kinds else []
        tasks = _tasks(session, scope) if "task" in scope.kinds else []
        rows: list[Activity] = [*emails, *calls, *tasks]
        rows.sort(key=activity_time, reverse=True)
        shown = rows[: scope.limit]
        person_ids = {r.person_id for e in emails for r in e.recipients if r.person_id}
        person_ids |= {c.person_id for c in calls} | {t.person_id for t in tasks if t.person_id}
        people = _people(session, person_ids)
        team = session.scalars(select(User).where(User.team_id == scope.team_id))
        users = {u.id: u.name for u in team}
        shown_tasks = [row.id for row in shown if isinstance(row, ReminderTask)]
        states = _task_states(session, scope.team_id, shown_tasks)
        engaged = engagement_view.views_for(session, [e.id for e in emails if not e.is_reply])
        session.expunge_all()
    return Timeline(shown, people, users, states, engaged)


def task_sync_states(
    runtime: Runtime, team_id: int, task_ids: Sequence[int]
) -> dict[int, TaskSyncState]:
    """Where each reminder task stands with Salesforce: in Salesforce (with the link), waiting
    to sync, failed (with the reasons), or only in salesync (task sync off)."""
    with runtime.sessions() as session:
        return _task_states(session, team_id, list(task_ids))


def visible_task_state(runtime: Runtime, viewer: User, task_id: int) -> TaskSyncState:
    """The sync state of a task the viewer may see; NotFound otherwise."""
    scope = scope_for(viewer)
    with runtime.sessions() as session:
        if not _task_visible(session, scope, task_id):
            raise NotFound(f"task {task_id} does not exist")
        return _task_states(session, scope.team_id, [task_id])[task_id]


def visible_activity(
    runtime: Runtime, viewer: User, local_type: str, item_id: int
) -> SentEmail | Call:
    """An email or call the viewer may see (detached); NotFound otherwise."""
    scope = scope_for(viewer)
    with runtime.sessions() as session:
        row: SentEmail | Call | None = None
        owner: int | None = None
        if local_type == "email":
            row = session.get(SentEmail, item_id)
            owner = row.sender_id if row is not None else None
        elif local_type == "call":
            row = session.get(Call, item_id)
            owner = row.user_id if row is not None else None
        if row is None or row.team_id != scope.team_id or scope.user_id not in (None, owner):
            raise NotFound(f"{local_type} {item_id} does not exist")
        session.expunge(row)
    return row


# -- queries ------------------------------------------------------------------------------------


def _emails(session: Session, scope: TimelineScope) -> list[SentEmail]:
    query: Select[SentEmail] = select(SentEmail).where(SentEmail.team_id == scope.team_id)
    if scope.user_id is not None:
        query = query.where(SentEmail.sender_id == scope.user_id)
    if scope.person_id is not None:
        query = query.where(SentEmail.recipients.any(person_id=scope.person_id))
    query = query.options(selectinload(SentEmail.recipients))
    order = (SentEmail.sent_at.desc(), SentEmail.id.desc())
    return list(session.scalars(query.order_by(*order).limit(scope.limit)))


def _calls(session: Session, scope: TimelineScope) -> list[Call]:
    query: Select[Call] = select(Call).where(Call.team_id == scope.team_id)
    if scope.user_id is not None:
        query = query.where(Call.user_id == scope.user_id)
    if scope.person_id is not None:
        query = query.where(Call.person_id == scope.person_id)
    order = (Call.occurred_at.desc(), Call.id.desc())
    return list(session.scalars(query.order_by(*order).limit(scope.limit)))


def _tasks(session: Session, scope: TimelineScope) -> list[ReminderTask]:
    query: Select[ReminderTask] = select(ReminderTask).where(
        ReminderTask.team_id == scope.team_id, ReminderTask.deleted_at.is_(None)
    )
    if scope.user_id is not None:
        # The tasks a rep may see: assigned to them or created by them (services.tasks.may_see).
        mine = (ReminderTask.assignee_id == scope.user_id) | (
            ReminderTask.created_by_id == scope.user_id
        )
        query = query.where(mine)
    if scope.person_id is not None:
        query = query.where(ReminderTask.person_id == scope.person_id)
    order = (ReminderTask.updated_at.desc(), ReminderTask.id.desc())
    return list(session.scalars(query.order_by(*order).limit(scope.limit)))


def _people(session: Session, person_ids: set[int]) -> dict[int, Person]:
    if not person_ids:
        return {}
    rows = session.scalars(select(Person).where(Person.id.in_(sorted(person_ids))))
    return {row.id: row for row in rows}


def _instance_urls(session: Session, team_id: int) -> dict[str, str]:
    rows = session.scalars(
        select(SalesforceConnection).where(SalesforceConnection.team_id == team_id)
    )
    return {row.org_id: row.instance_url.rstrip("/") for row in rows}


def _waiting_task_statuses(session: Session, task_ids: list[int]) -> dict[int, set[OutboxStatus]]:
    """Statuses of each task's outbox rows not done yet."""
    rows = session.scalars(
        select(OutboxItem).where(
            OutboxItem.subject_type == task_store.SUBJECT_TYPE,
            OutboxItem.subject_id.in_(task_ids),
            OutboxItem.status != OutboxStatus.DONE,
        )
    )
    statuses: dict[int, set[OutboxStatus]] = {}
    for item in rows:
        statuses.setdefault(item.subject_id, set()).add(item.status)
    return statuses


def _open_reasons(session: Session, item_type: str, item_id: int) -> tuple[str, ...]:
    entries = diagnostic_store.entries_for_item(session, item_type, item_id)
    # shown_message: our own words come back translatable, Salesforce's as they are.
    return tuple(
        diagnostic_store.shown_message(entry) for entry in entries if entry.resolved_at is None
    )


def _task_states(session: Session, team_id: int, task_ids: list[int]) -> dict[int, TaskSyncState]:
    links = task_store.links_for_tasks(session, task_ids)
    statuses = _waiting_task_statuses(session, task_ids)
    instances = _instance_urls(session, team_id)
    before_sync = _created_before_sync(session, task_ids)
    states = {}
    for task_id in task_ids:
        link = links.get(task_id)
        found: tuple[TaskLink, ...] = ()
        if link is not None and link.deleted_at is None:
            url = f"{instances.get(link.org_id, '')}/{link.sf_id}"
            found = (TaskLink(link.sobject, link.sf_id, url),)
        state = _task_state(statuses.get(task_id, set()), bool(found))
        if state == "local" and task_id in before_sync:
            state = "before_sync"
        states[task_id] = TaskSyncState(
            state, found, _open_reasons(session, task_store.SUBJECT_TYPE, task_id)
        )
    return states


def _created_before_sync(session: Session, task_ids: list[int]) -> set[int]:
    """Tasks made before their assignee turned two-way sync on: they never go to Salesforce
    (DESIGN §3), which their badge must say rather than "sync is off"."""
    tasks = list(session.scalars(select(ReminderTask).where(ReminderTask.id.in_(task_ids))))
    states = task_sync.states_of(session, sorted({t.assignee_id for t in tasks}))
    found = set()
    for task in tasks:
        state = states.get(task.assignee_id)
        if state is not None and state.on and state.enabled_at is not None:
            if task.created_at < state.enabled_at:
                found.add(task.id)
    return found


def _task_state(statuses: set[OutboxStatus], linked: bool) -> str:
    if OutboxStatus.FAILED in statuses:
        return "failed"
    if statuses:
        return "pending"
    return "logged" if linked else "local"


def _task_visible(session: Session, scope: TimelineScope, task_id: int) -> bool:
    query = select(ReminderTask.id).where(
        ReminderTask.id == task_id,
        ReminderTask.team_id == scope.team_id,
        ReminderTask.deleted_at.is_(None),
    )
    if scope.user_id is not None:
        query = query.where(
            or_(
                ReminderTask.assignee_id == scope.user_id,
                ReminderTask.created_by_id == scope.user_id,
            )
        )
    return session.scalar(query) is not None
