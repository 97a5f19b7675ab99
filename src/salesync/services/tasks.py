"""Reminder tasks: create, edit, complete, reopen, delete, list and the Command Center view.

Who may do what: a rep sees and changes their own tasks (assigned to them or created by them);
an admin sees and changes every task of the team. Tasks of another team, or of a teammate a rep
does not own, do not exist for the caller (``NotFound``). A task may be assigned to any active
member of the team and may point at any person of the team (TASK-10 "shared contacts"); anything
else is refused with ``InvalidInput`` naming the field.

When the assignee has two-way task sync on, every change is queued for Salesforce in the same
transaction as the change itself (DESIGN §2 outbox). Deleting keeps a tombstone, so the delete
reaches Salesforce and the task never comes back from there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from salesync.domain import spreadsheet
from salesync.domain.activity_task import DESCRIPTION_MAX_LENGTH
from salesync.domain.command_center import DueFilter, date_range
from salesync.domain.reminder_mapping import (
    SYNCED_FIELDS,
    ReminderPriority,
    ReminderStatus,
    ReminderType,
)
from salesync.domain.task_import import (
    TASK_IMPORT_FIELDS,
    ImportProblem,
    TaskImportRow,
    plan_task_import,
)
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, NotFound
from salesync.runtime import Runtime
from salesync.services import task_sync
from salesync.services.accounts import validate_email
from salesync.store import accounts as accounts_store
from salesync.store import outbox
from salesync.store import people as people_store
from salesync.store import tasks as store
from salesync.store.db import unit_of_work
from salesync.store.tables import ReminderTask, Role, TaskConflict, User

NAME_MAX_LENGTH = 255
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
#: Fields a create or an edit may set.
EDITABLE_FIELDS = (
    "name",
    "person_id",
    "assignee_id",
    "due_date",
    "priority",
    "details",
    "status",
    "task_type",
)


# -- validation (pure) ------------------------------------------------------------------------


def clean_name(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(tr("must be text"), field="name")
    name = " ".join(value.split())
    if not name:
        raise InvalidInput(tr("a task needs a name"), field="name")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise InvalidInput(tr("contains control characters"), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            tr("is longer than {name_max_length} characters", name_max_length=NAME_MAX_LENGTH),
            field="name",
        )
    return name


def clean_priority(value: object) -> ReminderPriority:
    """Normal or High (TASK-4); any spelling case is accepted."""
    for priority in ReminderPriority:
        if isinstance(value, str) and value.strip().lower() == priority.value.lower():
            return priority
    raise InvalidInput(
        tr("must be Normal or High, not {value}", value=repr(value)), field="priority"
    )


def clean_status(value: object) -> ReminderStatus:
    """Open or Complete (TASK-3); any spelling case is accepted."""
    for status in ReminderStatus:
        if isinstance(value, str) and value.strip().lower() == status.value.lower():
            return status
    raise InvalidInput(
        tr("must be Open or Complete, not {value}", value=repr(value)), field="status"
    )


def clean_task_type(value: object) -> str:
    """Email, Call, InMail or Custom (TASK-10); any spelling case is accepted."""
    for task_type in ReminderType:
        if isinstance(value, str) and value.strip().lower() == task_type.value.lower():
            return task_type.value
    raise InvalidInput(
        tr("must be Email, Call, InMail or Custom, not {value}", value=repr(value)),
        field="task_type",
    )


def clean_due_date(value: object) -> dt.date | None:
    """A calendar date (``YYYY-MM-DD``) or None; a datetime is refused, due dates are days."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise InvalidInput(tr("must be a date (YYYY-MM-DD), not a date and time"), field="due_date")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(
        tr("must be a date (YYYY-MM-DD), not {value}", value=repr(value)), field="due_date"
    )


def clean_details(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(tr("must be text"), field="details")
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            tr(
                "is longer than {description_max_length} characters",
                description_max_length=DESCRIPTION_MAX_LENGTH,
            ),
            field="details",
        )
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value):
        raise InvalidInput(tr("contains control characters"), field="details")
    return value


def _clean_id(field: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(tr("must be a positive id"), field=field)
    return value


_CLEANERS = {
    "name": clean_name,
    "priority": clean_priority,
    "status": clean_status,
    "due_date": clean_due_date,
    "details": clean_details,
    "task_type": clean_task_type,
}


def clean_changes(values: Mapping[str, object]) -> dict[str, Any]:
    """Validate the given fields; raises InvalidInput naming the first bad field."""
    cleaned: dict[str, Any] = {}
    for field, value in values.items():
        if field not in EDITABLE_FIELDS:
            raise InvalidInput(tr("is not a field of a task"), field=field)
        if field in ("person_id", "assignee_id"):
            cleaned[field] = _clean_id(field, value)
        else:
            cleaned[field] = _CLEANERS[field](value)
    if "assignee_id" in cleaned and cleaned["assignee_id"] is None:
        raise InvalidInput(tr("a task needs an assignee"), field="assignee_id")
    return cleaned


# -- access ---------------------------------------------------------------------------------------


def may_see(actor: User, task: ReminderTask) -> bool:
    """Admins see the team's tasks; reps the ones assigned to or created by them."""
    if task.team_id != actor.team_id:
        return False
    return actor.role is Role.ADMIN or actor.id in (task.assignee_id, task.created_by_id)


def _visible_task(session: Session, actor: User, task_id: int) -> ReminderTask:
    task = store.task_in_team(session, actor.team_id, task_id)
    if task is None or not may_see(actor, task):
        raise NotFound(tr("task {task_id} does not exist", task_id=task_id))
    return task


def _check_references(session: Session, actor: User, cleaned: Mapping[str, Any]) -> None:
    person_id = cleaned.get("person_id")
    if (
        person_id is not None
        and people_store.person_in_team(session, actor.team_id, person_id) is None
    ):
        raise InvalidInput(
            tr("person {person_id} is not one of your team's people", person_id=person_id),
            field="person_id",
        )
    assignee_id = cleaned.get("assignee_id")
    if assignee_id is not None:
        assignee = accounts_store.user_by_id(session, assignee_id)
        if assignee is None or assignee.team_id != actor.team_id or not assignee.is_active:
            raise InvalidInput(
                tr(
                    "user {assignee_id} is not an active member of your team",
                    assignee_id=assignee_id,
                ),
                field="assignee_id",
            )


# -- use cases ------------------------------------------------------------------------------------


def create_task(runtime: Runtime, actor: User, values: Mapping[str, object]) -> ReminderTask:
    """Create a task; assigned to the actor unless ``assignee_id`` says otherwise."""
    if "name" not in values:
        raise InvalidInput(tr("a task needs a name"), field="name")
    cleaned = clean_changes({"assignee_id": actor.id, **values})
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        _check_references(session, actor, cleaned)
        return _add_task(session, actor, cleaned, now)


def _add_task(
    session: Session, actor: User, cleaned: Mapping[str, Any], now: dt.datetime
) -> ReminderTask:
    status = cleaned.get("status", ReminderStatus.OPEN)
    task = ReminderTask(
        team_id=actor.team_id,
        assignee_id=cleaned["assignee_id"],
        created_by_id=actor.id,
        person_id=cleaned.get("person_id"),
        name=cleaned["name"],
        status=status,
        priority=cleaned.get("priority", ReminderPriority.NORMAL),
        due_date=cleaned.get("due_date"),
        details=cleaned.get("details", ""),
        task_type=cleaned.get("task_type", ReminderType.CUSTOM.value),
        field_edited_at={},
        created_at=now,
        updated_at=now,
        completed_at=now if status is ReminderStatus.COMPLETE else None,
    )
    store.add_task(session, task)
    _queue_push(session, task, now)
    return task


def update_task(
    runtime: Runtime, actor: User, task_id: int, changes: Mapping[str, object]
) -> ReminderTask:
    """Change the given fields; the others stay. Synced fields remember when they were edited
    here, which the per-field conflict rule compares with Salesforce's edit time."""
    cleaned = clean_changes(changes)
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        task = _visible_task(session, actor, task_id)
        _check_references(session, actor, cleaned)
        previous_assignee = task.assignee_id
        if apply_edit(task, cleaned, now) or task.assignee_id != previous_assignee:
            _queue_push(session, task, now)
        return task


def apply_edit(task: ReminderTask, cleaned: Mapping[str, Any], now: dt.datetime) -> bool:
    """Set the fields on ``task``; True when a synced field changed."""
    edited = dict(task.field_edited_at or {})
    synced_change = False
    for field, value in cleaned.items():
        if getattr(task, field) == value:
            continue
        setattr(task, field, value)
        if field in SYNCED_FIELDS:
            edited[field] = now.isoformat()
            synced_change = True
        if field == "status":
            task.completed_at = now if value is ReminderStatus.COMPLETE else None
    task.field_edited_at = edited
    task.updated_at = now
    return synced_change


def complete_task(runtime: Runtime, actor: User, task_id: int) -> ReminderTask:
    return update_task(runtime, actor, task_id, {"status": ReminderStatus.COMPLETE.value})


def reopen_task(runtime: Runtime, actor: User, task_id: int) -> ReminderTask:
    return update_task(runtime, actor, task_id, {"status": ReminderStatus.OPEN.value})


def delete_task(runtime: Runtime, actor: User, task_id: int) -> None:
    """Delete a task: it disappears everywhere and its Salesforce Task is deleted too."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        task = _visible_task(session, actor, task_id)
        task.deleted_at = now
        task.updated_at = now
        _queue_push(session, task, now)


def _queue_push(session: Session, task: ReminderTask, now: dt.datetime) -> None:
    """Queue the task for Salesforce when its assignee syncs (TASK-9); one waiting push per
    task is enough, since the push sends the task as it is when it runs."""
    if not task_sync.is_on(session, task.assignee_id) or store.has_pending_push(session, task.id):
        return
    outbox.enqueue(
        session,
        team_id=task.team_id,
        user_id=task.assignee_id,
        kind=store.PUSH_KIND,
        subject_type=store.SUBJECT_TYPE,
        subject_id=task.id,
        now=now,
    )


def get_task(runtime: Runtime, actor: User, task_id: int) -> ReminderTask:
    with unit_of_work(runtime.sessions) as session:
        return _visible_task(session, actor, task_id)


@dataclasses.dataclass(frozen=True)
class TaskQuery:
    #: Only tasks assigned to this user.
    assignee_id: int | None = None
    status: str | None = None
    due_filter: DueFilter | None = None
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0
    #: Where "this week" starts for the reader (0 Monday … 6 Sunday).
    first_weekday: int = 0


def list_tasks(runtime: Runtime, actor: User, query: TaskQuery) -> list[ReminderTask]:
    """The tasks the actor may see, by due date; ``due_filter`` is read in the actor's zone."""
    if not 1 <= query.limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            tr("must be between 1 and {max_page_size}", max_page_size=MAX_PAGE_SIZE), field="limit"
        )
    if query.offset < 0:
        raise InvalidInput(tr("must not be negative"), field="offset")
    status = clean_status(query.status) if query.status is not None else None
    due_from = due_to = None
    if query.due_filter is not None:
        days = date_range(
            query.due_filter,
            actor.time_zone,
            runtime.clock.now(),
            first_weekday=query.first_weekday,
        )
        due_from, due_to = days.first, days.last
    with unit_of_work(runtime.sessions) as session:
        return store.list_tasks(
            session,
            actor.team_id,
            visible_to=None if actor.role is Role.ADMIN else actor.id,
            assignee_id=query.assignee_id,
            status=status.value if status is not None else None,
            due_from=due_from,
            due_to=due_to,
            limit=query.limit,
            offset=query.offset,
        )


def command_center(
    runtime: Runtime,
    actor: User,
    due_filter: DueFilter = DueFilter.TODAY_AND_TOMORROW,
    *,
    first_weekday: int = 0,
) -> list[ReminderTask]:
    """The actor's own open tasks due in ``due_filter`` (default today and tomorrow) in the
    actor's time zone (TASK-7, TASK-14, CC-3); everything else still syncs in the background."""
    days = date_range(due_filter, actor.time_zone, runtime.clock.now(), first_weekday=first_weekday)
    with unit_of_work(runtime.sessions) as session:
        return store.list_tasks(
            session,
            actor.team_id,
            visible_to=None,
            assignee_id=actor.id,
            status=ReminderStatus.OPEN.value,
            due_from=days.first,
            due_to=days.last,
            limit=MAX_PAGE_SIZE,
        )


def task_conflicts(runtime: Runtime, actor: User, task_id: int | None = None) -> list[TaskConflict]:
    """Conflicts of one task, or the latest of every task the actor may see."""
    with unit_of_work(runtime.sessions) as session:
        if task_id is not None:
            return store.conflicts_of_tasks(session, [_visible_task(session, actor, task_id).id])
        visible_to = None if actor.role is Role.ADMIN else actor.id
        return store.recent_conflicts(session, actor.team_id, visible_to=visible_to, limit=200)


# -- CSV import -----------------------------------------------------------------------------------

#: Limits of one imported file (docs/task-sync.md "Importing tasks from CSV").
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 2_000


class InvalidTaskImport(InvalidInput):
    """The file was not imported; nothing was changed."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        first = problems[0]
        super().__init__(_describe(first), field=first.field)
        self.problems = tuple(problems)


def _describe(problem: ImportProblem) -> str:
    where = [f"row {problem.row}"] if problem.row is not None else []
    if problem.column is not None:
        where.append(f"column {problem.column!r}")
    return f"{', '.join(where)}: {problem.message}" if where else problem.message


def _clean_row(
    session: Session, actor: User, row: TaskImportRow
) -> tuple[dict[str, Any], list[ImportProblem]]:
    """A row's values checked like a task created through the API, and every problem."""
    cleaned: dict[str, Any] = {"assignee_id": actor.id}
    problems = []
    for field, value in row.values.items():
        column = row.columns[field]
        if field == "person_email":
            try:
                email = validate_email(value, field=field)
            except InvalidInput as exc:
                problems.append(ImportProblem(row.row, column, field, exc.message))
                continue
            person = people_store.person_by_email(session, actor.team_id, email)
            if person is None:
                message = f"no person of your team has the email {value!r}; add them first"
                problems.append(ImportProblem(row.row, column, field, message))
            else:
                cleaned["person_id"] = person.id
            continue
        try:
            cleaned.update(clean_changes({field: value}))
        except InvalidInput as exc:
            problems.append(ImportProblem(row.row, column, exc.field or field, exc.message))
    return cleaned, problems


def import_tasks_csv(runtime: Runtime, actor: User, content: bytes) -> list[ReminderTask]:
    """Create the actor's reminder tasks from a CSV file, all of them or none.

    A task has nothing a row could be matched on when the file is uploaded again, so a file
    with any bad row imports nothing (or fixing the file and uploading it again would create
    its good rows twice). Raises InvalidInput (field ``file``) when the file is unusable, and
    InvalidTaskImport with every problem of every row otherwise.
    """
    table = spreadsheet.read_csv(content, max_bytes=MAX_IMPORT_BYTES, max_rows=MAX_IMPORT_ROWS)
    plan = plan_task_import(table)
    if plan.problems and not plan.rows:
        raise InvalidTaskImport(plan.problems)
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        problems = list(plan.problems)
        rows = []
        for row in plan.rows:
            cleaned, row_problems = _clean_row(session, actor, row)
            problems += row_problems
            rows.append(cleaned)
        if problems:
            problems.sort(
                key=lambda p: (
                    p.row or 0,
                    TASK_IMPORT_FIELDS.index(p.field) if p.field in TASK_IMPORT_FIELDS else 0,
                )
            )
            raise InvalidTaskImport(problems)
        return [_add_task(session, actor, cleaned, now) for cleaned in rows]
