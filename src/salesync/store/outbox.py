"""Queries for the outbox: enqueue with the change, claim with a lease, settle the outcome.

Claiming is one statement on both databases: ``UPDATE … WHERE id IN (SELECT … LIMIT n)``.
On PostgreSQL the inner SELECT adds ``FOR UPDATE SKIP LOCKED`` so that workers on several
machines never wait for each other; SQLite serialises writers, so the plain statement is atomic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from salesync.store.tables import OutboxItem, OutboxStatus


def enqueue(
    session: Session,
    *,
    team_id: int,
    user_id: int | None,
    kind: str,
    subject_type: str,
    subject_id: int,
    payload: dict[str, Any] | None = None,
    now: datetime,
    available_at: datetime | None = None,
    paused: bool = False,
) -> OutboxItem:
    """Add work in the caller's transaction, so it commits (or not) with the change itself."""
    item = OutboxItem(
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload or {},
        status=OutboxStatus.PAUSED if paused else OutboxStatus.PENDING,
        attempts=0,
        available_at=available_at or now,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    return item


def _claimable(now: datetime, kinds: Sequence[str] | None) -> Any:
    ready = and_(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.available_at <= now)
    # A worker that died mid-item left its lease behind; once it expires anyone may take it.
    abandoned = and_(OutboxItem.status == OutboxStatus.IN_FLIGHT, OutboxItem.lease_expires_at < now)
    condition = or_(ready, abandoned)
    if kinds:
        condition = and_(condition, OutboxItem.kind.in_(list(kinds)))
    return condition


def claim(
    session: Session,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Sequence[str] | None = None,
) -> list[OutboxItem]:
    """Lease up to ``limit`` ready items to ``worker_id``; returns them in id order."""
    candidates = (
        select(OutboxItem.id)
        .where(_claimable(now, kinds))
        .order_by(OutboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(ids), _claimable(now, kinds))
        .values(
            status=OutboxStatus.IN_FLIGHT,
            lease_owner=worker_id,
            lease_expires_at=now + lease,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.id.in_(ids), OutboxItem.lease_owner == worker_id)
        .order_by(OutboxItem.id)
        .execution_options(populate_existing=True)
    )
    return list(claimed)


def mark_done(item: OutboxItem, *, now: datetime) -> None:
    item.status = OutboxStatus.DONE
    item.lease_owner = None
    item.lease_expires_at = None
    item.last_error_code = None
    item.last_error_message = None
    item.updated_at = now


def reschedule(
    item: OutboxItem, *, now: datetime, at: datetime, code: str | None, message: str | None
) -> None:
    """Put the item back in the queue for a later attempt, keeping why the last one failed."""
    item.status = OutboxStatus.PENDING
    item.attempts += 1
    item.available_at = at
    item.first_failed_at = item.first_failed_at or now
    item.lease_owner = None
    item.lease_expires_at = None
    item.last_error_code = code
    item.last_error_message = message
    item.updated_at = now


def mark_failed(item: OutboxItem, *, now: datetime, code: str, message: str) -> None:
    """Stop retrying on its own; the item waits on Diagnostics for a fix and a Retry."""
    item.status = OutboxStatus.FAILED
    item.attempts += 1
    item.first_failed_at = item.first_failed_at or now
    item.lease_owner = None
    item.lease_expires_at = None
    item.last_error_code = code
    item.last_error_message = message
    item.updated_at = now


def pause_user(session: Session, user_id: int, *, now: datetime, reason: str) -> int:
    """Hold every queued item of a user (e.g. broken connection); nothing is dropped."""
    result = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.user_id == user_id,
            OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT]),
        )
        .values(
            status=OutboxStatus.PAUSED,
            lease_owner=None,
            lease_expires_at=None,
            last_error_message=reason,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def resume_user(session: Session, user_id: int, *, now: datetime) -> int:
    """Release a user's paused items (reconnect); they run at once."""
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.user_id == user_id, OutboxItem.status == OutboxStatus.PAUSED)
        .values(status=OutboxStatus.PENDING, available_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry_failed(session: Session, item_ids: Sequence[int], *, now: datetime) -> int:
    """Requeue failed items now (the Diagnostics Retry button)."""
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(list(item_ids)), OutboxItem.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, available_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def backlog(session: Session, team_id: int) -> dict[str, int]:
    """Counts by status for the Diagnostics backlog panel."""
    rows = session.execute(
        select(OutboxItem.status, func.count())
        .where(OutboxItem.team_id == team_id, OutboxItem.status != OutboxStatus.DONE)
        .group_by(OutboxItem.status)
    )
    return {status.value: int(count) for status, count in rows}


def next_available_at(session: Session) -> datetime | None:
    """When the earliest pending item becomes ready (lets an idle worker sleep just enough)."""
    return session.scalar(
        select(func.min(OutboxItem.available_at)).where(OutboxItem.status == OutboxStatus.PENDING)
    )


def items_by_id(session: Session, item_ids: Sequence[int]) -> dict[int, OutboxItem]:
    rows = session.scalars(select(OutboxItem).where(OutboxItem.id.in_(list(item_ids))))
    return {row.id: row for row in rows}
