"""/api/v1/me: who the caller is, and their own profile (name, time zone, language)."""

from __future__ import annotations

from fastapi import APIRouter

from salesync.services import accounts
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from salesync.web.deps import CurrentUser, RuntimeDep
from salesync.web.schemas import ProfileUpdate, UserPublic

router = APIRouter(tags=["account"])


@router.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser) -> User:
    return user


@router.patch("/me", response_model=UserPublic)
def update_me(body: ProfileUpdate, user: CurrentUser, runtime: RuntimeDep) -> User:
    """Change your own name, time zone or language; Command Center and new Tasks follow."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    with unit_of_work(runtime.sessions) as session:
        updated = accounts.update_profile(session, user.id, changes)
        session.expunge(updated)
    return updated
