"""Settings: the Admin Settings and My Account hubs, and My Account → API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.services import accounts
from salesync.store.db import unit_of_work
from salesync.web import team_accounts
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep, SessionDep
from salesync.web.schemas import IdPath
from salesync.web.templating import render

router = APIRouter(prefix="/settings")


@router.get("")
def settings_home(request: Request, user: CurrentUser) -> Response:
    return render(request, "settings.html", {"section": "settings"})


@router.get("/admin")
def admin_settings(request: Request, admin: AdminUser) -> Response:
    return render(request, "settings_admin.html", {"section": "settings"})


@router.get("/account")
def my_account(request: Request, user: CurrentUser) -> Response:
    context = {"section": "settings", "error": "", "error_field": ""}
    return render(request, "settings_account.html", context)


@router.post("/account/profile")
def save_profile(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    name: Annotated[str, Form()] = "",
    time_zone: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
) -> Response:
    """My Account: the rep's name, time zone and language, as PATCH /api/v1/me changes them."""
    changes = {"name": name, "time_zone": time_zone, "language": language}
    try:
        with unit_of_work(runtime.sessions) as session:
            accounts.update_profile(session, user.id, changes)
    except InvalidInput as exc:
        context = {"section": "settings", "error": exc.message, "error_field": exc.field}
        return render(request, "settings_account.html", context, status_code=422)
    browser.flash(tr("Your profile was saved."))
    return RedirectResponse("/settings/account", status_code=303)


def _tokens_page(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    *,
    new_token: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "section": "settings",
        "tokens": team_accounts.list_tokens(runtime, user),
        "new_token": new_token,
        "error": error,
    }
    return render(request, "tokens.html", context, status_code=status_code)


@router.get("/account/tokens")
def tokens(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return _tokens_page(request, runtime, user)


@router.post("/account/tokens")
def create_token(
    request: Request, runtime: RuntimeDep, user: CurrentUser, name: Annotated[str, Form()] = ""
) -> Response:
    # Rendered in the answer to the POST, never stored or put in the cookie: shown once.
    try:
        created = team_accounts.create_token(runtime, user, name)
    except InvalidInput as exc:
        return _tokens_page(request, runtime, user, error=exc.message, status_code=422)
    return _tokens_page(request, runtime, user, new_token=created.secret)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    runtime: RuntimeDep, user: CurrentUser, browser: SessionDep, token_id: IdPath
) -> Response:
    team_accounts.revoke_token(runtime, user, token_id)
    browser.flash(tr("The token was revoked."))
    return RedirectResponse("/settings/account/tokens", status_code=303)
