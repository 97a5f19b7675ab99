"""GET /api/v1/me: who the caller is."""

from __future__ import annotations

from fastapi import APIRouter

from salesync.store.tables import User
from salesync.web.deps import CurrentUser
from salesync.web.schemas import UserPublic

router = APIRouter(tags=["account"])


@router.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser) -> User:
    return user
