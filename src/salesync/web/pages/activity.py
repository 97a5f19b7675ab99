"""People and Activity pages: each person's timeline and the rep's (or team's) timeline of
emails, calls and reminder tasks, each with where it stands in Salesforce."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput, NotFound
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.services import engagement_view, people, people_lookup, task_sync
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
    TaskStatus,
    User,
)
from salesync.web import team_accounts
from salesync.web.api.activities import ActivityState, LinkPublic, activity_state
from salesync.web.api.salesforce import connection_public
from salesync.web.deps import CurrentUser, RuntimeDep, SessionDep
from salesync.web.schemas import MAX_ID, IdPath
from salesync.web.templating import render

router = APIRouter()

#: Items of each kind read for one timeline; the newest of them are shown.
TIMELINE_LIMIT = 60
KINDS = ("email", "call", "task")
#: The person's Salesforce ids, in the order the page shows them.
PERSON_ID_FIELDS = (
    ("Lead", "sf_lead_id"),
    ("Contact", "sf_contact_id"),
    ("Account", "sf_account_id"),
    ("Opportunity", "sf_opportunity_id"),
)


@dataclass(frozen=True)
class TimelineScope:
    """Which activities one timeline reads."""

    team_id: int
    #: Only this user's activities (a rep always sees only their own).
    user_id: int | None = None
    person_id: int | None = None
    kinds: tuple[str, ...] = KINDS
    limit: int = TIMELINE_LIMIT


@dataclass(frozen=True)
class PersonRef:
    id: int
    name: str


@dataclass(frozen=True)
class TimelineItem:
    """One email, reply, call or task, as the timelines show it."""

    #: "email", "reply", "call" or "task".
    kind: str
    item_id: int
    at: datetime
    title: str
    details: tuple[str, ...]
    people: tuple[PersonRef, ...]
    user_name: str
    state: ActivityState
    #: Opens, clicks and template of an email (docs/engagement.md).
    engagement: EngagementView | None = None

    @property
    def local_type(self) -> str:
        return "email" if self.kind == "reply" else self.kind

    @property
    def anchor(self) -> str:
        return f"{self.local_type}-{self.item_id}"


def display_name(person: Person) -> str:
    return " ".join(p for p in (person.first_name, person.last_name) if p) or (
        person.email or f"person {person.id}"
    )


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


# -- reading the timeline ---------------------------------------------------------------------


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


def _people_named(session: Session, person_ids: set[int]) -> dict[int, PersonRef]:
    if not person_ids:
        return {}
    rows = session.scalars(select(Person).where(Person.id.in_(sorted(person_ids))))
    return {row.id: PersonRef(row.id, display_name(row)) for row in rows}


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


def _open_reasons(session: Session, item_type: str, item_id: int) -> list[str]:
    entries = diagnostic_store.entries_for_item(session, item_type, item_id)
    return [entry.message for entry in entries if entry.resolved_at is None]


def task_states(session: Session, team_id: int, task_ids: list[int]) -> dict[int, ActivityState]:
    """Where each reminder task stands with Salesforce: in Salesforce (with the link), waiting
    to sync, failed (with the reasons), or only in salesync (task sync off)."""
    links = task_store.links_for_tasks(session, task_ids)
    statuses = _waiting_task_statuses(session, task_ids)
    instances = _instance_urls(session, team_id)
    before_sync = _created_before_sync(session, task_ids)
    states = {}
    for task_id in task_ids:
        link = links.get(task_id)
        public = []
        if link is not None and link.deleted_at is None:
            url = f"{instances.get(link.org_id, '')}/{link.sf_id}"
            public.append(LinkPublic(sobject=link.sobject, sf_id=link.sf_id, url=url))
        state = _task_state(statuses.get(task_id, set()), bool(public))
        if state == "local" and task_id in before_sync:
            state = "before_sync"
        states[task_id] = ActivityState(
            state=state,
            links=public,
            reasons=_open_reasons(session, task_store.SUBJECT_TYPE, task_id),
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


def email_state(runtime: Runtime, email: SentEmail) -> ActivityState:
    if email.status == "failed":
        # The mail server refused it: never sent, so never logged (CC-1 "Failed").
        return ActivityState(state="send_failed", links=[], reasons=[email.error or ""])
    return activity_state(runtime, "email", email.id)


def _email_item(
    runtime: Runtime, email: SentEmail, names: dict[int, PersonRef], users: dict[int, str]
) -> TimelineItem:
    if email.is_reply:
        details: tuple[str, ...] = (f"From {email.from_address}",)
    else:
        to = ", ".join(r.address for r in email.recipients if r.kind.value == "to")
        cc = ", ".join(r.address for r in email.recipients if r.kind.value == "cc")
        details = (f"To {to}", f"Cc {cc}") if cc else (f"To {to}",)
    if email.status == "bounced":
        details = (*details, email.error or "Bounced")  # from the mailbox's DSN
    people_of = {r.person_id for r in email.recipients if r.person_id is not None}
    return TimelineItem(
        "reply" if email.is_reply else "email",
        email.id,
        email.sent_at,
        email.subject or "(no subject)",
        details,
        tuple(names[p] for p in sorted(people_of) if p in names),
        users.get(email.sender_id, ""),
        email_state(runtime, email),
    )


def _call_item(
    runtime: Runtime, call: Call, names: dict[int, PersonRef], users: dict[int, str]
) -> TimelineItem:
    minutes, seconds = divmod(call.duration_seconds, 60)
    details = [f"{minutes} min {seconds:02d} s"]
    details += [
        f"{label}: {value}"
        for label, value in (("Outcome", call.outcome), ("Reason", call.reason))
        if value
    ]
    if call.notes:
        details.append(call.notes)
    person = names.get(call.person_id)
    title = f"Call with {person.name}" if person else "Call"
    return TimelineItem(
        "call",
        call.id,
        call.occurred_at,
        title,
        tuple(details),
        (person,) if person else (),
        users.get(call.user_id, ""),
        activity_state(runtime, "call", call.id),
    )


def _task_item(
    task: ReminderTask,
    names: dict[int, PersonRef],
    users: dict[int, str],
    state: ActivityState,
) -> TimelineItem:
    done = task.status is TaskStatus.COMPLETE
    details = [
        "Completed" if done else "Open",
        f"Due {task.due_date.isoformat()}" if task.due_date else "No due date",
        f"{task.priority.value} priority",
    ]
    if task.details:
        details.append(task.details)
    person = names.get(task.person_id or 0)
    return TimelineItem(
        "task",
        task.id,
        _task_time(task),
        task.name,
        tuple(details),
        (person,) if person else (),
        users.get(task.assignee_id, ""),
        state,
    )


def _task_time(task: ReminderTask) -> datetime:
    if task.status is TaskStatus.COMPLETE and task.completed_at is not None:
        return task.completed_at
    return task.created_at


def timeline(runtime: Runtime, scope: TimelineScope) -> list[TimelineItem]:
    """The scope's emails, calls and tasks, newest first (``scope.limit`` of them)."""
    with runtime.sessions() as session:
        emails = _emails(session, scope) if "email" in scope.kinds else []
        calls = _calls(session, scope) if "call" in scope.kinds else []
        tasks = _tasks(session, scope) if "task" in scope.kinds else []
        rows: list[tuple[datetime, SentEmail | Call | ReminderTask]] = [
            *((e.sent_at, e) for e in emails),
            *((c.occurred_at, c) for c in calls),
            *((_task_time(t), t) for t in tasks),
        ]
        rows.sort(key=lambda row: row[0], reverse=True)
        shown = [row for _, row in rows[: scope.limit]]
        person_ids = {r.person_id for e in emails for r in e.recipients if r.person_id}
        person_ids |= {c.person_id for c in calls} | {t.person_id for t in tasks if t.person_id}
        names = _people_named(session, person_ids)
        team = session.scalars(select(User).where(User.team_id == scope.team_id))
        users = {u.id: u.name for u in team}
        shown_tasks = [row.id for row in shown if isinstance(row, ReminderTask)]
        states = task_states(session, scope.team_id, shown_tasks)
        engaged = engagement_view.views_for(session, [e.id for e in emails if not e.is_reply])
        session.expunge_all()
    items = [_item(runtime, row, names, users, states) for row in shown]
    return [
        dataclasses.replace(item, engagement=engaged[item.item_id])
        if item.kind == "email" and item.item_id in engaged
        else item
        for item in items
    ]


def _item(
    runtime: Runtime,
    row: SentEmail | Call | ReminderTask,
    names: dict[int, PersonRef],
    users: dict[int, str],
    task_states_by_id: dict[int, ActivityState],
) -> TimelineItem:
    if isinstance(row, SentEmail):
        return _email_item(runtime, row, names, users)
    if isinstance(row, Call):
        return _call_item(runtime, row, names, users)
    return _task_item(row, names, users, task_states_by_id[row.id])


# -- pages --------------------------------------------------------------------------------------


def salesforce_ids(person: Person, instance_url: str | None) -> list[tuple[str, str, str | None]]:
    """(label, id, link to the record in the viewer's org or None) of the person's ids."""
    found = [(label, getattr(person, field)) for label, field in PERSON_ID_FIELDS]
    base = instance_url.rstrip("/") if instance_url else None
    return [(label, sf_id, f"{base}/{sf_id}" if base else None) for label, sf_id in found if sf_id]


@router.get("/people/{person_id:int}")
def person_timeline(
    request: Request, runtime: RuntimeDep, user: CurrentUser, person_id: IdPath
) -> Response:
    person = people.get_person(runtime, user, person_id)
    connection = connection_public(runtime, user)
    context = {
        "section": "people",
        "person": person,
        "name": display_name(person),
        "sf_ids": salesforce_ids(person, connection.instance_url),
        "connected": connection.instance_url is not None,
        "items": timeline(runtime, scope_for(user, person_id=person.id)),
        "may_delete": people.may_delete(user, person),
    }
    return render(request, "person_detail.html", context)


@router.post("/people/{person_id:int}/find-in-salesforce")
def find_person_in_salesforce(
    runtime: RuntimeDep, user: CurrentUser, browser: SessionDep, person_id: IdPath
) -> Response:
    """MATCH-11: fill the person's Salesforce ids from the rep's org by email."""
    try:
        outcome = people_lookup.find_in_salesforce(runtime, user, person_id)
    except (Conflict, InvalidInput, SalesforceError) as exc:
        browser.flash(tr("Could not look this person up in Salesforce: {reason}", reason=exc))
    else:
        if outcome.filled:
            browser.flash(
                "Found in Salesforce: "
                + ", ".join(
                    f"{field.removeprefix('sf_').removesuffix('_id')} {value}"
                    for field, value in outcome.filled.items()
                )
                + "."
            )
        else:
            browser.flash(tr("No Lead or Contact in Salesforce has this email address."))
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.get("/activity")
def activity_page(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    kind: Annotated[str, Query(pattern="^(all|email|call|task)$")] = "all",
    user_id: Annotated[int | None, Query(alias="user", ge=1, le=MAX_ID)] = None,
) -> Response:
    members = team_accounts.team_users(runtime, user) if user.role is Role.ADMIN else []
    if user_id is not None and user_id not in {m.id for m in members}:
        raise NotFound(tr("user {user_id} is not in your team", user_id=user_id))
    kinds = KINDS if kind == "all" else (kind,)
    context = {
        "section": "activity",
        "items": timeline(runtime, scope_for(user, user_id=user_id, kinds=kinds)),
        "kind": kind,
        "members": members,
        "chosen_user": user_id,
    }
    return render(request, "activity.html", context)


def visible_state(runtime: Runtime, user: User, local_type: str, item_id: int) -> ActivityState:
    """The state of one activity the user may see; NotFound otherwise."""
    scope = scope_for(user)
    with runtime.sessions() as session:
        if local_type == "task":
            if not _task_visible(session, scope, item_id):
                raise NotFound(tr("task {item_id} does not exist", item_id=item_id))
            return task_states(session, scope.team_id, [item_id])[item_id]
        row: SentEmail | Call | None = None
        if local_type == "email":
            row = session.get(SentEmail, item_id)
            owner = row.sender_id if row is not None else None
        elif local_type == "call":
            row = session.get(Call, item_id)
            owner = row.user_id if row is not None else None
        if row is None or row.team_id != scope.team_id or scope.user_id not in (None, owner):
            raise NotFound(
                tr("{local_type} {item_id} does not exist", local_type=local_type, item_id=item_id)
            )
        session.expunge(row)
    return (
        email_state(runtime, row)
        if isinstance(row, SentEmail)
        else activity_state(runtime, "call", item_id)
    )


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


@router.get("/activity/state/{local_type}/{item_id:int}")
def state_fragment(
    request: Request, runtime: RuntimeDep, user: CurrentUser, local_type: str, item_id: int
) -> Response:
    """The Salesforce state badge of one activity, for the pages' live refresh (work.js)."""
    state = visible_state(runtime, user, local_type, item_id)
    context = {"state": state, "local_type": local_type, "item_id": item_id}
    return render(request, "activity_state_fragment.html", context)
