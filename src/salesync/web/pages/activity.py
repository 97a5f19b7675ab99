"""People and Activity pages: each person's timeline and the rep's (or team's) timeline of
emails, calls and reminder tasks, each with where it stands in Salesforce."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.reminder_mapping import ReminderPriority, ReminderStatus
from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput, NotFound
from salesync.i18n import translate
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.services import people, people_lookup
from salesync.services import timeline as timeline_service
from salesync.services.engagement_view import EngagementView
from salesync.services.timeline import KINDS, TimelineScope, scope_for
from salesync.store.tables import (
    Call,
    Person,
    ReminderTask,
    Role,
    SentEmail,
    User,
)
from salesync.web import team_accounts
from salesync.web.api.activities import ActivityState, LinkPublic, activity_state
from salesync.web.api.salesforce import connection_public
from salesync.web.deps import CurrentUser, RuntimeDep, SessionDep
from salesync.web.schemas import MAX_ID, IdPath
from salesync.web.templating import render

router = APIRouter()

#: The person's Salesforce ids, in the order the page shows them.
PERSON_ID_FIELDS = (
    (tr("Lead"), "sf_lead_id"),
    (tr("Contact"), "sf_contact_id"),
    (tr("Account"), "sf_account_id"),
    (tr("Opportunity"), "sf_opportunity_id"),
)


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


def activity_state_of(state: timeline_service.TaskSyncState) -> ActivityState:
    """A task's sync state as the pages' badge (and the JSON API) shows it."""
    links = [LinkPublic(sobject=k.sobject, sf_id=k.sf_id, url=k.url) for k in state.links]
    reasons = [translate(reason) for reason in state.reasons]  # the model keeps plain text
    return ActivityState(state=state.state, links=links, reasons=reasons)


def task_states(runtime: Runtime, team_id: int, task_ids: list[int]) -> dict[int, ActivityState]:
    """The badge of each reminder task (see ``services.timeline.task_sync_states``)."""
    found = timeline_service.task_sync_states(runtime, team_id, task_ids)
    return {task_id: activity_state_of(state) for task_id, state in found.items()}


def email_state(runtime: Runtime, email: SentEmail) -> ActivityState:
    if email.status == "failed":
        # The mail server refused it: never sent, so never logged (CC-1 "Failed").
        return ActivityState(state="send_failed", links=[], reasons=[email.error or ""])
    return activity_state(runtime, "email", email.id)


def _email_item(
    runtime: Runtime, email: SentEmail, names: dict[int, PersonRef], users: dict[int, str]
) -> TimelineItem:
    if email.is_reply:
        details: tuple[str, ...] = (tr("From {address}", address=email.from_address),)
    else:
        to = ", ".join(r.address for r in email.recipients if r.kind.value == "to")
        cc = ", ".join(r.address for r in email.recipients if r.kind.value == "cc")
        sent_to = tr("To {addresses}", addresses=to)
        details = (sent_to, tr("Cc {addresses}", addresses=cc)) if cc else (sent_to,)
    if email.status == "bounced":
        details = (*details, email.error or tr("Bounced"))  # from the mailbox's DSN
    people_of = {r.person_id for r in email.recipients if r.person_id is not None}
    return TimelineItem(
        "reply" if email.is_reply else "email",
        email.id,
        email.sent_at,
        email.subject or tr("(no subject)"),
        details,
        tuple(names[p] for p in sorted(people_of) if p in names),
        users.get(email.sender_id, ""),
        email_state(runtime, email),
    )


def _call_item(
    runtime: Runtime, call: Call, names: dict[int, PersonRef], users: dict[int, str]
) -> TimelineItem:
    minutes, seconds = divmod(call.duration_seconds, 60)
    padded = f"{seconds:02d}"
    details: list[str] = [tr("{minutes} min {seconds} s", minutes=minutes, seconds=padded)]
    if call.outcome:
        details.append(tr("Outcome: {value}", value=call.outcome))
    if call.reason:
        details.append(tr("Reason: {value}", value=call.reason))
    if call.notes:
        details.append(call.notes)
    person = names.get(call.person_id)
    title = tr("Call with {name}", name=person.name) if person else tr("Call")
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
    done = task.status is ReminderStatus.COMPLETE
    details: list[str] = [
        tr("Completed") if done else tr("Open"),
        tr("Due {date}", date=task.due_date.isoformat()) if task.due_date else tr("No due date"),
        tr("High priority") if task.priority is ReminderPriority.HIGH else tr("Normal priority"),
    ]
    if task.details:
        details.append(task.details)
    person = names.get(task.person_id or 0)
    return TimelineItem(
        "task",
        task.id,
        timeline_service.activity_time(task),
        task.name,
        tuple(details),
        (person,) if person else (),
        users.get(task.assignee_id, ""),
        state,
    )


def timeline(runtime: Runtime, scope: TimelineScope) -> list[TimelineItem]:
    """The scope's emails, calls and tasks, newest first, as the timelines show them."""
    found = timeline_service.read_timeline(runtime, scope)
    names = {pid: PersonRef(pid, display_name(person)) for pid, person in found.people.items()}
    states = {tid: activity_state_of(state) for tid, state in found.task_states.items()}
    items = [_item(runtime, row, names, found.users, states) for row in found.rows]
    return [
        dataclasses.replace(item, engagement=found.engagement[item.item_id])
        if item.kind == "email" and item.item_id in found.engagement
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
    if local_type == "task":
        return activity_state_of(timeline_service.visible_task_state(runtime, user, item_id))
    row = timeline_service.visible_activity(runtime, user, local_type, item_id)
    return (
        email_state(runtime, row)
        if isinstance(row, SentEmail)
        else activity_state(runtime, "call", item_id)
    )


@router.get("/activity/state/{local_type}/{item_id:int}")
def state_fragment(
    request: Request, runtime: RuntimeDep, user: CurrentUser, local_type: str, item_id: int
) -> Response:
    """The Salesforce state badge of one activity, for the pages' live refresh (work.js)."""
    state = visible_state(runtime, user, local_type, item_id)
    context = {"state": state, "local_type": local_type, "item_id": item_id}
    return render(request, "activity_state_fragment.html", context)
