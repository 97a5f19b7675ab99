"""Queries for Diagnostics entries: one open entry per item and reason, counted on repeat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from salesync.store.tables import DiagnosticEntry


def record(
    session: Session,
    *,
    team_id: int,
    user_id: int | None,
    item_type: str,
    item_id: int | None,
    code: str,
    category: str,
    message: str,
    now: datetime,
    outbox_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> DiagnosticEntry:
    """Open an entry, or count one more occurrence of the same open entry."""
    existing = session.scalars(
        select(DiagnosticEntry).where(
            DiagnosticEntry.team_id == team_id,
            DiagnosticEntry.item_type == item_type,
            DiagnosticEntry.item_id == item_id
            if item_id is not None
            else DiagnosticEntry.item_id.is_(None),
            DiagnosticEntry.user_id == user_id
            if user_id is not None
            else DiagnosticEntry.user_id.is_(None),
            DiagnosticEntry.code == code,
            DiagnosticEntry.resolved_at.is_(None),
        )
    ).first()
    if existing is not None:
        existing.occurrences += 1
        existing.last_seen_at = now
        existing.message = message
        existing.outbox_id = outbox_id or existing.outbox_id
        if detail:
            existing.detail = {**existing.detail, **detail}
        return existing
    entry = DiagnosticEntry(
        team_id=team_id,
        user_id=user_id,
        item_type=item_type,
        item_id=item_id,
        outbox_id=outbox_id,
        code=code,
        category=category,
        message=message,
        detail=detail or {},
        occurrences=1,
        first_seen_at=now,
        last_seen_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def resolve_item(session: Session, item_type: str, item_id: int, *, now: datetime) -> int:
    """Close every open entry of an item (it synced after all)."""
    result = session.execute(
        update(DiagnosticEntry)
        .where(
            DiagnosticEntry.item_type == item_type,
            DiagnosticEntry.item_id == item_id,
            DiagnosticEntry.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def resolve_code_for_user(session: Session, user_id: int, code: str, *, now: datetime) -> int:
    result = session.execute(
        update(DiagnosticEntry)
        .where(
            DiagnosticEntry.user_id == user_id,
            DiagnosticEntry.code == code,
            DiagnosticEntry.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def open_entries(
    session: Session, team_id: int, *, user_ids: Sequence[int] | None = None
) -> list[DiagnosticEntry]:
    query = select(DiagnosticEntry).where(
        DiagnosticEntry.team_id == team_id, DiagnosticEntry.resolved_at.is_(None)
    )
    if user_ids is not None:
        query = query.where(DiagnosticEntry.user_id.in_(list(user_ids)))
    return list(session.scalars(query.order_by(DiagnosticEntry.last_seen_at.desc())))


def open_counts(session: Session, team_id: int) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(DiagnosticEntry.category, DiagnosticEntry.code, func.count())
        .where(DiagnosticEntry.team_id == team_id, DiagnosticEntry.resolved_at.is_(None))
        .group_by(DiagnosticEntry.category, DiagnosticEntry.code)
    )
    return {(category, code): int(count) for category, code, count in rows}


def entries_for_item(session: Session, item_type: str, item_id: int) -> list[DiagnosticEntry]:
    return list(
        session.scalars(
            select(DiagnosticEntry)
            .where(DiagnosticEntry.item_type == item_type, DiagnosticEntry.item_id == item_id)
            .order_by(DiagnosticEntry.id)
        )
    )


def resolve_items(
    session: Session, item_type: str, item_ids: Sequence[int], *, now: datetime
) -> int:
    """Close every open entry of these items at once (a batch synced)."""
    if not item_ids:
        return 0
    result = session.execute(
        update(DiagnosticEntry)
        .where(
            DiagnosticEntry.item_type == item_type,
            DiagnosticEntry.item_id.in_(sorted(set(item_ids))),
            DiagnosticEntry.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
