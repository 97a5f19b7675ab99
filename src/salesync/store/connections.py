"""Queries for Salesforce connections and the org API usage they report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    OrgApiUsage,
    SalesforceConnection,
)


def for_user(session: Session, user_id: int) -> SalesforceConnection | None:
    return session.scalars(
        select(SalesforceConnection).where(SalesforceConnection.user_id == user_id)
    ).first()


def by_id(session: Session, connection_id: int) -> SalesforceConnection | None:
    return session.get(SalesforceConnection, connection_id)


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


def record_usage(session: Session, org_id: str, used: int, maximum: int, *, now: datetime) -> None:
    row = session.get(OrgApiUsage, org_id)
    if row is None:
        session.add(OrgApiUsage(org_id=org_id, used=used, max=maximum, observed_at=now))
    elif row.observed_at <= now:
        row.used, row.max, row.observed_at = used, maximum, now


def usage(session: Session, org_id: str) -> OrgApiUsage | None:
    return session.get(OrgApiUsage, org_id)
