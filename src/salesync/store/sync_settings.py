"""Queries for Sync Settings rows (team level: ``user_id`` NULL; user level: one per user)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select
from sqlalchemy.orm import Session

from salesync.store.tables import SyncSettings


def settings_row(session: Session, team_id: int, user_id: int | None) -> SyncSettings | None:
    condition = (
        SyncSettings.user_id.is_(None) if user_id is None else SyncSettings.user_id == user_id
    )
    return session.scalars(
        select(SyncSettings).where(SyncSettings.team_id == team_id, condition)
    ).first()


def rows_of_teams_and_users(
    session: Session, team_ids: Sequence[int], user_ids: Sequence[int]
) -> list[SyncSettings]:
    """The teams' rows and the users' rows, in one statement (a claim's reps read theirs
    together; a single user reads the team's row and their own)."""
    if not team_ids:
        return []
    return list(
        session.scalars(
            select(SyncSettings).where(
                SyncSettings.team_id.in_(team_ids),
                or_(SyncSettings.user_id.is_(None), SyncSettings.user_id.in_(user_ids)),
            )
        )
    )


#: A row's values and locks (``SyncSettings.values``, ``SyncSettings.locks``).
Stored = tuple[dict[str, Any], dict[str, Any]]


def team_and_user_stored(
    session: Session, team_id: int, user_id: int
) -> tuple[Stored | None, Stored | None]:
    """The team's and the user's settings as stored in the database, no row loaded (what
    every sent email reads): only for a session that has not changed either row."""
    team: Stored | None = None
    user: Stored | None = None
    for row_user_id, values, locks in session.execute(
        _TEAM_AND_USER_STORED, {"team_id": team_id, "user_id": user_id}
    ):
        if row_user_id is None:
            team = team or (values, locks)
        elif row_user_id == user_id:
            user = user or (values, locks)
    return team, user


_SYNC_SETTINGS = cast(Table, SyncSettings.__table__)
# Built once, on the table (a Core statement: no ORM compilation).
_TEAM_AND_USER_STORED = select(
    _SYNC_SETTINGS.c.user_id, _SYNC_SETTINGS.c["values"], _SYNC_SETTINGS.c.locks
).where(
    _SYNC_SETTINGS.c.team_id == bindparam("team_id"),
    or_(_SYNC_SETTINGS.c.user_id.is_(None), _SYNC_SETTINGS.c.user_id == bindparam("user_id")),
)


def settings_row_for_update(
    session: Session, team_id: int, user_id: int | None, *, now: datetime
) -> SyncSettings:
    row = settings_row(session, team_id, user_id)
    if row is None:
        row = SyncSettings(team_id=team_id, user_id=user_id, values={}, locks={}, updated_at=now)
        session.add(row)
        session.flush()
    return row


def user_rows(session: Session, team_id: int) -> list[SyncSettings]:
    return list(
        session.scalars(
            select(SyncSettings).where(
                SyncSettings.team_id == team_id, SyncSettings.user_id.is_not(None)
            )
        )
    )
