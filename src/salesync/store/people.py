"""Queries for a team's people (never commits: the caller owns the transaction)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from salesync.store.tables import Call, Person

#: Columns a free-text search looks into (names, email, company and the Salesforce ids).
_SEARCHED_COLUMNS = (
    Person.first_name,
    Person.last_name,
    Person.email,
    Person.company,
    Person.sf_lead_id,
    Person.sf_contact_id,
    Person.sf_account_id,
    Person.sf_opportunity_id,
)


def person_in_team(session: Session, team_id: int, person_id: int) -> Person | None:
    """The person with this id, or None when it does not exist or belongs to another team."""
    return session.scalars(
        select(Person).where(Person.id == person_id, Person.team_id == team_id)
    ).first()


def person_by_email(session: Session, team_id: int, email: str) -> Person | None:
    """The team's person with this email, compared case-insensitively (oldest first)."""
    return session.scalars(
        select(Person)
        .where(Person.team_id == team_id, func.lower(Person.email) == email.lower())
        .order_by(Person.id)
        .limit(1)
    ).first()


def _search_filter(team_id: int, search: str) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = Person.team_id == team_id
    term = search.strip().lower()
    if term:
        matches = [
            func.lower(column).contains(term, autoescape=True) for column in _SEARCHED_COLUMNS
        ]
        condition = condition & or_(*matches)
    return condition


def search_people(
    session: Session, team_id: int, search: str, *, limit: int, offset: int
) -> list[Person]:
    """One page of the team's people matching ``search``, ordered by name then id."""
    query = (
        select(Person)
        .where(_search_filter(team_id, search))
        .order_by(func.lower(Person.last_name), func.lower(Person.first_name), Person.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def count_people(session: Session, team_id: int, search: str) -> int:
    """How many of the team's people match ``search``."""
    query = select(func.count()).select_from(Person).where(_search_filter(team_id, search))
    return int(session.scalar(query) or 0)


def count_calls_of(session: Session, person_id: int) -> int:
    """How many logged calls point at this person (deleting the person would delete them)."""
    query = select(func.count()).select_from(Call).where(Call.person_id == person_id)
    return int(session.scalar(query) or 0)


def add_person(session: Session, person: Person) -> Person:
    session.add(person)
    session.flush()
    return person


def delete_person(session: Session, person: Person) -> None:
    session.delete(person)
    session.flush()
