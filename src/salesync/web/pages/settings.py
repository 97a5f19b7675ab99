"""Settings: the Admin Settings and My Account hubs, and My Account → API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.languages import LANGUAGES
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


def _admin_page(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with unit_of_work(runtime.sessions) as session:
        team_language = accounts.team_language(session, admin.team_id)
    context = {
        "section": "settings",
        "language_choices": LANGUAGES,
        "team_language": team_language,
        "error": error,
    }
    return render(request, "settings_admin.html", context, status_code=status_code)


@router.get("/admin")
def admin_settings(request: Request, runtime: RuntimeDep, admin: AdminUser) -> Response:
    return _admin_page(request, runtime, admin)


@router.post("/admin/language")
def save_team_language(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    browser: SessionDep,
    default_language: Annotated[str, Form()] = "",
) -> Response:
    """Admin Settings: the language of teammates who chose none and whose browser asks for
    none salesync is shown in."""
    try:
        with unit_of_work(runtime.sessions) as session:
            accounts.set_team_language(session, admin.team_id, default_language)
    except InvalidInput as exc:
        return _admin_page(request, runtime, admin, error=exc.message, status_code=422)
    browser.flash(tr("The team's language was saved."))
    return RedirectResponse("/settings/admin#team-language", status_code=303)


def _account_context(error: str = "", error_field: str | None = "") -> dict[str, object]:
    return {
        "section": "settings",
        "error": error,
        "error_field": error_field,
        "language_choices": LANGUAGES,
    }


@router.get("/account")
def my_account(request: Request, user: CurrentUser) -> Response:
    return render(request, "settings_account.html", _account_context())


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
        context = _account_context(exc.message, exc.field)
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
