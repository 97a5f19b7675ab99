"""Reminder tasks from a CSV file (TASK-10: types come from the API, the Command Center or CSV).

The file's columns are recognised by name, in any case and spacing ("Due date", "due_date",
"DUE-DATE"); every other column is refused, so a misspelt "Due Dtae" cannot silently import
tasks without their due dates. This module only reads the file's shape: which column holds
which field and which row lacks a subject. The values themselves are checked like a task
created through the API (``services.tasks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from salesync.domain.spreadsheet import CsvTable, cell, column_key
from salesync.domain.wording import tr

#: The fields a row may set, in the order the docs list their columns.
TASK_IMPORT_FIELDS = ("person_email", "name", "due_date", "priority", "task_type", "details")
#: Column names (compared by ``column_key``) -> the field they fill.
TASK_IMPORT_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "email": "person_email",
        "personemail": "person_email",
        "contactemail": "person_email",
        "subject": "name",
        "name": "name",
        "task": "name",
        "duedate": "due_date",
        "due": "due_date",
        "priority": "priority",
        "type": "task_type",
        "tasktype": "task_type",
        "notes": "details",
        "details": "details",
        "description": "details",
    }
)
#: The column names the docs and the error messages offer.
SHOWN_COLUMNS = ("Email", "Subject", "Due date", "Priority", "Type", "Notes")


@dataclass(frozen=True)
class ImportProblem:
    """Why the file (``row`` None) or one of its rows cannot be imported."""

    row: int | None
    column: str | None
    field: str
    message: str


@dataclass(frozen=True)
class TaskImportRow:
    """One row to import: its number and its non-empty cells by field."""

    row: int
    values: dict[str, str]
    #: The column each field came from, for the error messages.
    columns: dict[str, str]


@dataclass(frozen=True)
class TaskImportPlan:
    rows: list[TaskImportRow]
    problems: list[ImportProblem]


def _columns(header: list[str]) -> tuple[dict[str, int], list[ImportProblem]]:
    positions: dict[str, int] = {}
    problems = []
    for position, name in enumerate(header):
        if not name:
            continue
        field = TASK_IMPORT_COLUMNS.get(column_key(name))
        if field is None:
            known = ", ".join(SHOWN_COLUMNS)
            message = tr(
                "the column “{name}” is not one salesync reads; the columns are {known}",
                name=name,
                known=known,
            )
            problems.append(ImportProblem(None, name, "file", message))
        elif field in positions:
            first = header[positions[field]]
            message = tr(
                "the columns “{first}” and “{name}” both say the same thing", first=first, name=name
            )
            problems.append(ImportProblem(None, name, "file", message))
        else:
            positions[field] = position
    if "name" not in positions:
        message = tr("no column holds the subject; name one Subject")
        problems.append(ImportProblem(None, None, "file", message))
    return positions, problems


def plan_task_import(table: CsvTable) -> TaskImportPlan:
    """The rows to import and every problem of the file's shape, row by row.

    A row needs a subject; an empty cell leaves its field to the default a task created
    through the API gets (no person, no due date, Normal, Custom, no notes).
    """
    positions, problems = _columns(table.header)
    if problems:
        return TaskImportPlan([], problems)
    names = {field: table.header[position] for field, position in positions.items()}
    rows = []
    for number, cells in table.records:
        values = {
            field: value
            for field, position in positions.items()
            if (value := cell(cells, position))
        }
        if "name" not in values:
            message = tr("is empty; every task needs a subject")
            problems.append(ImportProblem(number, names["name"], "name", message))
        rows.append(TaskImportRow(number, values, names))
    if not rows:
        problems.append(ImportProblem(None, None, "file", tr("has no rows below the column names")))
    return TaskImportPlan(rows, problems)
