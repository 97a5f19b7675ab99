"""The team's users (admins only): list, add, deactivate, reset a password."""

from __future__ import annotations

from fastapi import APIRouter

from salesync.domain.wording import tr
from salesync.errors import NotFound
from salesync.services import sign_in
from salesync.services.accounts import NewUser
from salesync.store.tables import User
from salesync.web import team_accounts
from salesync.web.deps import AdminUser, RuntimeDep
from salesync.web.schemas import IdPath, PasswordReset, UserCreate, UserPublic

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=list[UserPublic])
def list_users(runtime: RuntimeDep, admin: AdminUser) -> list[User]:
    return team_accounts.team_users(runtime, admin)


@router.post("", response_model=UserPublic, status_code=201)
def add_user(runtime: RuntimeDep, admin: AdminUser, body: UserCreate) -> User:
    new = NewUser(**body.model_dump())
    return team_accounts.add_team_user(runtime, admin, new)


@router.post("/{user_id}/deactivate", response_model=UserPublic)
def deactivate_user(runtime: RuntimeDep, admin: AdminUser, user_id: IdPath) -> User:
    return team_accounts.deactivate_user(runtime, admin, user_id)


@router.post("/{user_id}/password", response_model=UserPublic)
def reset_password(
    runtime: RuntimeDep, admin: AdminUser, user_id: IdPath, body: PasswordReset
) -> User:
    """Set a teammate's password; every session of theirs ends at once."""
    member = next((u for u in team_accounts.team_users(runtime, admin) if u.id == user_id), None)
    if member is None:
        raise NotFound(tr("user {user_id} does not exist", user_id=user_id))
    return sign_in.reset_password(runtime, admin, member.email, body.password)
