"""JSON API of reminder tasks, their Salesforce sync option and the Command Center task list."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from salesync.domain.activity_task import DESCRIPTION_MAX_LENGTH
from salesync.domain.command_center import DueFilter, date_range
from salesync.domain.reminder_mapping import ReminderPriority, ReminderStatus, ReminderType
from salesync.domain.settings import SettingOrigin, TaskSyncMode
from salesync.i18n import first_weekday
from salesync.services import task_sync, tasks
from salesync.store.tables import ReminderTask, TaskConflict
from salesync.web.api.people import read_upload
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep, check_api_csrf
from salesync.web.languages import language_for
from salesync.web.schemas import (
    BoundedInput,
    Id,
    IdPath,
    Line,
    Multiline,
    OffsetQuery,
    OptionalIdQuery,
)

router = APIRouter(prefix="/api/v1", tags=["tasks"], dependencies=[Depends(check_api_csrf)])

Priority = ReminderPriority
Status = ReminderStatus
TaskType = ReminderType
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _calendar_day(value: object) -> object:
    """Due dates are calendar days written ``YYYY-MM-DD``: no numbers, no times."""
    if isinstance(value, str) and _DAY.fullmatch(value):
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


DueDate = Annotated[dt.date, BeforeValidator(_calendar_day)]


_Input = BoundedInput


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TaskCreate(_Input):
    name: Annotated[Line, Field(max_length=tasks.NAME_MAX_LENGTH)]
    #: A person of the caller's team (TASK-10), or none.
    person_id: Id | None = None
    #: An active member of the caller's team; the caller when left out.
    assignee_id: Id | None = None
    due_date: DueDate | None = None
    priority: Priority = ReminderPriority.NORMAL
    details: Annotated[Multiline, Field(max_length=DESCRIPTION_MAX_LENGTH)] = ""
    status: Status = ReminderStatus.OPEN
    #: What the reminder is for (TASK-10); the subject template's {{activity_type}}.
    task_type: TaskType = ReminderType.CUSTOM


class TaskUpdate(_Input):
    """Only the fields sent change; ``null`` clears the due date or the person."""

    name: Annotated[Line, Field(max_length=tasks.NAME_MAX_LENGTH)] | None = None
    person_id: Id | None = None
    assignee_id: Id | None = None
    due_date: DueDate | None = None
    priority: Priority | None = None
    details: Annotated[Multiline, Field(max_length=DESCRIPTION_MAX_LENGTH)] | None = None
    status: Status | None = None
    task_type: TaskType | None = None


class TaskPublic(_Public):
    id: int
    name: str
    status: Status
    priority: Priority
    due_date: dt.date | None
    details: str
    task_type: TaskType
    person_id: int | None
    assignee_id: int
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None


class TaskImportPublic(BaseModel):
    """An imported file: how many tasks it created, and the tasks."""

    created: int
    items: list[TaskPublic]


class ConflictPublic(_Public):
    """A field edited on both sides: both values and who won (DESIGN §3)."""

    id: int
    task_id: IdPath
    field: str
    local_value: str | None
    remote_value: str | None
    winner: Literal["salesync", "salesforce"]
    reason: str
    decided_at: dt.datetime


class CommandCenterPublic(BaseModel):
    filter: DueFilter
    time_zone: str
    #: The due dates shown, both included, in the caller's time zone.
    first_day: dt.date
    last_day: dt.date
    items: list[TaskPublic]


class TaskSyncUpdate(_Input):
    mode: TaskSyncMode


class TeamTaskSyncUpdate(_Input):
    mode: TaskSyncMode
    #: True locks the option for every rep; false unlocks it; left out keeps the lock as is.
    locked: bool | None = None


class TaskSyncPublic(BaseModel):
    mode: TaskSyncMode
    origin: SettingOrigin
    connected: bool
    on: bool
    enabled_at: dt.datetime | None
    paused_at: dt.datetime | None
    polled_at: dt.datetime | None


def _public(task: ReminderTask) -> TaskPublic:
    return TaskPublic.model_validate(task)


# -- tasks -------------------------------------------------------------------------------------


@router.get("/tasks", response_model=list[TaskPublic])
def list_tasks(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    assignee_id: OptionalIdQuery = None,
    status: Status | None = None,
    due: DueFilter | None = None,
    limit: Annotated[int, Query(ge=1, le=tasks.MAX_PAGE_SIZE)] = tasks.DEFAULT_PAGE_SIZE,
    offset: OffsetQuery = 0,
) -> list[TaskPublic]:
    """The caller's tasks (an admin's: the team's), by due date."""
    week_start = first_weekday(language_for(request))
    query = tasks.TaskQuery(assignee_id, status, due, limit, offset, first_weekday=week_start)
    return [_public(task) for task in tasks.list_tasks(runtime, user, query)]


@router.post("/tasks", response_model=TaskPublic, status_code=201)
def create_task(runtime: RuntimeDep, user: CurrentUser, body: TaskCreate) -> TaskPublic:
    values = body.model_dump(exclude_unset=True)
    if values.get("assignee_id") is None:
        values.pop("assignee_id", None)
    return _public(tasks.create_task(runtime, user, values))


@router.post("/tasks/import", response_model=TaskImportPublic, status_code=201)
def import_tasks(
    runtime: RuntimeDep,
    user: CurrentUser,
    file: Annotated[
        UploadFile,
        File(description="CSV, UTF-8 with or without BOM, header row first (docs/task-sync.md)"),
    ],
) -> TaskImportPublic:
    """Create the caller's reminder tasks from a CSV file: every row or, when any row is
    wrong, none (422 listing every problem with its row and column)."""
    created = tasks.import_tasks_csv(runtime, user, read_upload(file, tasks.MAX_IMPORT_BYTES))
    return TaskImportPublic(created=len(created), items=[_public(task) for task in created])


@router.get("/tasks/{task_id}", response_model=TaskPublic)
def read_task(runtime: RuntimeDep, user: CurrentUser, task_id: IdPath) -> TaskPublic:
    return _public(tasks.get_task(runtime, user, task_id))


@router.patch("/tasks/{task_id}", response_model=TaskPublic)
def update_task(
    runtime: RuntimeDep, user: CurrentUser, task_id: IdPath, body: TaskUpdate
) -> TaskPublic:
    return _public(tasks.update_task(runtime, user, task_id, body.model_dump(exclude_unset=True)))


@router.post("/tasks/{task_id}/complete", response_model=TaskPublic)
def complete_task(runtime: RuntimeDep, user: CurrentUser, task_id: IdPath) -> TaskPublic:
    return _public(tasks.complete_task(runtime, user, task_id))


@router.post("/tasks/{task_id}/reopen", response_model=TaskPublic)
def reopen_task(runtime: RuntimeDep, user: CurrentUser, task_id: IdPath) -> TaskPublic:
    return _public(tasks.reopen_task(runtime, user, task_id))


@router.delete("/tasks/{task_id}", status_code=204)
def delete_task(runtime: RuntimeDep, user: CurrentUser, task_id: IdPath) -> Response:
    tasks.delete_task(runtime, user, task_id)
    return Response(status_code=204)


@router.get("/tasks/{task_id}/conflicts", response_model=list[ConflictPublic])
def task_conflicts(runtime: RuntimeDep, user: CurrentUser, task_id: IdPath) -> list[TaskConflict]:
    return tasks.task_conflicts(runtime, user, task_id)


@router.get("/task-conflicts", response_model=list[ConflictPublic])
def recent_conflicts(runtime: RuntimeDep, user: CurrentUser) -> list[TaskConflict]:
    """The latest conflicts of every task the caller may see, newest first."""
    return tasks.task_conflicts(runtime, user)


# -- Command Center ----------------------------------------------------------------------------


@router.get("/command-center/tasks", response_model=CommandCenterPublic)
def command_center(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    due_filter: Annotated[DueFilter, Query(alias="filter")] = DueFilter.TODAY_AND_TOMORROW,
) -> CommandCenterPublic:
    """The caller's open tasks due today / tomorrow / both / in the next 7 days / this week
    (starting on the reader's locale's first day), counted in the caller's time zone."""
    week_start = first_weekday(language_for(request))
    days = date_range(due_filter, user.time_zone, runtime.clock.now(), first_weekday=week_start)
    found = tasks.command_center(runtime, user, due_filter, first_weekday=week_start)
    items = [_public(task) for task in found]
    return CommandCenterPublic(
        filter=due_filter,
        time_zone=user.time_zone,
        first_day=days.first,
        last_day=days.last,
        items=items,
    )


# -- the sync option -----------------------------------------------------------------------


def _sync_public(status: task_sync.SyncStatus) -> TaskSyncPublic:
    return TaskSyncPublic(
        mode=status.mode,
        origin=status.origin,
        connected=status.connected,
        on=status.state.on,
        enabled_at=status.state.enabled_at,
        paused_at=status.state.paused_at,
        polled_at=status.state.polled_at,
    )


@router.get("/task-sync", response_model=TaskSyncPublic)
def read_task_sync(runtime: RuntimeDep, user: CurrentUser) -> TaskSyncPublic:
    """ "Sync Tasks/Reminders to Salesforce Tasks" for the caller, and where the sync stands."""
    return _sync_public(task_sync.status(runtime, user))


@router.put("/task-sync", response_model=TaskSyncPublic)
def save_task_sync(runtime: RuntimeDep, user: CurrentUser, body: TaskSyncUpdate) -> TaskSyncPublic:
    task_sync.set_mode(runtime, user, body.mode)
    return _sync_public(task_sync.status(runtime, user))


@router.put("/team/task-sync", response_model=TaskSyncPublic)
def save_team_task_sync(
    runtime: RuntimeDep, admin: AdminUser, body: TeamTaskSyncUpdate
) -> TaskSyncPublic:
    """Admin: the team default, optionally locked; applies to every rep at once."""
    task_sync.set_team_mode(runtime, admin, body.mode, locked=body.locked)
    return _sync_public(task_sync.status(runtime, admin))
