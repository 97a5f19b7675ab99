"""The Command Center: the rep's reminder tasks due today and tomorrow (and the other filters),
worked in place; composing an email, logging a call; and the rep's sent emails with their
Salesforce logging state."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from salesync.domain.command_center import DueFilter, date_range
from salesync.domain.reminder_mapping import ReminderPriority, ReminderStatus, ReminderType
from salesync.domain.task_import import ImportProblem
from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.i18n import first_weekday
from salesync.mail.smtp import Mailer
from salesync.runtime import Runtime
from salesync.services import activities, engagement, people, task_sync, tasks
from salesync.services.mail_accounts import mailer_for
from salesync.services.timeline import TimelineScope
from salesync.store import activities as activity_store
from salesync.store import tasks as task_store
from salesync.store.tables import OutboxItem, OutboxStatus, ReminderTask, User
from salesync.web.api.activities import ActivityState
from salesync.web.api.people import read_upload
from salesync.web.deps import CurrentUser, RuntimeDep, SessionDep
from salesync.web.languages import language_for
from salesync.web.pages.activity import PersonRef, display_name, task_states, timeline
from salesync.web.pages.recipients import parse_recipients
from salesync.web.schemas import MAX_ID, IdPath
from salesync.web.templating import render

router = APIRouter(prefix="/command-center")

FILTER_LABELS = {
    DueFilter.TODAY: tr("Today"),
    DueFilter.TOMORROW: tr("Tomorrow"),
    DueFilter.TODAY_AND_TOMORROW: tr("Today and tomorrow"),
    DueFilter.NEXT_7_DAYS: tr("Next 7 days"),
    DueFilter.THIS_WEEK: tr("This week"),
}
#: People offered in the pickers; more than this and the rep types the address instead.
PICKER_LIMIT = 200
SENT_EMAILS_SHOWN = 15
FilterDep = Annotated[DueFilter, Query(alias="filter")]


@dataclass(frozen=True)
class FormProblem:
    """A refused form: which form, which field, and why; shown inside that form."""

    form: str
    message: str
    field: str | None = None
    values: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Every problem, when there can be many (an imported file's rows).
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskRow:
    task: ReminderTask
    person: PersonRef | None
    #: Due on the rep's today (the page shows when with the ``due_day`` filter).
    due_today: bool
    state: ActivityState


# -- reading ----------------------------------------------------------------------------------


def _task_rows(runtime: Runtime, user: User, found: list[ReminderTask]) -> list[TaskRow]:
    today = date_range(DueFilter.TODAY, user.time_zone, runtime.clock.now()).first
    person_ids = sorted({t.person_id for t in found if t.person_id is not None})
    with runtime.sessions() as session:
        named = activity_store.people_by_id(session, person_ids)
    states = task_states(runtime, user.team_id, [t.id for t in found])
    refs = {pid: PersonRef(pid, display_name(person)) for pid, person in named.items()}
    return [
        TaskRow(t, refs.get(t.person_id or 0), t.due_date == today, states[t.id]) for t in found
    ]


def _first_import_running(runtime: Runtime, user: User) -> bool:
    """The first task import (or a catch-up after a pause) is queued or running (TASK-6/7)."""
    with runtime.sessions() as session:
        waiting = session.scalar(
            select(OutboxItem.id).where(
                OutboxItem.user_id == user.id,
                OutboxItem.kind == task_store.ENABLE_KIND,
                OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT]),
            )
        )
    return waiting is not None


def _choices(runtime: Runtime, user: User) -> dict[str, list[str]]:
    with runtime.sessions() as session:
        return {
            kind: activity_store.call_choices(session, user.team_id, kind)
            for kind in ("outcome", "reason")
        }


def _local_now(runtime: Runtime, user: User) -> dt.datetime:
    return runtime.clock.now().astimezone(ZoneInfo(user.time_zone))


def _page_context(
    runtime: Runtime, user: User, due_filter: DueFilter, week_start: int
) -> dict[str, Any]:
    now = _local_now(runtime, user)
    days = date_range(due_filter, user.time_zone, now, first_weekday=week_start)
    done_query = tasks.TaskQuery(
        user.id, ReminderStatus.COMPLETE.value, due_filter, limit=100, first_weekday=week_start
    )
    emails = TimelineScope(user.team_id, user.id, kinds=("email",), limit=SENT_EMAILS_SHOWN)
    picker = people.list_people(runtime, user, people.PeopleQuery(limit=PICKER_LIMIT))
    return {
        "section": "command-center",
        "due_filter": due_filter,
        "filter_labels": FILTER_LABELS,
        "days": days,
        "open_tasks": _task_rows(
            runtime,
            user,
            tasks.command_center(runtime, user, due_filter, first_weekday=week_start),
        ),
        "done_tasks": _task_rows(runtime, user, tasks.list_tasks(runtime, user, done_query)),
        "sync": task_sync.status(runtime, user),
        "importing": _first_import_running(runtime, user),
        "sent": timeline(runtime, emails),
        "people_options": [(p.id, display_name(p), p.email) for p in picker.items],
        "call_choices": _choices(runtime, user),
        "today": now.date(),
        "now_local": now.strftime("%Y-%m-%dT%H:%M"),
        **_tracking_options(runtime, user),
    }


def _tracking_options(runtime: Runtime, user: User) -> dict[str, bool]:
    options = engagement.get_options(runtime, user)
    return {
        "tracking_enabled": options.tracking_enabled,
        "track_by_default": options.track_by_default,
    }


def _page(
    request: Request,
    runtime: Runtime,
    user: User,
    due_filter: DueFilter,
    *,
    problem: FormProblem | None = None,
    prefill: dict[str, str] | None = None,
) -> Response:
    week_start = first_weekday(language_for(request))
    context = _page_context(runtime, user, due_filter, week_start)
    context["problem"] = problem
    context["values"] = prefill or {}
    return render(request, "command_center.html", context, status_code=422 if problem else 200)


@router.get("")
def command_center(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    due_filter: FilterDep = DueFilter.TODAY_AND_TOMORROW,
    to: Annotated[str, Query(max_length=320)] = "",
    person: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """``to`` and ``person`` prefill the email and the call/task forms (links on a person)."""
    prefill = {"email_to": to} if to else {}
    if person is not None:
        prefill |= {"call_person_id": str(person), "task_person_id": str(person)}
    return _page(request, runtime, user, due_filter, prefill=prefill)


def _back(due_filter: DueFilter | str, anchor: str = "") -> RedirectResponse:
    value = due_filter if due_filter in set(DueFilter) else DueFilter.TODAY_AND_TOMORROW
    return RedirectResponse(f"/command-center?filter={value}{anchor}", status_code=303)


# -- tasks ------------------------------------------------------------------------------------

_TASK_FIELDS = ("name", "person_id", "due_date", "priority", "details", "task_type")


def _task_values(form: dict[str, str]) -> dict[str, object]:
    """The task fields of a form, as services.tasks expects them ("" clears a field)."""
    values: dict[str, object] = {
        "name": form.get("name", ""),
        "priority": form.get("priority") or ReminderPriority.NORMAL.value,
        "task_type": form.get("task_type") or ReminderType.CUSTOM.value,
        "details": form.get("details", ""),
        "due_date": form.get("due_date") or None,
    }
    person = form.get("person_id", "")
    values["person_id"] = int(person) if person.isdigit() else None
    return values


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


@router.post("/tasks")
async def create_task(
    request: Request, runtime: RuntimeDep, user: CurrentUser, browser: SessionDep
) -> Response:
    form = await _form(request)
    due_filter = form.get("filter", "")
    try:
        task = tasks.create_task(runtime, user, _task_values(form))
    except InvalidInput as exc:
        problem = FormProblem("task", exc.message, exc.field, form)
        return _page(request, runtime, user, _filter_of(due_filter), problem=problem)
    browser.flash(tr("Added the task “{name}”.", name=task.name))
    return _back(due_filter, "#tasks")


def _import_problem(exc: InvalidInput) -> FormProblem:
    if isinstance(exc, tasks.InvalidTaskImport):
        lines = tuple(_import_line(p) for p in exc.problems)
        return FormProblem(
            "task-import", tr("Nothing was imported; fix the file:"), "file", details=lines
        )
    return FormProblem("task-import", tr("File: {problem}", problem=exc.message), "file")


def _import_line(problem: ImportProblem) -> str:
    message = problem.message
    if problem.row is None:
        if problem.column is None:
            return tr("File: {problem}", problem=message)
        return tr("File, column “{column}”: {problem}", column=problem.column, problem=message)
    if problem.column is None:
        return tr("Row {row}: {problem}", row=problem.row, problem=message)
    return tr(
        "Row {row}, column “{column}”: {problem}",
        row=problem.row,
        column=problem.column,
        problem=message,
    )


@router.post("/tasks/import")
def import_tasks(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    due_filter: Annotated[str, Form(alias="filter", max_length=32)] = "",
) -> Response:
    """The Command Center's CSV import of reminder tasks: all rows or none."""
    try:
        content = read_upload(file, tasks.MAX_IMPORT_BYTES) if file is not None else b""
        created = tasks.import_tasks_csv(runtime, user, content)
    except InvalidInput as exc:
        return _page(request, runtime, user, _filter_of(due_filter), problem=_import_problem(exc))
    browser.flash(f"Imported {len(created)} task(s).")
    return _back(due_filter, "#tasks")


def _filter_of(value: str) -> DueFilter:
    return DueFilter(value) if value in set(DueFilter) else DueFilter.TODAY_AND_TOMORROW


@router.post("/tasks/{task_id}/edit")
async def edit_task(
    request: Request, runtime: RuntimeDep, user: CurrentUser, browser: SessionDep, task_id: IdPath
) -> Response:
    form = await _form(request)
    try:
        task = tasks.update_task(runtime, user, task_id, _task_values(form))
    except InvalidInput as exc:
        problem = FormProblem(f"edit-{task_id}", exc.message, exc.field, form)
        return _page(request, runtime, user, _filter_of(form.get("filter", "")), problem=problem)
    browser.flash(tr("Saved the task “{name}”.", name=task.name))
    return _back(form.get("filter", ""), "#tasks")


@router.post("/tasks/{task_id}/complete")
def complete_task(
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    task_id: IdPath,
    due_filter: Annotated[str, Form(alias="filter")] = "",
) -> Response:
    task = tasks.complete_task(runtime, user, task_id)
    browser.flash(tr("Completed “{name}”.", name=task.name))
    return _back(due_filter, "#tasks")


@router.post("/tasks/{task_id}/reopen")
def reopen_task(
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    task_id: IdPath,
    due_filter: Annotated[str, Form(alias="filter")] = "",
) -> Response:
    task = tasks.reopen_task(runtime, user, task_id)
    browser.flash(tr("Reopened “{name}”.", name=task.name))
    return _back(due_filter, "#tasks")


@router.post("/tasks/{task_id}/delete")
def delete_task(
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    task_id: IdPath,
    due_filter: Annotated[str, Form(alias="filter")] = "",
) -> Response:
    name = tasks.get_task(runtime, user, task_id).name
    tasks.delete_task(runtime, user, task_id)
    browser.flash(tr("Deleted “{name}”.", name=name))
    return _back(due_filter, "#tasks")


# -- email and calls --------------------------------------------------------------------------


def _mailer(request: Request, runtime: Runtime, user: User) -> Mailer:
    factory = getattr(request.app.state, "mailer_factory", mailer_for)
    return cast(Mailer, factory(runtime, user))


@router.post("/emails")
async def send_email(
    request: Request, runtime: RuntimeDep, user: CurrentUser, browser: SessionDep
) -> Response:
    form = await _form(request)
    draft = activities.EmailDraft(
        to=(),
        subject=form.get("subject", ""),
        body_text=form.get("body", ""),
        # The box is shown only when the team allows tracking; unticked means untracked.
        track=form.get("track") == "1" if "track_shown" in form else None,
    )
    due_filter = _filter_of(form.get("filter", ""))
    try:
        draft = dataclasses.replace(
            draft,
            to=parse_recipients(runtime, user, form.get("to", ""), "to"),
            cc=parse_recipients(runtime, user, form.get("cc", ""), "cc"),
        )
        activities.send_email(runtime, user, draft, _mailer(request, runtime, user))
    except InvalidInput as exc:
        problem = FormProblem("email", exc.message, exc.field, form)
        return _page(request, runtime, user, due_filter, problem=problem)
    except activities.SendFailed as exc:
        browser.flash(exc.message)
        return _back(due_filter, "#sent-emails")
    browser.flash(
        tr("Sent “{subject}”. Its Salesforce state shows under Sent emails.", subject=draft.subject)
    )
    return _back(due_filter, "#sent-emails")


def _call_time(text: str, user: User) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(tr("give the date and time of the call"), field="occurred_at") from None
    return moment.replace(tzinfo=ZoneInfo(user.time_zone)) if moment.tzinfo is None else moment


def _call_draft(form: dict[str, str], user: User) -> activities.CallDraft:
    person = form.get("person_id", "")
    if not person.isdigit():
        raise InvalidInput(tr("choose who you called"), field="person_id")
    minutes, seconds = form.get("minutes", "0") or "0", form.get("seconds", "0") or "0"
    if not (minutes.isdigit() and seconds.isdigit()):
        raise InvalidInput(tr("the duration is whole minutes and seconds"), field="minutes")
    return activities.CallDraft(
        person_id=int(person),
        occurred_at=_call_time(form.get("occurred_at", ""), user),
        duration_seconds=int(minutes) * 60 + int(seconds),
        outcome=form.get("outcome") or None,
        reason=form.get("reason") or None,
        notes=form.get("notes", ""),
    )


@router.post("/calls")
async def log_call(
    request: Request, runtime: RuntimeDep, user: CurrentUser, browser: SessionDep
) -> Response:
    form = await _form(request)
    due_filter = _filter_of(form.get("filter", ""))
    try:
        activities.log_call(runtime, user, _call_draft(form, user))
    except InvalidInput as exc:
        problem = FormProblem("call", exc.message, exc.field, form)
        return _page(request, runtime, user, due_filter, problem=problem)
    browser.flash(tr("Call logged. Its Salesforce state shows on the person's timeline."))
    return _back(due_filter, "#log-call")
