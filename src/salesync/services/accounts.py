"""Teams, users and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from salesync.domain.addresses import address_problem
from salesync.domain.languages import (
    AUTOMATIC,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    supported_language,
)
from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput
from salesync.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    Argon2Hasher,
    PasswordHasher,
)
from salesync.store import accounts
from salesync.store.tables import ApiToken, Role, Team, User

DEFAULT_TEAM_NAME = "Everyone"


def validate_email(address: str, *, field: str = "email") -> str:
    """``address`` without surrounding blanks, if salesync can send to it (one rule for
    people, users and recipients); InvalidInput naming ``field`` otherwise."""
    address = address.strip()
    problem = address_problem(address)
    if problem is not None:
        raise InvalidInput(
            tr("{address} {problem}", address=repr(address), problem=problem), field=field
        )
    return address


def validate_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            tr("{name} is not an IANA time zone", name=repr(name)), field="time_zone"
        ) from exc
    return name


#: Longest name a user may have (the column's size).
NAME_MAX_LENGTH = 200


def validate_language(tag: str, *, field: str = "language", automatic: bool = True) -> str:
    """A language salesync is shown in, as its tag (``de-AT`` → ``de``, ``zh-TW`` →
    ``zh-Hant``), or "" for automatic (the browser's language, then the team's) when
    ``automatic``; InvalidInput naming ``field`` otherwise."""
    cleaned = tag.strip()
    if not cleaned and automatic:
        return AUTOMATIC
    language = supported_language(cleaned)
    if language is None:
        choices = ", ".join(LANGUAGES)
        if automatic:
            raise InvalidInput(
                tr(
                    "“{tag}” is not a language salesync is shown in: choose one of {choices}, "
                    "or nothing to follow the browser",
                    tag=cleaned,
                    choices=choices,
                ),
                field=field,
            )
        raise InvalidInput(
            tr(
                "“{tag}” is not a language salesync is shown in: choose one of {choices}",
                tag=cleaned,
                choices=choices,
            ),
            field=field,
        )
    return language


def validate_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput(tr("a name is needed"), field="name")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidInput(
            tr("is longer than {name_max_length} characters", name_max_length=NAME_MAX_LENGTH),
            field="name",
        )
    if any(unicodedata.category(c) == "Cc" for c in cleaned):
        raise InvalidInput(tr("contains control characters"), field="name")
    return cleaned


def update_profile(session: Session, user_id: int, changes: Mapping[str, str]) -> User:
    """Change the user's own name, time zone or language; the others stay.

    Takes effect at once: Command Center days and the ActivityDate of Tasks logged from now
    on are computed in the user's time zone when they are needed, never copied.
    """
    cleaners: dict[str, Callable[[str], str]] = {
        "name": validate_name,
        "time_zone": validate_time_zone,
        "language": validate_language,
    }
    cleaned = {}
    for field, value in changes.items():
        if field not in cleaners:
            raise InvalidInput(tr("is not a field of the profile"), field=field)
        cleaned[field] = cleaners[field](value)
    user = session.get(User, user_id)
    if user is None:
        raise InvalidInput(tr("user {user_id} does not exist", user_id=user_id), field="id")
    for field, value in cleaned.items():
        setattr(user, field, value)
    session.flush()
    return user


def team_language(session: Session, team_id: int) -> str:
    """The team's default language (``en`` for a team that does not exist)."""
    team = session.get(Team, team_id)
    return team.default_language if team is not None else DEFAULT_LANGUAGE


def set_team_language(session: Session, team_id: int, language: str) -> Team:
    """The language of the team's members who chose none and whose browser asks for none
    salesync is shown in."""
    cleaned = validate_language(language, field="default_language", automatic=False)
    team = session.get(Team, team_id)
    if team is None:
        raise InvalidInput(f"team {team_id} does not exist", field="team_id")
    team.default_language = cleaned
    session.flush()
    return team


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    password: str
    role: Role = Role.REP
    time_zone: str = "UTC"


def add_user(
    session: Session,
    new: NewUser,
    *,
    now: datetime,
    team_id: int | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """Create a user in ``team_id``, or in the first team (the first user creates it)."""
    email = validate_email(new.email)
    validate_time_zone(new.time_zone)
    if len(new.password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            tr(
                "the password needs at least {min_password_length} characters",
                min_password_length=MIN_PASSWORD_LENGTH,
            ),
            field="password",
        )
    if len(new.password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            tr(
                "the password can have at most {max_password_length} characters",
                max_password_length=MAX_PASSWORD_LENGTH,
            ),
            field="password",
        )
    if accounts.user_by_email(session, email) is not None:
        raise Conflict(tr("a user with the email {email} already exists", email=email))
    team = session.get(Team, team_id) if team_id is not None else accounts.first_team(session)
    if team_id is not None and team is None:
        raise InvalidInput(tr("team {team_id} does not exist", team_id=team_id), field="team_id")
    if team is None:
        team = Team(name=DEFAULT_TEAM_NAME, created_at=now)
        session.add(team)
        session.flush()
    user = User(
        team_id=team.id,
        email=email,
        name=new.name.strip() or email.split("@")[0],
        role=new.role,
        time_zone=new.time_zone,
        password_hash=(hasher or Argon2Hasher()).hash(new.password),
        is_active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session, email: str, password: str, *, hasher: PasswordHasher | None = None
) -> User | None:
    """The active user with this email and password (no throttling: see services.sign_in)."""
    user = accounts.user_by_email(session, email)
    if user is None or not user.is_active:
        return None
    if not (hasher or Argon2Hasher()).verify(user.password_hash, password):
        return None
    return user


#: How precisely an API token's "last used" time is kept.
TOKEN_USE_PRECISION = timedelta(minutes=1)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: User, name: str, *, now: datetime) -> str:
    """Create an API token and return it; only its hash is kept, so it is shown once."""
    token = "ssk_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_sha256=_sha256(token), created_at=now))
    session.flush()
    return token


def user_for_api_token(session: Session, token: str, *, now: datetime) -> User | None:
    found = accounts.api_token_with_user(session, _sha256(token))
    if found is None:
        return None
    row, user = found
    if not user.is_active:
        return None
    # Kept to the minute: a write (and its commit) per API request would halve ingest speed.
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_PRECISION:
        row.last_used_at = now
    return user
