"""Queries for Salesforce connections and the org API usage they report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from salesync.store.tables import (
    ApiCallCount,
    Call,
    ConnectionPurpose,
    ConnectionStatus,
    OrgApiUsage,
    ReminderTask,
    SalesforceConnection,
    SalesforceLink,
    SentEmail,
)


def for_user(session: Session, user_id: int) -> SalesforceConnection | None:
    return session.scalars(
        select(SalesforceConnection).where(SalesforceConnection.user_id == user_id)
    ).first()


def for_users(session: Session, user_ids: Sequence[int]) -> dict[int, SalesforceConnection]:
    """:func:`for_user` of several users, in one statement (a user has one at most)."""
    if not user_ids:
        return {}
    rows = session.scalars(
        select(SalesforceConnection).where(SalesforceConnection.user_id.in_(user_ids))
    )
    return {row.user_id: row for row in rows if row.user_id is not None}


def by_id(session: Session, connection_id: int) -> SalesforceConnection | None:
    return session.get(SalesforceConnection, connection_id)


def store_org_profile(session: Session, connection_id: int, profile: dict[str, Any] | None) -> None:
    """Keep ``profile`` as the connection's org profile (None: read the org again next time).

    One UPDATE by id, without loading the row: a rep's first batch stores the profile it
    discovered, and nothing else of the row changes.
    """
    session.execute(
        update(SalesforceConnection)
        .where(SalesforceConnection.id == connection_id)
        .values(org_profile=profile)
        .execution_options(synchronize_session=False)
    )


def by_id_for_update(session: Session, connection_id: int) -> SalesforceConnection | None:
    """The row, write-locked until the transaction ends (PostgreSQL ``FOR UPDATE``; on
    SQLite the touch below takes the database's write lock, which serialises writers)."""
    session.execute(
        update(SalesforceConnection)
        .where(SalesforceConnection.id == connection_id)
        .values(updated_at=SalesforceConnection.updated_at)
        .execution_options(synchronize_session=False)
    )
    return session.scalars(
        select(SalesforceConnection)
        .where(SalesforceConnection.id == connection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def team_sync_connection(session: Session, team_id: int) -> SalesforceConnection | None:
    return session.scalars(
        select(SalesforceConnection).where(
            SalesforceConnection.team_id == team_id,
            SalesforceConnection.purpose == ConnectionPurpose.TEAM_SYNC,
        )
    ).first()


def connected_for_team(session: Session, team_id: int) -> list[SalesforceConnection]:
    return list(
        session.scalars(
            select(SalesforceConnection)
            .where(
                SalesforceConnection.team_id == team_id,
                SalesforceConnection.status == ConnectionStatus.CONNECTED,
            )
            .order_by(SalesforceConnection.id)
        )
    )


def _insert(session: Session, table: Any) -> Any:
    """An INSERT that can say ON CONFLICT, in the session's database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def record_usage(session: Session, org_id: str, used: int, maximum: int, *, now: datetime) -> None:
    """Keep the org's latest reported usage; one upsert, safe with many workers at once."""
    table = cast(Table, OrgApiUsage.__table__)
    statement = _insert(session, table).values(
        org_id=org_id, used=used, max=maximum, observed_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.org_id],
            set_={
                "used": statement.excluded.used,
                "max": statement.excluded.max,
                "observed_at": statement.excluded.observed_at,
            },
            where=table.c.observed_at <= statement.excluded.observed_at,
        )
    )


def usage(session: Session, org_id: str) -> OrgApiUsage | None:
    return session.get(OrgApiUsage, org_id)


def count_calls(session: Session, org_id: str, calls: int, *, now: datetime) -> None:
    """Add ``calls`` to this hour's count of our own API calls on the org.

    One upsert that adds in the database: reps of one org are logged concurrently, and a
    read-then-write would lose counts or collide on the (org, hour) key.
    """
    hour = now.replace(minute=0, second=0, microsecond=0)
    table = cast(Table, ApiCallCount.__table__)
    statement = _insert(session, table).values(org_id=org_id, hour=hour, calls=calls)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.org_id, table.c.hour],
            set_={"calls": table.c.calls + statement.excluded.calls},
        )
    )


def calls_in_last_day(session: Session, org_id: str, *, now: datetime) -> int:
    since = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    total = session.scalar(
        select(func.coalesce(func.sum(ApiCallCount.calls), 0)).where(
            ApiCallCount.org_id == org_id, ApiCallCount.hour >= since
        )
    )
    return int(total or 0)


def drop_user_links(session: Session, user_id: int, org_id: str) -> int:
    """Forget the Salesforce ids of one user's emails, calls and tasks in an org they left.

    Other reps of the team may still work in that org, so only this user's links go.
    """
    owned = {
        "email": select(SentEmail.id).where(SentEmail.sender_id == user_id),
        "call": select(Call.id).where(Call.user_id == user_id),
        "task": select(ReminderTask.id).where(ReminderTask.assignee_id == user_id),
    }
    dropped = 0
    for local_type, ids in owned.items():
        result = session.execute(
            delete(SalesforceLink)
            .where(
                SalesforceLink.org_id == org_id,
                SalesforceLink.local_type == local_type,
                SalesforceLink.local_id.in_(ids),
            )
            .execution_options(synchronize_session=False)
        )
        dropped += int(result.rowcount)  # type: ignore[attr-defined]
    return dropped
