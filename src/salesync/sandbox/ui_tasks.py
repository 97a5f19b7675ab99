"""A Task's forms on the org's pages: new (from a record's page), edit, complete and delete.

Each change goes through the control plane as an edit made in Salesforce by the org's admin;
a change the org refuses (a validation rule) comes back in the form with the org's message.
"""

from __future__ import annotations

from typing import Any

from salesync.sandbox.http import ApiResponse
from salesync.sandbox.ui_client import OrgConsole, OrgRefused
from salesync.sandbox.ui_layout import card, esc, list_url, page, record_url, see_other
from salesync.sandbox.ui_pages import record_view, soql_string


def _picklist(console: OrgConsole, table_name: str) -> list[str]:
    return [str(row["ApiName"]) for row in console.query(f"SELECT ApiName FROM {table_name}")]


def _closed_status(console: OrgConsole) -> str:
    closed = console.query("SELECT ApiName FROM TaskStatus WHERE IsClosed = true")
    return str(closed[0]["ApiName"]) if closed else "Completed"


def task_form(
    console: OrgConsole, record_id: str, error: str = "", values: dict[str, str] | None = None
) -> ApiResponse:
    rows = console.query(
        "SELECT Id, Subject, Status, Priority, ActivityDate, Description FROM Task "
        f"WHERE Id = {soql_string(record_id)}"
    )
    if not rows:
        return page("Not found", "<h1>This task was deleted or never existed.</h1>", status=404)
    current = {k: "" if v is None else str(v) for k, v in rows[0].items() if k != "attributes"}
    current.update(values or {})

    def select(name: str, label: str, options: list[str]) -> str:
        items = "".join(
            f"<option{' selected' if option == current.get(name) else ''}>{esc(option)}</option>"
            for option in options
        )
        return (
            f'<label for="{name}">{label}</label><select id="{name}" name="{name}">{items}</select>'
        )

    error_html = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    form = (
        f'<form method="post" action="/lightning/r/Task/{record_id}/edit" class="body">'
        f'<label for="Subject">Subject</label><input id="Subject" name="Subject" '
        f'value="{esc(current.get("Subject"))}" required maxlength="255">'
        + select("Status", "Status", _picklist(console, "TaskStatus"))
        + select("Priority", "Priority", _picklist(console, "TaskPriority"))
        + '<label for="ActivityDate">Due date</label><input id="ActivityDate" '
        f'name="ActivityDate" type="date" value="{esc(current.get("ActivityDate"))}">'
        '<label for="Description">Comments</label><textarea id="Description" '
        f'name="Description" rows="4">{esc(current.get("Description"))}</textarea>'
        '<p><button class="brand-button">Save</button> '
        f'<a href="{record_url("Task", record_id)}">Cancel</a></p></form>'
    )
    body = f'<p class="kind">Task</p><h1>Edit {esc(current.get("Subject"))}</h1>{error_html}'
    return page("Edit task", body + card("Task information", form), current="Task")


def save_task(console: OrgConsole, record_id: str, form: dict[str, str]) -> ApiResponse:
    fields: dict[str, Any] = {
        name: form.get(name, "") for name in ("Subject", "Status", "Priority", "Description")
    }
    fields["ActivityDate"] = form.get("ActivityDate") or None
    try:
        console.update(record_id, fields)
    except OrgRefused as exc:
        return task_form(console, record_id, str(exc), {k: str(v or "") for k, v in fields.items()})
    return see_other(record_url("Task", record_id) + "?saved=1")


def complete_task(console: OrgConsole, record_id: str) -> ApiResponse:
    try:
        console.update(record_id, {"Status": _closed_status(console)})
    except OrgRefused as exc:
        return record_view(console, "Task", record_id, notice=f"Not completed: {exc}")
    return see_other(record_url("Task", record_id) + "?completed=1")


def delete_task(console: OrgConsole, record_id: str) -> ApiResponse:
    try:
        console.delete(record_id)
    except OrgRefused as exc:
        return record_view(console, "Task", record_id, notice=f"Not deleted: {exc}")
    return see_other(list_url("Task") + "?deleted=1")


NOTICES = {
    "created": "Task created.",
    "saved": "Task saved.",
    "completed": "Task marked complete.",
    "deleted": "Task deleted.",
}


#: Key prefixes of the records a new Task can be about, and the field that points at them.
_ABOUT = {
    "003": ("Contact", "WhoId"),
    "00Q": ("Lead", "WhoId"),
    "001": ("Account", "WhatId"),
    "006": ("Opportunity", "WhatId"),
}


def _about(console: OrgConsole, record_id: str) -> tuple[str, str, dict[str, Any]] | None:
    """(object, Task field, record with Name and OwnerId) of the record a new Task is about."""
    found = _ABOUT.get(record_id[:3])
    if found is None:
        return None
    sobject, field = found
    rows = console.query(
        f"SELECT Id, Name, OwnerId FROM {sobject} WHERE Id = {soql_string(record_id)}"
    )
    return (sobject, field, rows[0]) if rows else None


def new_task_form(
    console: OrgConsole, about_id: str, error: str = "", values: dict[str, str] | None = None
) -> ApiResponse:
    about = _about(console, about_id)
    if about is None:
        return page("Not found", "<h1>A new task needs a record to be about.</h1>", status=404)
    sobject, _, record = about
    current = {
        "OwnerId": str(record.get("OwnerId") or ""),
        "Status": "Not Started",
        "Priority": "Normal",
        **(values or {}),
    }
    users = console.query("SELECT Id, Name FROM User WHERE IsActive = true ORDER BY Name")
    owners = "".join(
        f'<option value="{esc(u["Id"])}"{" selected" * (u["Id"] == current["OwnerId"])}>'
        f"{esc(u['Name'])}</option>"
        for u in users
    )

    def select(name: str, label: str, options: list[str]) -> str:
        items = "".join(
            f"<option{' selected' * (option == current.get(name))}>{esc(option)}</option>"
            for option in options
        )
        return (
            f'<label for="{name}">{label}</label><select id="{name}" name="{name}">{items}</select>'
        )

    error_html = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    form = (
        '<form method="post" action="/lightning/o/Task/new" class="body">'
        f'<input type="hidden" name="about" value="{esc(about_id)}">'
        f"<p>About: {esc(sobject)} {esc(record.get('Name'))}</p>"
        '<label for="Subject">Subject</label><input id="Subject" name="Subject" '
        f'value="{esc(current.get("Subject"))}" required maxlength="255">'
        '<label for="ActivityDate">Due date</label><input id="ActivityDate" '
        f'name="ActivityDate" type="date" value="{esc(current.get("ActivityDate"))}">'
        + select("Priority", "Priority", _picklist(console, "TaskPriority"))
        + select("Status", "Status", _picklist(console, "TaskStatus"))
        + f'<label for="OwnerId">Assigned to</label><select id="OwnerId" name="OwnerId">{owners}'
        "</select>"
        '<label for="Description">Comments</label><textarea id="Description" '
        f'name="Description" rows="3">{esc(current.get("Description"))}</textarea>'
        '<p><button class="brand-button">Save</button> '
        f'<a href="{record_url(sobject, about_id)}">Cancel</a></p></form>'
    )
    body = f'<p class="kind">Task</p><h1>New task</h1>{error_html}'
    return page("New task", body + card("Task information", form), current="Task")


def create_task(console: OrgConsole, form: dict[str, str]) -> ApiResponse:
    about_id = form.get("about", "")
    about = _about(console, about_id)
    if about is None:
        return page("Not found", "<h1>A new task needs a record to be about.</h1>", status=404)
    sobject, field, _ = about
    names = ("Subject", "Priority", "Status", "OwnerId", "Description")
    fields: dict[str, Any] = {name: form.get(name, "") for name in names}
    # A task made with Salesforce's New Task action: subtype Task, about the record.
    fields.update(
        {"ActivityDate": form.get("ActivityDate") or None, "TaskSubtype": "Task", field: about_id}
    )
    try:
        console.create("Task", fields)
    except OrgRefused as exc:
        return new_task_form(console, about_id, str(exc), {k: str(form.get(k, "")) for k in form})
    return see_other(record_url(sobject, about_id) + "?created=1")
