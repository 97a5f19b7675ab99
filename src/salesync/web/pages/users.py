"""Admin Settings → Users: list the team, add a user, deactivate one."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput, NotFound
from salesync.services import sign_in
from salesync.services.accounts import NewUser
from salesync.store.tables import Role
from salesync.web import team_accounts
from salesync.web.deps import AdminUser, RuntimeDep, SessionDep
from salesync.web.schemas import IdPath
from salesync.web.templating import render

router = APIRouter(prefix="/settings/admin/users")

TIME_ZONES = sorted(available_timezones())


class UserForm(BaseModel):
    name: str = ""
    email: str = ""
    role: Role = Role.REP
    time_zone: str = "UTC"
    password: str = ""


def _users_page(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    *,
    form: UserForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "section": "settings",
        "users": team_accounts.team_users(runtime, admin),
        "form": (form or UserForm()).model_dump(exclude={"password"}),
        "errors": errors or {},
        "roles": list(Role),
        "time_zones": TIME_ZONES,
    }
    return render(request, "users.html", context, status_code=status_code)


@router.get("")
def users(request: Request, runtime: RuntimeDep, admin: AdminUser) -> Response:
    return _users_page(request, runtime, admin)


@router.post("")
def add_user(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    browser: SessionDep,
    form: Annotated[UserForm, Form()],
) -> Response:
    try:
        user = team_accounts.add_team_user(runtime, admin, NewUser(**form.model_dump()))
    except InvalidInput as exc:
        errors = {exc.field or "form": exc.message}
        return _users_page(request, runtime, admin, form=form, errors=errors, status_code=422)
    except Conflict as exc:
        errors = {"email": exc.message}
        return _users_page(request, runtime, admin, form=form, errors=errors, status_code=409)
    browser.flash(tr("{name} can now sign in as {email}.", name=user.name, email=user.email))
    return RedirectResponse("/settings/admin/users", status_code=303)


@router.post("/{user_id}/deactivate")
def deactivate_user(
    runtime: RuntimeDep, admin: AdminUser, browser: SessionDep, user_id: IdPath
) -> Response:
    user = team_accounts.deactivate_user(runtime, admin, user_id)
    browser.flash(tr("{name} is deactivated and can no longer sign in.", name=user.name))
    return RedirectResponse("/settings/admin/users", status_code=303)


@router.post("/{user_id}/password")
def reset_password(
    runtime: RuntimeDep,
    admin: AdminUser,
    browser: SessionDep,
    user_id: IdPath,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Set a teammate's password; all their sessions end."""
    member = next((u for u in team_accounts.team_users(runtime, admin) if u.id == user_id), None)
    if member is None:
        raise NotFound(tr("user {user_id} does not exist", user_id=user_id))
    sign_in.reset_password(runtime, admin, member.email, password)
    browser.flash(
        tr("{name}'s password is reset; their sessions are signed out.", name=member.name)
    )
    return RedirectResponse("/settings/admin/users", status_code=303)
