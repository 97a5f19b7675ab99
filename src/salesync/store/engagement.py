"""Queries for templates, engagement rows, opt-outs and the team's engagement settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync.store.tables import (
    EmailEngagement,
    EmailTemplate,
    EngagementSettings,
    OptOut,
    OutboxItem,
    OutboxStatus,
)


def settings_of(session: Session, team_id: int, *, now: datetime) -> EngagementSettings:
    """The team's row, created with the defaults on first use."""
    row = session.get(EngagementSettings, team_id)
    if row is not None:
        return row
    try:
        # A savepoint: the worker and a request can both be first; the loser reads the winner's.
        with session.begin_nested():
            row = EngagementSettings(team_id=team_id, updated_at=now)
            session.add(row)
    except IntegrityError:
        found = session.get(EngagementSettings, team_id, populate_existing=True)
        if found is None:
            raise
        return found
    return row


def templates_for(session: Session, team_id: int, user_id: int) -> list[EmailTemplate]:
    """The team's templates and the user's own, team ones first, by name."""
    rows = session.scalars(
        select(EmailTemplate)
        .where(
            EmailTemplate.team_id == team_id,
            (EmailTemplate.owner_id.is_(None)) | (EmailTemplate.owner_id == user_id),
        )
        .order_by(EmailTemplate.owner_id.is_not(None), func.lower(EmailTemplate.name))
    )
    return list(rows)


def engagement_of(session: Session, email_ids: Sequence[int]) -> dict[int, EmailEngagement]:
    if not email_ids:
        return {}
    rows = session.scalars(
        select(EmailEngagement).where(EmailEngagement.email_id.in_(list(email_ids)))
    )
    return {row.email_id: row for row in rows}


def opted_out(session: Session, team_id: int, addresses: Sequence[str]) -> dict[str, OptOut]:
    """Opt-outs among ``addresses``, by lower-case address."""
    lowered = sorted({a.lower() for a in addresses})
    if not lowered:
        return {}
    rows = session.scalars(
        select(OptOut).where(OptOut.team_id == team_id, func.lower(OptOut.address).in_(lowered))
    )
    return {row.address.lower(): row for row in rows}


def opted_out_sources(
    session: Session, team_id: int, addresses: Sequence[str]
) -> dict[str, tuple[str, datetime]]:
    """:func:`opted_out` as (source, created_at) by lower-case address, no row loaded: every
    sent email reads it."""
    lowered = sorted({a.lower() for a in addresses})
    if not lowered:
        return {}
    rows = session.execute(_OPT_OUT_SOURCES, {"team_id": team_id, "lowered": lowered})
    return {address.lower(): (source, created_at) for address, source, created_at in rows}


def tracking_choice(session: Session, team_id: int) -> tuple[bool, bool] | None:
    """The team's (tracking_enabled, track_by_default), None while it has no row (see
    :func:`settings_of`), no row loaded: every sent email reads it."""
    row = session.execute(_TRACKING_CHOICE, {"team_id": team_id}).first()
    return (row[0], row[1]) if row is not None else None


_OPT_OUTS = cast(Table, OptOut.__table__)
_ENGAGEMENT_SETTINGS = cast(Table, EngagementSettings.__table__)
# Built once, on the tables (Core statements: no ORM compilation).
_OPT_OUT_SOURCES = select(_OPT_OUTS.c.address, _OPT_OUTS.c.source, _OPT_OUTS.c.created_at).where(
    _OPT_OUTS.c.team_id == bindparam("team_id"),
    func.lower(_OPT_OUTS.c.address).in_(bindparam("lowered", expanding=True)),
)
_TRACKING_CHOICE = select(
    _ENGAGEMENT_SETTINGS.c.tracking_enabled, _ENGAGEMENT_SETTINGS.c.track_by_default
).where(_ENGAGEMENT_SETTINGS.c.team_id == bindparam("team_id"))


def pending_item(
    session: Session, kind: str, subject_type: str, subject_id: int
) -> OutboxItem | None:
    """A queued (not yet claimed) item of ``kind`` for the subject, to coalesce into."""
    return session.scalars(
        select(OutboxItem).where(
            OutboxItem.kind == kind,
            OutboxItem.subject_type == subject_type,
            OutboxItem.subject_id == subject_id,
            OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.PAUSED]),
        )
    ).first()
