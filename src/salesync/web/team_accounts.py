"""Account use cases of the web app: sign-in, callers, team users and API tokens.

Each function owns its transaction. They build on ``services.accounts``; the few queries
that module lacks (a user's tokens) live here until it grows them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from salesync.runtime import Runtime
from salesync.services import accounts
from salesync.store import accounts as accounts_store
from salesync.store import web_sessions
from salesync.store.db import unit_of_work
from salesync.store.tables import ApiToken, Role, User

MAX_TOKEN_NAME_LENGTH = 100


def _with_team(user: User | None) -> User | None:
    """Load the user's team while the session is open: callers get a detached user and may
    still read ``user.team``."""
    if user is not None:
        _ = user.team
    return user


def user_for_token(runtime: Runtime, token: str) -> User | None:
    """The active user owning an unrevoked API token (records when it was last used)."""
    with unit_of_work(runtime.sessions) as session:
        return _with_team(accounts.user_for_api_token(session, token, now=runtime.clock.now()))


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied(tr("only admins can manage the team's users"))


def team_users(runtime: Runtime, actor: User) -> list[User]:
    _require_admin(actor)
    with unit_of_work(runtime.sessions) as session:
        return accounts_store.team_users(session, actor.team_id)


def add_team_user(runtime: Runtime, actor: User, new: accounts.NewUser) -> User:
    """Add a user to the admin's team. Raises InvalidInput or Conflict (email taken)."""
    _require_admin(actor)
    with unit_of_work(runtime.sessions) as session:
        user = accounts.add_user(
            session, new, now=runtime.clock.now(), hasher=runtime.password_hasher
        )
        # add_user joins the first team; a user added by an admin joins that admin's team.
        user.team_id = actor.team_id
        return user


def deactivate_user(runtime: Runtime, actor: User, user_id: int) -> User:
    """Stop a teammate from signing in or using API tokens; their data stays."""
    _require_admin(actor)
    with unit_of_work(runtime.sessions) as session:
        user = accounts_store.user_by_id(session, user_id)
        if user is None or user.team_id != actor.team_id:
            raise NotFound(tr("user {user_id} does not exist", user_id=user_id))
        if user.id == actor.id:
            raise Conflict(tr("you cannot deactivate your own account"))
        user.is_active = False
        web_sessions.delete_user_sessions(session, user.id)  # signed out everywhere at once
        return user


def list_tokens(runtime: Runtime, actor: User) -> list[ApiToken]:
    """The actor's API tokens, revoked ones included, oldest first (never the secrets)."""
    query = select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id)
    with unit_of_work(runtime.sessions) as session:
        return list(session.scalars(query))


@dataclass(frozen=True)
class NewToken:
    record: ApiToken
    #: The token itself: shown once, never stored.
    secret: str


def create_token(runtime: Runtime, actor: User, name: str) -> NewToken:
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME_LENGTH:
        raise InvalidInput(
            tr(
                "give the token a name of 1 to {max_token_name_length} characters",
                max_token_name_length=MAX_TOKEN_NAME_LENGTH,
            ),
            field="name",
        )
    with unit_of_work(runtime.sessions) as session:
        secret = accounts.create_api_token(session, actor, name, now=runtime.clock.now())
        record = accounts_store.api_token_by_hash(
            session, hashlib.sha256(secret.encode()).hexdigest()
        )
        assert record is not None
        return NewToken(record, secret)


def revoke_token(runtime: Runtime, actor: User, token_id: int) -> None:
    """Revoke one of the actor's tokens; revoking twice is harmless."""
    with unit_of_work(runtime.sessions) as session:
        record = session.get(ApiToken, token_id)
        if record is None or record.user_id != actor.id:
            raise NotFound(tr("API token {token_id} does not exist", token_id=token_id))
        if record.revoked_at is None:
            record.revoked_at = runtime.clock.now()
