"""Queries for browser sessions and refused sign-ins (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from salesync.store.tables import SignInFailure, WebSession


def session_by_hash(session: Session, token_sha256: str) -> WebSession | None:
    return session.scalars(
        select(WebSession).where(WebSession.token_sha256 == token_sha256)
    ).first()


def delete_session(session: Session, token_sha256: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_sha256 == token_sha256))


def delete_user_sessions(session: Session, user_id: int, *, keep_sha256: str | None = None) -> int:
    """End every session of the user (but ``keep_sha256``); returns how many ended."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_sha256 is not None:
        statement = statement.where(WebSession.token_sha256 != keep_sha256)
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def delete_expired(session: Session, *, idle_before: datetime, started_before: datetime) -> None:
    """Drop sessions idle since ``idle_before`` or started by ``started_before`` (ended ones)."""
    session.execute(
        delete(WebSession).where(
            (WebSession.last_seen_at <= idle_before) | (WebSession.created_at <= started_before)
        )
    )


def failures_since(
    session: Session, *, account: str, client_address: str, since: datetime, other_than: int
) -> tuple[list[datetime], list[datetime]]:
    """Refused (or still running) sign-ins after ``since`` but attempt ``other_than``:
    (for the account, from the address)."""
    rows = session.execute(
        select(SignInFailure.account, SignInFailure.client_address, SignInFailure.at).where(
            SignInFailure.at > since,
            SignInFailure.id != other_than,
            (SignInFailure.account == account) | (SignInFailure.client_address == client_address),
        )
    ).all()
    by_account = [row.at for row in rows if row.account == account]
    by_address = [row.at for row in rows if row.client_address == client_address]
    return by_account, by_address


def add_attempt(session: Session, *, account: str, client_address: str, at: datetime) -> int:
    """Record a sign-in attempt as refused until it proves good; returns its id."""
    row = SignInFailure(account=account, client_address=client_address, at=at)
    session.add(row)
    session.flush()
    return row.id


def delete_attempt(session: Session, attempt_id: int) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.id == attempt_id))


def forget_failures(session: Session, *, account: str | None = None, before: datetime) -> None:
    """Drop the account's failures (after a good sign-in), and everyone's older than ``before``."""
    if account is not None:
        session.execute(delete(SignInFailure).where(SignInFailure.account == account))
    session.execute(delete(SignInFailure).where(SignInFailure.at < before))
