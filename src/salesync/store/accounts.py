"""Queries for teams, users and API tokens (never commits: the caller owns the transaction)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, contains_eager

from salesync.store.tables import ApiToken, Team, User


def first_team(session: Session) -> Team | None:
    return session.scalars(select(Team).order_by(Team.id).limit(1)).first()


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def team_users(session: Session, team_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.team_id == team_id).order_by(User.id)))


def api_token_by_hash(session: Session, token_sha256: str) -> ApiToken | None:
    return session.scalars(
        select(ApiToken).where(ApiToken.token_sha256 == token_sha256, ApiToken.revoked_at.is_(None))
    ).first()


def api_token_with_user(session: Session, token_sha256: str) -> tuple[ApiToken, User] | None:
    """An unrevoked token with its user and the user's team, in one statement: every API
    request runs it, and three lookups (token, user, team) cost more than the request's own
    work."""
    row = session.execute(_TOKEN_WITH_USER, {"token_sha256": token_sha256}).first()
    return (row[0], row[1]) if row is not None else None


# Built once: building a statement and its cache key cost more than running it here.
_TOKEN_WITH_USER = (
    select(ApiToken, User)
    .join(User, User.id == ApiToken.user_id)
    .join(User.team)
    .options(contains_eager(User.team))
    .where(ApiToken.token_sha256 == bindparam("token_sha256"), ApiToken.revoked_at.is_(None))
    .limit(1)
)
