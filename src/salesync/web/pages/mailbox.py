"""Settings → My Account → Mailbox, and Settings → Admin Settings → Mailbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import InvalidInput, PermissionDenied
from salesync.services import mailbox_accounts
from salesync.store.tables import User
from salesync.web.api.mailbox import connector_of
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep, SessionDep
from salesync.web.templating import render

router = APIRouter(prefix="/settings")


def _page(
    request: Request,
    runtime: RuntimeDep,
    user: User,
    *,
    error: str = "",
    field: str = "",
    test: mailbox_accounts.TestResult | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "section": "settings",
        "mailbox": mailbox_accounts.view(runtime, user),
        "error": error,
        "error_field": field,
        "test": test,
    }
    return render(request, "mailbox.html", context, status_code=status_code)


@router.get("/account/mailbox")
def mailbox_page(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return _page(request, runtime, user)


@router.post("/account/mailbox")
def save_mailbox(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    host: Annotated[str, Form()] = "",
    port: Annotated[str, Form()] = "",
    security: Annotated[str, Form()] = "tls",
    sent_folder: Annotated[str, Form()] = "",
    inbox_folder: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "",
) -> Response:
    try:
        port_number = int(port) if port.strip() else None
    except ValueError:
        return _page(
            request, runtime, user, error="the port is a number", field="port", status_code=422
        )
    data = mailbox_accounts.MailboxInput(
        username=username,
        password=password or None,
        host=host.strip() or None,
        port=port_number,
        security=security if host.strip() else None,
        sent_folder=sent_folder or None,
        inbox_folder=inbox_folder or None,
        enabled=bool(enabled),
    )
    try:
        mailbox_accounts.save_mailbox(runtime, user, data)
    except (InvalidInput, PermissionDenied) as exc:
        field = getattr(exc, "field", None) or ""
        return _page(request, runtime, user, error=exc.message, field=field, status_code=422)
    browser.flash(tr("Your mailbox was saved; it is read from the next sync."))
    return RedirectResponse("/settings/account/mailbox", status_code=303)


@router.post("/account/mailbox/test")
def test_mailbox(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    result = mailbox_accounts.test_connection(runtime, user, connector_of(request))
    return _page(request, runtime, user, test=result)


@router.post("/account/mailbox/delete")
def delete_mailbox(runtime: RuntimeDep, user: CurrentUser, browser: SessionDep) -> Response:
    mailbox_accounts.delete_mailbox(runtime, user)
    browser.flash(tr("Your mailbox was disconnected; nothing more is read from it."))
    return RedirectResponse("/settings/account/mailbox", status_code=303)


def _team_page(
    request: Request, runtime: RuntimeDep, admin: User, *, error: str = "", status_code: int = 200
) -> Response:
    with runtime.sessions() as session:
        team = mailbox_accounts.team_settings_of(session, admin.team_id)
        session.expunge_all()
    context = {"section": "settings", "team": team, "error": error}
    return render(request, "mailbox_team.html", context, status_code=status_code)


@router.get("/admin/mailbox")
def team_page(request: Request, runtime: RuntimeDep, admin: AdminUser) -> Response:
    return _team_page(request, runtime, admin)


@router.post("/admin/mailbox")
def save_team(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    browser: SessionDep,
    host: Annotated[str, Form()] = "",
    port: Annotated[str, Form()] = "",
    security: Annotated[str, Form()] = "tls",
    allow_custom_servers: Annotated[str, Form()] = "",
    internal_domains: Annotated[str, Form()] = "",
    blocked_domains: Annotated[str, Form()] = "",
    log_anyone: Annotated[str, Form()] = "",
    lookback_days: Annotated[str, Form()] = "7",
    poll_seconds: Annotated[str, Form()] = "60",
) -> Response:
    try:
        numbers = [int(v) if v.strip() else None for v in (port, lookback_days, poll_seconds)]
    except ValueError:
        return _team_page(request, runtime, admin, error="give numbers", status_code=422)
    data = mailbox_accounts.TeamMailboxInput(
        host=host.strip() or None,
        port=numbers[0],
        security=security if host.strip() else None,
        allow_custom_servers=bool(allow_custom_servers),
        internal_domains=internal_domains.replace(",", " ").split(),
        blocked_domains=blocked_domains.replace(",", " ").split(),
        log_anyone=bool(log_anyone),
        lookback_days=numbers[1] or 7,
        poll_seconds=numbers[2] or 60,
    )
    try:
        mailbox_accounts.save_team_settings(runtime, admin, data)
    except InvalidInput as exc:
        return _team_page(request, runtime, admin, error=exc.message, status_code=422)
    browser.flash(tr("The team's mailbox settings were saved."))
    return RedirectResponse("/settings/admin/mailbox", status_code=303)
