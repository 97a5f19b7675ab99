"""Users, teams and API tokens on every configured database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesync.errors import Conflict, InvalidInput
from salesync.services import accounts
from salesync.store.db import unit_of_work
from salesync.store.tables import ApiToken, Role, Team, User
from tests.support import FakeClock


def _new(email: str = "ada@example.com", **kwargs: object) -> accounts.NewUser:
    values: dict[str, object] = {"email": email, "name": "Ada", "password": "correct horse"}
    values.update(kwargs)
    return accounts.NewUser(**values)  # type: ignore[arg-type]


def test_first_user_creates_the_team_and_later_users_join_it(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with unit_of_work(sessions) as session:
        admin = accounts.add_user(session, _new(role=Role.ADMIN), now=clock.now())
        rep = accounts.add_user(session, _new("bob@example.com"), now=clock.now())
    with sessions() as session:
        assert session.scalar(select(Team.name)) == "Everyone"
        users = session.scalars(select(User).order_by(User.id)).all()
    assert [u.role for u in users] == [Role.ADMIN, Role.REP]
    assert admin.team_id == rep.team_id
    assert users[0].created_at == clock.now()
    assert users[0].password_hash.startswith("$argon2id$")


def test_duplicate_email_is_a_conflict_case_insensitively(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with unit_of_work(sessions) as session:
        accounts.add_user(session, _new(), now=clock.now())
    with pytest.raises(Conflict), unit_of_work(sessions) as session:
        accounts.add_user(session, _new("ADA@example.com"), now=clock.now())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a b@example.com"}, "email"),
        ({"password": "short"}, "password"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    sessions: sessionmaker[Session], clock: FakeClock, changes: dict[str, str], field: str
) -> None:
    new = _new(**changes)
    with pytest.raises(InvalidInput) as info, unit_of_work(sessions) as session:
        accounts.add_user(session, new, now=clock.now())
    assert info.value.field == field
    with sessions() as session:
        assert session.scalars(select(User)).all() == []


def test_authenticate_checks_the_password(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with unit_of_work(sessions) as session:
        accounts.add_user(session, _new(), now=clock.now())
    with sessions() as session:
        assert accounts.authenticate(session, "ada@example.com", "correct horse") is not None
        assert accounts.authenticate(session, "ada@example.com", "wrong horse") is None
        assert accounts.authenticate(session, "nobody@example.com", "correct horse") is None


def test_api_tokens_are_stored_hashed_and_resolve_to_their_user(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with unit_of_work(sessions) as session:
        user = accounts.add_user(session, _new(), now=clock.now())
        token = accounts.create_api_token(session, user, "script", now=clock.now())
    with unit_of_work(sessions) as session:
        stored = session.scalars(select(ApiToken.token_sha256)).one()
        assert token not in stored
        found = accounts.user_for_api_token(session, token, now=clock.now())
        assert found is not None and found.email == "ada@example.com"
        assert accounts.user_for_api_token(session, token + "x", now=clock.now()) is None
