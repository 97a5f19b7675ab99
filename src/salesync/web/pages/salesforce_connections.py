"""Settings → Salesforce → Connections: connect, health, the org setup check, disconnect."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import PermissionDenied
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.services import connections, org_setup
from salesync.services.diagnostics import check_text
from salesync.store import connections as connection_store
from salesync.store.tables import ConnectionStatus, Role, SalesforceConnection, User
from salesync.web import team_accounts
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep, SessionDep
from salesync.web.templating import render

router = APIRouter()

#: The Connections page of each side of Settings.
PAGES = {
    "account": "/settings/account/salesforce/connections",
    "admin": "/settings/admin/salesforce/connections",
}
Side = Literal["account", "admin"]
Which = Literal["user", "team_sync"]

#: Names of the org setup checks (salesforce/discovery.py keys) as the page shows them.
CHECK_LABELS = {
    "api_access": tr("API access"),
    "task_access": tr("Tasks"),
    "task_fields": tr("Task fields"),
    "task_sync_fields": tr("Task fields for task sync"),
    "task_type": tr("Type picklist"),
    "external_id": tr("External ID field"),
    "task_status": "TaskStatus",
}
STATUS_LABELS = {
    "connected": tr("Connected"),
    "broken": tr("Needs reconnecting"),
    "disconnected": tr("Disconnected"),
    "not_connected": tr("Not connected"),
}


@dataclasses.dataclass(frozen=True)
class CheckView:
    label: str
    level: str
    text: str


@dataclasses.dataclass(frozen=True)
class ConnectionView:
    """A connection's health as the Connections tab shows it."""

    status: str
    environment: str = "production"
    instance_url: str = ""
    org_id: str = ""
    username: str = ""
    email: str = ""
    connected_at: datetime | None = None
    broken_reason: str = ""
    checks: tuple[CheckView, ...] = ()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def connected(self) -> bool:
        return self.status == "connected"

    @property
    def problems(self) -> int:
        return sum(1 for check in self.checks if check.level != "ok")


NOT_CONNECTED = ConnectionView(status="not_connected")


@dataclasses.dataclass(frozen=True)
class MemberConnection:
    """One teammate's row in the admin's overview."""

    member: User
    connection: ConnectionView


def _check_label(key: str) -> str:
    if key.startswith("object_"):
        return tr("{object} access", object=key.removeprefix("object_").title())
    return CHECK_LABELS.get(key, key.replace("_", " ").capitalize())


def _view(row: SalesforceConnection | None) -> ConnectionView:
    if row is None:
        return NOT_CONNECTED
    checks = tuple(
        CheckView(_check_label(str(c["key"])), str(c["level"]), check_text(c))
        for c in (row.org_profile or {}).get("checks", [])
    )
    return ConnectionView(
        status=row.status.value,
        environment=row.environment,
        instance_url=row.instance_url,
        org_id=row.org_id,
        username=row.sf_username,
        email=row.sf_email,
        connected_at=row.connected_at,
        broken_reason=row.broken_reason or "",
        checks=checks,
    )


def _row(runtime: Runtime, user: User, which: Which) -> SalesforceConnection | None:
    # A read of one row for display; every change goes through services.connections.
    with runtime.sessions() as session:
        if which == "team_sync":
            return connection_store.team_sync_connection(session, user.team_id)
        return connection_store.for_user(session, user.id)


def connection_view(runtime: Runtime, user: User, which: Which = "user") -> ConnectionView:
    return _view(_row(runtime, user, which))


def team_overview(runtime: Runtime, admin: User) -> list[MemberConnection]:
    members = team_accounts.team_users(runtime, admin)
    with runtime.sessions() as session:
        return [
            MemberConnection(member, _view(connection_store.for_user(session, member.id)))
            for member in members
            if member.is_active
        ]


def _page(request: Request, runtime: Runtime, user: User, side: Side) -> Response:
    context: dict[str, Any] = {
        "section": "settings",
        "side": side,
        "tab": "connections",
        "connection": connection_view(runtime, user),
        "team": team_overview(runtime, user) if side == "admin" else [],
        "team_sync": connection_view(runtime, user, "team_sync") if side == "admin" else None,
    }
    return render(request, "salesforce_connections.html", context)


@router.get(PAGES["account"])
def my_connections(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return _page(request, runtime, user, "account")


@router.get(PAGES["admin"])
def team_connections(request: Request, runtime: RuntimeDep, admin: AdminUser) -> Response:
    return _page(request, runtime, admin, "admin")


def _back(side: Side, user: User) -> RedirectResponse:
    target = PAGES["admin"] if side == "admin" and user.role is Role.ADMIN else PAGES["account"]
    return RedirectResponse(target, status_code=303)


@router.post("/settings/salesforce/connections/check")
def check_again(
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    side: Annotated[Side, Form()] = "account",
    which: Annotated[Which, Form()] = "user",
) -> Response:
    """Run the org setup check again (one API call) and keep the result on the connection."""
    if which == "team_sync" and user.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can check the team sync connection"))
    row = _row(runtime, user, which)
    if row is None or row.status is not ConnectionStatus.CONNECTED:
        browser.flash(tr("Connect to Salesforce first; the check runs as your Salesforce user."))
        return _back(side, user)
    try:
        profile = org_setup.refresh_org_profile(runtime, row.id)
    except SalesforceError as exc:
        browser.flash(tr("Salesforce did not answer the setup check: {reason}", reason=exc))
        return _back(side, user)
    problems = org_setup.warnings_of(profile)
    browser.flash(
        f"Org checked: {len(problems)} thing{'s' if len(problems) != 1 else ''} to fix."
        if problems
        else "Org checked: everything salesync needs is set up."
    )
    return _back(side, user)


@router.post("/settings/salesforce/connections/disconnect")
def disconnect(
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    side: Annotated[Side, Form()] = "account",
) -> Response:
    """DISC-1: revoke the token; settings and queued items stay, paused until reconnecting."""
    with httpx.Client(timeout=30.0) as http:
        done = connections.disconnect(runtime, user, http=http)
    browser.flash(
        "Disconnected from Salesforce. Your settings and queued items are kept and resume "
        "when you connect again."
        if done
        else "You were not connected to Salesforce."
    )
    return _back(side, user)
