"""Diagnostics: what did not reach Salesforce grouped by category and code, with cause, fix,
the affected items and Retry; the org setup check; API usage against the budget; the backlog;
and the progress of a retry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from salesync.domain.settings import LoggingMode
from salesync.domain.wording import tr, trn
from salesync.errors import NotFound, SalesyncError
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.services import bcc, diagnostics, org_setup
from salesync.store import connections as connection_store
from salesync.store import tasks as task_store
from salesync.store.tables import Call, Person, ReminderTask, Role, SentEmail, User
from salesync.web import team_accounts
from salesync.web.deps import CurrentUser, RuntimeDep, SessionDep
from salesync.web.pages.activity import display_name, visible_state
from salesync.web.schemas import MAX_ID
from salesync.web.templating import render

router = APIRouter(prefix="/diagnostics")

CATEGORY_LABELS = {
    "authentication": tr("Authentication"),
    "access_validation": tr("Access/Validation"),
    "setup": tr("Org setup"),
    "unmatched": tr("Not matched"),
    "other": tr("Other"),
    "intermittent": tr("Intermittent"),
}
#: Retried items whose progress the page follows (more are retried, but not followed).
FOLLOWED_LIMIT = 100
#: Diagnostics item type -> the kind whose Salesforce state the timelines read.
STATE_KINDS = {"email": "email", "call": "call", task_store.SUBJECT_TYPE: "task"}
UserDep = Annotated[int | None, Query(alias="user", ge=1, le=MAX_ID)]
ItemRef = tuple[str, int | None]


@dataclass(frozen=True)
class ItemLink:
    """What an entry is about, in words, and where to look at it."""

    label: str
    href: str


# -- what each entry is about -----------------------------------------------------------------


def _email_link(email: SentEmail) -> ItemLink:
    to = ", ".join(r.address for r in email.recipients)
    person = next((r.person_id for r in email.recipients if r.person_id), None)
    where = f"/people/{person}" if person else "/activity?kind=email"
    return ItemLink(
        tr("Email “{subject}” to {to}", subject=email.subject, to=to), f"{where}#email-{email.id}"
    )


def _call_link(session: Session, call: Call) -> ItemLink:
    person = session.get(Person, call.person_id)
    label = tr("Call with {name}", name=display_name(person)) if person else tr("Call with someone")
    return ItemLink(label, f"/people/{call.person_id}#call-{call.id}")


def _task_link(task: ReminderTask) -> ItemLink:
    where = f"/people/{task.person_id}" if task.person_id else "/activity?kind=task"
    return ItemLink(tr("Task “{name}”", name=task.name), f"{where}#task-{task.id}")


def _describe(session: Session, team_id: int, ref: ItemRef) -> ItemLink | None:
    item_type, item_id = ref
    if item_type == "connection":
        return ItemLink(tr("Salesforce connection"), "/settings/account/salesforce/connections")
    if item_id is None:
        return None
    row: SentEmail | Call | ReminderTask | None = None
    if item_type == "email":
        row = session.get(SentEmail, item_id)
    elif item_type == "call":
        row = session.get(Call, item_id)
    elif item_type == task_store.SUBJECT_TYPE:
        row = session.get(ReminderTask, item_id)
    if row is None or row.team_id != team_id:
        return None
    if isinstance(row, SentEmail):
        return _email_link(row)
    return _call_link(session, row) if isinstance(row, Call) else _task_link(row)


def describe_items(
    runtime: Runtime, team_id: int, refs: Iterable[ItemRef]
) -> dict[ItemRef, ItemLink]:
    """A label and a link for each (item type, item id) shown on the page."""
    with runtime.sessions() as session:
        described = {ref: _describe(session, team_id, ref) for ref in set(refs)}
    return {ref: link for ref, link in described.items() if link is not None}


# -- the setup check --------------------------------------------------------------------------


def _bcc_check(runtime: Runtime, member: User) -> tuple[str, str, str]:
    """The BCC line of the setup check (BCC-2): only BCC logging needs the address."""
    state = bcc.status(runtime, member, fetch=False)
    if state.logging_mode is not LoggingMode.BCC:
        return member.name, "ok", tr("Email to Salesforce (BCC) is not in use; nothing to set up.")
    if state.address:
        return member.name, "ok", tr("BCC logging sends to {address}.", address=state.address)
    text = tr(
        "BCC logging is on but there is no Email to Salesforce address: emails are not logged."
    )
    return member.name, "error", text


def _connection_check(runtime: Runtime, member: User) -> tuple[str, str] | None:
    """A line for a member whose org has no checks to show: not connected, or not checked."""
    with runtime.sessions() as session:
        row = connection_store.for_user(session, member.id)
        status = row.status.value if row is not None else "not_connected"
        checked = row is not None and bool((row.org_profile or {}).get("checks"))
    if status != "connected":
        # CONN-3: every user logs through their own connection.
        return "error", tr("Not connected to Salesforce: nothing of theirs can be logged.")
    if not checked:
        return (
            "warning",
            tr(
                "Connected; the org is checked on the first logging, "
                "or now with “Check my org again”."
            ),
        )
    return None


def setup_checks(
    runtime: Runtime, data: diagnostics.Overview, members: list[User]
) -> dict[str, list[tuple[str, str]]]:
    """(level, text) of each connection's checks and each member's BCC check, by member."""
    by_member: dict[str, list[tuple[str, str]]] = {}
    for who, level, text in data.setup_checks:
        by_member.setdefault(who, []).append((level, text))
    for member in members:
        line = _connection_check(runtime, member)
        if line is not None:
            by_member.setdefault(member.name, []).append(line)
        who, level, text = _bcc_check(runtime, member)
        by_member.setdefault(who, []).append((level, text))
    return by_member


# -- the page ---------------------------------------------------------------------------------


def _members(runtime: Runtime, user: User, only_user: int | None) -> tuple[list[User], list[User]]:
    """The team (for an admin's filter) and whose checks the page shows."""
    if user.role is not Role.ADMIN:
        return [], [user]
    team = [m for m in team_accounts.team_users(runtime, user) if m.is_active]
    if only_user is None:
        return team, team
    chosen = [m for m in team if m.id == only_user]
    if not chosen:
        raise NotFound(tr("user {only_user} is not in your team", only_user=only_user))
    return team, chosen


def _overview(runtime: Runtime, user: User, only_user: int | None) -> diagnostics.Overview:
    with runtime.sessions() as session:
        return diagnostics.overview(session, user, only_user=only_user, now=runtime.clock.now())


@router.get("")
def diagnostics_page(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    only_user: UserDep = None,
    retried: Annotated[str, Query(max_length=4000)] = "",
) -> Response:
    team, checked = _members(runtime, user, only_user)
    data = _overview(runtime, user, only_user)
    refs = [(e.item_type, e.item_id) for g in data.groups for e in g.entries]
    context = {
        "section": "diagnostics",
        "data": data,
        "items": describe_items(runtime, user.team_id, refs),
        "category_labels": CATEGORY_LABELS,
        "members": team,
        "chosen_user": only_user,
        "checks": setup_checks(runtime, data, checked),
        "can_recheck": _own_connection_id(runtime, user) is not None,
        "progress": retry_progress(runtime, user, retried) if retried else None,
        "retried": retried,
    }
    return render(request, "diagnostics.html", context)


# -- retries and their progress ---------------------------------------------------------------


@dataclass(frozen=True)
class RetryProgress:
    """Where the retried items stand now: a bulk retry's progress bar and summary."""

    total: int
    logged: int
    waiting: int
    failed: int

    @property
    def settled(self) -> int:
        return self.total - self.waiting

    @property
    def finished(self) -> bool:
        return self.waiting == 0


def parse_refs(text: str) -> list[ItemRef]:
    """``email:12,call:3`` -> [("email", 12), ("call", 3)]; anything else is skipped."""
    refs: list[ItemRef] = []
    for part in text.split(","):
        item_type, _, item_id = part.partition(":")
        if item_type in STATE_KINDS and item_id.isdigit():
            refs.append((item_type, int(item_id)))
    return refs[:FOLLOWED_LIMIT]


def progress_of(runtime: Runtime, user: User, refs: Iterable[ItemRef]) -> RetryProgress:
    """Where these retried items stand now (the ones the user may not see are left out)."""
    states: Counter[str] = Counter()
    for item_type, item_id in refs:
        try:
            state = visible_state(runtime, user, STATE_KINDS[item_type], item_id or 0)
        except NotFound:
            continue  # deleted since, or not the viewer's
        states[state.state] += 1
    failed = states["failed"] + states["send_failed"]
    return RetryProgress(sum(states.values()), states["logged"], states["pending"], failed)


def retry_progress(runtime: Runtime, user: User, retried: str) -> RetryProgress:
    return progress_of(runtime, user, parse_refs(retried))


def _after_retry(
    browser: SessionDep, entries: list[diagnostics.EntryView], requeued: int, only_user: int | None
) -> RedirectResponse:
    followed = [f"{e.item_type}:{e.item_id}" for e in entries if e.item_type in STATE_KINDS]
    browser.flash(
        trn(
            "Retried {count} item: {requeued} queued for Salesforce again.",
            "Retried {count} items: {requeued} queued for Salesforce again.",
            len(entries),
            requeued=requeued,
        )
    )
    query = [f"user={only_user}"] if only_user is not None else []
    if followed:
        query.append("retried=" + ",".join(followed[:FOLLOWED_LIMIT]))
    return RedirectResponse(f"/diagnostics?{'&'.join(query)}#retry-progress", status_code=303)


def _entries_in_view(
    runtime: Runtime, user: User, only_user: int | None
) -> list[tuple[diagnostics.GroupView, diagnostics.EntryView]]:
    data = _overview(runtime, user, only_user)
    return [(group, entry) for group in data.groups for entry in group.entries]


@router.post("/retry")
def retry_entry(
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    entry_id: Annotated[int, Form()],
    only_user: Annotated[int | None, Form(alias="user")] = None,
) -> Response:
    """Retry one affected item now."""
    entries = [e for _, e in _entries_in_view(runtime, user, only_user) if e.id == entry_id]
    if not entries:
        raise NotFound(tr("diagnostics entry {entry_id} is not open", entry_id=entry_id))
    requeued = diagnostics.retry(runtime, user, [entry_id])
    return _after_retry(browser, entries, requeued, only_user)


@router.post("/retry-group")
def retry_group(
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    category: Annotated[str, Form()],
    code: Annotated[str, Form()],
    only_user: Annotated[int | None, Form(alias="user")] = None,
) -> Response:
    """Retry every item of one group as the page shows it (the filtered user's, if any)."""
    entries = [
        e
        for g, e in _entries_in_view(runtime, user, only_user)
        if (g.category, g.code) == (category, code)
    ]
    if not entries:
        raise NotFound(tr("no open {code} items to retry", code=code))
    requeued = diagnostics.retry(runtime, user, [e.id for e in entries])
    return _after_retry(browser, entries, requeued, only_user)


@router.get("/progress")
def progress_fragment(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    retried: Annotated[str, Query(max_length=4000)] = "",
) -> Response:
    """The retry progress panel alone, for the page's live refresh (work.js)."""
    context = {"progress": retry_progress(runtime, user, retried), "retried": retried}
    return render(request, "diagnostics_progress.html", context)


# -- the setup check, run again ---------------------------------------------------------------


def _own_connection_id(runtime: Runtime, user: User) -> int | None:
    with runtime.sessions() as session:
        row = connection_store.for_user(session, user.id)
        return row.id if row is not None and row.status.value == "connected" else None


@router.post("/setup-check")
def recheck_setup(runtime: RuntimeDep, user: CurrentUser, browser: SessionDep) -> Response:
    """Describe the org again as the viewer's connection sees it (one API call)."""
    connection_id = _own_connection_id(runtime, user)
    if connection_id is None:
        browser.flash(tr("Connect Salesforce first: the setup check reads your org."))
    else:
        try:
            profile = org_setup.refresh_org_profile(runtime, connection_id)
        except (SalesforceError, SalesyncError, LookupError) as exc:
            browser.flash(tr("The setup check could not reach Salesforce: {reason}", reason=exc))
        else:
            problems = len(org_setup.warnings_of(profile))
            browser.flash(
                trn(
                    "Checked your org again: {count} problem.",
                    "Checked your org again: {count} problems.",
                    problems,
                )
            )
    return RedirectResponse("/diagnostics#setup", status_code=303)
