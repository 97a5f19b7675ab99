"""The org's record pages: list views with search, record pages with related lists, and a
Task's edit, complete and delete, like the same pages in Salesforce's Sales app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from salesync.sandbox.http import ApiResponse
from salesync.sandbox.ui_client import OrgConsole
from salesync.sandbox.ui_layout import (
    OBJECT_TABS,
    card,
    cell,
    esc,
    link_to,
    list_url,
    page,
    table,
)

#: Rows a list view or related list shows.
LIST_LIMIT = 200
RELATED_LIMIT = 50

Columns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ObjectView:
    """What the pages show of one object: list columns, searched fields, detail fields."""

    name: str
    label: str
    columns: Columns
    search: tuple[str, ...]
    details: Columns

    @property
    def link_field(self) -> str:
        return self.columns[0][0]


_TASK_COLUMNS: Columns = (
    ("Subject", "Subject"),
    ("Who.Name", "Name"),
    ("What.Name", "Related to"),
    ("ActivityDate", "Due date"),
    ("Status", "Status"),
    ("Priority", "Priority"),
    ("Owner.Name", "Assigned to"),
)
VIEWS = {
    "Task": ObjectView(
        "Task",
        "Tasks",
        _TASK_COLUMNS,
        ("Subject",),
        (
            ("Subject", "Subject"),
            ("Who.Name", "Name"),
            ("What.Name", "Related to"),
            ("ActivityDate", "Due date"),
            ("Status", "Status"),
            ("Priority", "Priority"),
            ("TaskSubtype", "Task subtype"),
            ("Type", "Type"),
            ("Owner.Name", "Assigned to"),
            ("Description", "Comments"),
            ("CompletedDateTime", "Completed"),
            ("CreatedBy.Name", "Created by"),
            ("LastModifiedBy.Name", "Last modified by"),
            ("LastModifiedDate", "Last modified"),
        ),
    ),
    "Contact": ObjectView(
        "Contact",
        "Contacts",
        (
            ("Name", "Name"),
            ("Account.Name", "Account"),
            ("Title", "Title"),
            ("Email", "Email"),
            ("Phone", "Phone"),
            ("Owner.Name", "Owner"),
        ),
        ("Name", "Email"),
        (
            ("Name", "Name"),
            ("Account.Name", "Account"),
            ("Title", "Title"),
            ("Email", "Email"),
            ("Phone", "Phone"),
            ("Owner.Name", "Owner"),
        ),
    ),
    "Lead": ObjectView(
        "Lead",
        "Leads",
        (
            ("Name", "Name"),
            ("Company", "Company"),
            ("Email", "Email"),
            ("Status", "Lead status"),
            ("Owner.Name", "Owner"),
        ),
        ("Name", "Company", "Email"),
        (
            ("Name", "Name"),
            ("Company", "Company"),
            ("Title", "Title"),
            ("Email", "Email"),
            ("Phone", "Phone"),
            ("Status", "Lead status"),
            ("IsConverted", "Converted"),
            ("Owner.Name", "Owner"),
        ),
    ),
    "Account": ObjectView(
        "Account",
        "Accounts",
        (
            ("Name", "Account name"),
            ("Industry", "Industry"),
            ("Phone", "Phone"),
            ("Owner.Name", "Owner"),
        ),
        ("Name",),
        (
            ("Name", "Account name"),
            ("Industry", "Industry"),
            ("Website", "Website"),
            ("Phone", "Phone"),
            ("Owner.Name", "Owner"),
        ),
    ),
    "Opportunity": ObjectView(
        "Opportunity",
        "Opportunities",
        (
            ("Name", "Opportunity name"),
            ("Account.Name", "Account"),
            ("StageName", "Stage"),
            ("Amount", "Amount"),
            ("CloseDate", "Close date"),
            ("Owner.Name", "Owner"),
        ),
        ("Name",),
        (
            ("Name", "Opportunity name"),
            ("Account.Name", "Account"),
            ("StageName", "Stage"),
            ("Amount", "Amount"),
            ("CloseDate", "Close date"),
            ("IsWon", "Won"),
            ("Owner.Name", "Owner"),
        ),
    ),
}
#: Task list filters, like Salesforce's "Open Tasks" and "Completed Tasks" list views.
TASK_FILTERS = {
    "open": ("Open tasks", "IsClosed = false"),
    "closed": ("Completed tasks", "IsClosed = true"),
    "all": ("All tasks", ""),
}
_ACTIVITY_FIELDS = "Id, Subject, TaskSubtype, Who.Name, What.Name, ActivityDate, Status, Owner.Name"
_ACTIVITY_COLUMNS: Columns = (
    ("Subject", "Subject"),
    ("TaskSubtype", "Type"),
    ("Who.Name", "Name"),
    ("What.Name", "Related to"),
    ("ActivityDate", "Due date"),
    ("Status", "Status"),
    ("Owner.Name", "Assigned to"),
)


def soql_string(value: str) -> str:
    """A SOQL string literal (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _select(columns: Columns) -> str:
    fields = ["Id", *(field for field, _ in columns)]
    return ", ".join(dict.fromkeys(fields))


def list_view(
    console: OrgConsole, sobject: str, search: str, task_filter: str, notice: str = ""
) -> ApiResponse:
    view = VIEWS[sobject]
    conditions = []
    if search.strip():
        pattern = soql_string("%" + search.strip().replace("%", "").replace("_", "") + "%")
        conditions.append("(" + " OR ".join(f"{f} LIKE {pattern}" for f in view.search) + ")")
    filter_name = task_filter if task_filter in TASK_FILTERS else "open"
    if sobject == "Task" and TASK_FILTERS[filter_name][1]:
        conditions.append(TASK_FILTERS[filter_name][1])
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    order = "ActivityDate ASC NULLS LAST, Subject" if sobject == "Task" else view.link_field
    rows = console.query(
        f"SELECT {_select(view.columns)} FROM {sobject}{where} ORDER BY {order} LIMIT {LIST_LIMIT}"
    )
    total = console.count(f"SELECT COUNT() FROM {sobject}{where}")
    filters = ""
    if sobject == "Task":
        options = "".join(
            f'<option value="{key}"{" selected" * (key == filter_name)}>{esc(label)}</option>'
            for key, (label, _) in TASK_FILTERS.items()
        )
        filters = f'<label class="inline">List view <select name="view">{options}</select></label>'
    shown = f"{len(rows)} of {total}" if total > len(rows) else f"{total}"
    search_form = (
        f'<form class="search" method="get" action="{list_url(sobject)}" role="search">'
        f'<input type="search" name="q" value="{esc(search)}" '
        f'aria-label="Search {esc(view.label.lower())}" placeholder="Search this list…">'
        f"{filters}<button>Search</button></form>"
    )
    title = TASK_FILTERS[filter_name][0] if sobject == "Task" else f"All {view.label.lower()}"
    body = (
        f'<p class="kind">{esc(view.label)}</p><h1>{esc(title)}</h1>{_notice(notice)}{search_form}'
        + card(
            f"{shown} items",
            table(view.columns, rows, link_field=view.link_field),
            label=view.label,
        )
    )
    return page(view.label, body, current=sobject)


def record_view(console: OrgConsole, sobject: str, record_id: str, notice: str = "") -> ApiResponse:
    view = VIEWS.get(sobject)
    if view is None:
        return page("Not found", "<h1>This object has no page here.</h1>", status=404)
    rows = console.query(
        f"SELECT {_select(view.details)} FROM {sobject} WHERE Id = {soql_string(record_id)}"
    )
    if not rows:
        return page("Not found", "<h1>This record was deleted or never existed.</h1>", status=404)
    record = rows[0]
    name = str(record.get(view.link_field) or record_id)
    details = "".join(
        f"<dt>{esc(label)}</dt><dd>{_detail_value(record, field)}</dd>"
        for field, label in view.details
    )
    if sobject == "Task":
        actions = _task_actions(record_id, record)
    else:
        new_task = f"/lightning/o/Task/new?about={record_id}"
        actions = f'<div class="actions"><a class="button" href="{new_task}">New task</a></div>'
    related = "".join(_related_lists(console, sobject, record_id))
    body = (
        f'<p class="kind">{esc(sobject)}</p><h1>{esc(name)}</h1>{_notice(notice)}{actions}'
        + card("Details", f'<div class="body"><dl>{details}</dl></div>')
        + related
    )
    return page(name, body, current=sobject)


def _notice(text: str) -> str:
    return f'<p class="notice" role="status">{esc(text)}</p>' if text else ""


def _detail_value(record: dict[str, Any], field: str) -> str:
    value = record.get(field.split(".", 1)[0])
    if isinstance(value, dict):
        return link_to(value)
    if field == "Description":
        return esc(value).replace("\n", "<br>")
    return cell(value)


def _task_actions(record_id: str, record: dict[str, Any]) -> str:
    complete = ""
    if record.get("Status") != "Completed":
        complete = (
            f'<form class="inline" method="post" action="/lightning/r/Task/{record_id}/complete">'
            '<button class="brand-button">Mark complete</button></form>'
        )
    return (
        f'<div class="actions">{complete}'
        f'<a class="button" href="/lightning/r/Task/{record_id}/edit">Edit</a>'
        f'<form class="inline" method="post" action="/lightning/r/Task/{record_id}/delete">'
        '<button class="danger">Delete</button></form></div>'
    )


def _related_lists(console: OrgConsole, sobject: str, record_id: str) -> list[str]:
    quoted = soql_string(record_id)
    lists = []
    if sobject == "Account":
        contacts = console.query(
            f"SELECT Id, Name, Title, Email FROM Contact WHERE AccountId = {quoted} "
            f"ORDER BY Name LIMIT {RELATED_LIMIT}"
        )
        columns: Columns = (("Name", "Name"), ("Title", "Title"), ("Email", "Email"))
        lists.append(
            card(f"Contacts ({len(contacts)})", table(columns, contacts, link_field="Name"))
        )
        opportunities = console.query(
            f"SELECT Id, Name, StageName, CloseDate FROM Opportunity WHERE AccountId = {quoted} "
            f"ORDER BY CloseDate LIMIT {RELATED_LIMIT}"
        )
        columns = (
            ("Name", "Opportunity name"),
            ("StageName", "Stage"),
            ("CloseDate", "Close date"),
        )
        lists.append(
            card(
                f"Opportunities ({len(opportunities)})",
                table(columns, opportunities, link_field="Name"),
            )
        )
    if sobject in ("Contact", "Lead"):
        about = f"WhoId = {quoted}"
    elif sobject == "Account":
        about = f"(WhatId = {quoted} OR AccountId = {quoted})"
    elif sobject == "Opportunity":
        about = f"WhatId = {quoted}"
    else:
        return lists
    base = f"SELECT {_ACTIVITY_FIELDS} FROM Task WHERE {about}"
    open_tasks = console.query(
        f"{base} AND IsClosed = false ORDER BY ActivityDate ASC NULLS LAST LIMIT {RELATED_LIMIT}"
    )
    history = console.query(
        f"{base} AND IsClosed = true ORDER BY ActivityDate DESC NULLS LAST, LastModifiedDate DESC "
        f"LIMIT {RELATED_LIMIT}"
    )
    lists.append(
        card(
            f"Open Activities ({len(open_tasks)})",
            table(_ACTIVITY_COLUMNS, open_tasks, link_field="Subject", empty="No next steps."),
            label="Open Activities",
        )
    )
    lists.append(
        card(
            f"Activity History ({len(history)})",
            table(_ACTIVITY_COLUMNS, history, link_field="Subject", empty="No past activity."),
            label="Activity History",
        )
    )
    return lists


def home(console: OrgConsole) -> ApiResponse:
    summary = console.summary()
    counts = summary.get("recordCounts", {})
    tiles = "".join(
        f'<li><a href="{list_url(name)}">{esc(label)}</a>: {int(counts.get(name, 0)):,}</li>'
        for name, label in OBJECT_TABS
    )
    recent = console.query(
        f"SELECT {_ACTIVITY_FIELDS} FROM Task ORDER BY LastModifiedDate DESC LIMIT 10"
    )
    developer = (
        '<div class="body"><ul><li>REST API: <a href="/services/data/">/services/data/</a></li>'
        "<li>OAuth: /services/oauth2/authorize, /services/oauth2/token, /services/oauth2/revoke"
        '</li><li>Control plane (JSON): <a href="/__sandbox__">/__sandbox__</a></li>'
        '<li>Mail received over SMTP: <a href="/__sandbox__/mail">/__sandbox__/mail</a></li>'
        "</ul></div>"
    )
    body = (
        f"<h1>Home</h1><p>Org <code>{esc(summary.get('orgId'))}</code>, "
        f"clock {esc(summary.get('clock', {}).get('now'))}.</p>"
        + card("Records", f'<div class="body"><ul>{tiles}</ul></div>')
        + card("Recently changed tasks", table(_ACTIVITY_COLUMNS, recent, link_field="Subject"))
        + card("For developers", developer)
    )
    return page("Home", body, current="home")
