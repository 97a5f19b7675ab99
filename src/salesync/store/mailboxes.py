"""Queries for mailbox connections, the team's mailbox rules and the messages already handled.

Mailboxes are work items like outbox rows: a worker leases due mailboxes with one statement
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite serialises writers), and a dead worker's
lease expires so another worker takes its mailboxes over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from salesync.store.tables import (
    MailboxAccount,
    MailboxMessage,
    MailboxTeamSettings,
    SentEmail,
)


def team_settings(session: Session, team_id: int) -> MailboxTeamSettings | None:
    return session.get(MailboxTeamSettings, team_id)


def account_for_user(session: Session, user_id: int) -> MailboxAccount | None:
    return session.scalars(select(MailboxAccount).where(MailboxAccount.user_id == user_id)).first()


def _claimable(now: datetime) -> object:
    due = and_(
        MailboxAccount.enabled.is_(True),
        MailboxAccount.next_sync_at <= now,
        or_(MailboxAccount.lease_owner.is_(None), MailboxAccount.lease_expires_at < now),
    )
    return due


def claim(
    session: Session, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[int]:
    """Lease up to ``limit`` due mailboxes to ``worker_id``; returns their ids."""
    candidates = (
        select(MailboxAccount.id)
        .where(_claimable(now))  # type: ignore[arg-type]
        .order_by(MailboxAccount.next_sync_at, MailboxAccount.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    session.execute(
        update(MailboxAccount)
        .where(MailboxAccount.id.in_(ids), _claimable(now))  # type: ignore[arg-type]
        .values(lease_owner=worker_id, lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(MailboxAccount.id).where(
                MailboxAccount.id.in_(ids), MailboxAccount.lease_owner == worker_id
            )
        )
    )


def holds_lease(session: Session, mailbox_id: int, worker_id: str, now: datetime) -> bool:
    """True while ``worker_id`` still owns the mailbox (checked before every commit)."""
    row = session.get(MailboxAccount, mailbox_id, with_for_update=True)
    return (
        row is not None
        and row.lease_owner == worker_id
        and row.lease_expires_at is not None
        and row.lease_expires_at >= now
    )


def release(session: Session, mailbox_id: int, worker_id: str, *, next_sync_at: datetime) -> None:
    session.execute(
        update(MailboxAccount)
        .where(MailboxAccount.id == mailbox_id, MailboxAccount.lease_owner == worker_id)
        .values(lease_owner=None, lease_expires_at=None, next_sync_at=next_sync_at)
        .execution_options(synchronize_session=False)
    )


def seen_keys(session: Session, mailbox_id: int, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    rows = session.scalars(
        select(MailboxMessage.message_key).where(
            MailboxMessage.mailbox_id == mailbox_id,
            MailboxMessage.message_key.in_(sorted(set(keys))),
        )
    )
    return set(rows)


def record_seen(
    session: Session,
    mailbox_id: int,
    key: str,
    *,
    folder_role: str,
    outcome: str,
    email_id: int | None,
    now: datetime,
) -> None:
    session.add(
        MailboxMessage(
            mailbox_id=mailbox_id,
            message_key=key,
            folder_role=folder_role,
            outcome=outcome[:40],
            email_id=email_id,
            seen_at=now,
        )
    )


def emails_by_message_id(
    session: Session, team_id: int, message_ids: Sequence[str]
) -> dict[str, SentEmail]:
    if not message_ids:
        return {}
    rows = session.scalars(
        select(SentEmail).where(
            SentEmail.team_id == team_id, SentEmail.message_id.in_(sorted(set(message_ids)))
        )
    )
    return {row.message_id: row for row in rows}


def outcome_counts(session: Session, mailbox_id: int) -> dict[str, int]:
    rows = session.execute(
        select(MailboxMessage.outcome, func.count())
        .where(MailboxMessage.mailbox_id == mailbox_id)
        .group_by(MailboxMessage.outcome)
    )
    return {outcome: int(count) for outcome, count in rows}
