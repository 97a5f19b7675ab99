"""Queries for sent emails, replies, calls and the people they concern."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, select
from sqlalchemy.orm import Session

from salesync.store.tables import (
    Call,
    CallChoice,
    EmailRecipient,
    Person,
    RecipientKind,
    SalesforceLink,
    SentEmail,
)


def person_in_team(session: Session, team_id: int, person_id: int) -> Person | None:
    person = session.get(Person, person_id)
    return person if person is not None and person.team_id == team_id else None


def people_by_email(session: Session, team_id: int, addresses: Sequence[str]) -> dict[str, Person]:
    """Team people by lower-cased address (the oldest wins when two share one)."""
    if not addresses:
        return {}
    rows = session.scalars(
        select(Person)
        .where(
            Person.team_id == team_id, func.lower(Person.email).in_([a.lower() for a in addresses])
        )
        .order_by(Person.id.desc())
    )
    return {row.email.lower(): row for row in rows if row.email}


def person_ids_by_email(session: Session, team_id: int, addresses: Sequence[str]) -> dict[str, int]:
    """:func:`people_by_email`, ids only (no Person loaded): what sending an email needs."""
    if not addresses:
        return {}
    rows = session.execute(
        _PERSON_IDS_BY_EMAIL, {"team_id": team_id, "lowered": [a.lower() for a in addresses]}
    )
    return {email.lower(): person_id for person_id, email in rows if email}


_PEOPLE = cast(Table, Person.__table__)
# Built once, on the table (a Core statement: no ORM compilation): every sent email runs it.
_PERSON_IDS_BY_EMAIL = (
    select(_PEOPLE.c.id, _PEOPLE.c.email)
    .where(
        _PEOPLE.c.team_id == bindparam("team_id"),
        func.lower(_PEOPLE.c.email).in_(bindparam("lowered", expanding=True)),
    )
    .order_by(_PEOPLE.c.id.desc())
)


def email_by_message_id(session: Session, team_id: int, message_id: str) -> SentEmail | None:
    return session.scalars(
        select(SentEmail).where(SentEmail.team_id == team_id, SentEmail.message_id == message_id)
    ).first()


def emails_by_message_ids(
    session: Session, team_ids: Sequence[int], message_ids: Sequence[str]
) -> dict[tuple[int, str], SentEmail]:
    """Emails by (team id, Message-ID), in one query: the emails replies answer."""
    if not message_ids:
        return {}
    rows = session.scalars(
        select(SentEmail).where(
            SentEmail.team_id.in_(sorted(set(team_ids))),
            SentEmail.message_id.in_(sorted(set(message_ids))),
        )
    )
    return {(row.team_id, row.message_id): row for row in rows if row.message_id}


@dataclass(frozen=True, slots=True)
class RecipientToLog:
    id: int
    address: str
    kind: RecipientKind
    person_id: int | None


@dataclass(frozen=True, slots=True)
class EmailToLog:
    """What logging reads of a sent email or reply: plain rows, not ORM objects (a worker
    reads a thousand at a time, and building mapped instances was a sixth of its CPU)."""

    id: int
    team_id: int
    from_address: str
    subject: str
    body_text: str
    in_reply_to: str | None
    is_reply: bool
    sent_at: datetime
    recipients: tuple[RecipientToLog, ...]


def emails_to_log(session: Session, email_ids: Sequence[int]) -> dict[int, EmailToLog]:
    """The emails with their recipients (in id order), in two queries."""
    if not email_ids:
        return {}
    wanted = sorted(set(email_ids))
    emails, recipients = SentEmail.__table__.c, EmailRecipient.__table__.c
    by_email: dict[int, list[RecipientToLog]] = defaultdict(list)
    for row in session.execute(
        select(
            recipients.email_id,
            recipients.id,
            recipients.address,
            recipients.kind,
            recipients.person_id,
        )
        .where(recipients.email_id.in_(wanted))
        .order_by(recipients.id)
    ):
        by_email[row.email_id].append(RecipientToLog(row.id, row.address, row.kind, row.person_id))
    return {
        row.id: EmailToLog(
            row.id,
            row.team_id,
            row.from_address,
            row.subject,
            row.body_text,
            row.in_reply_to,
            row.is_reply,
            row.sent_at,
            tuple(by_email.get(row.id, ())),
        )
        for row in session.execute(
            select(
                emails.id,
                emails.team_id,
                emails.from_address,
                emails.subject,
                emails.body_text,
                emails.in_reply_to,
                emails.is_reply,
                emails.sent_at,
            ).where(emails.id.in_(wanted))
        )
    }


def recipients_by_id(session: Session, recipient_ids: Sequence[int]) -> dict[int, EmailRecipient]:
    rows = session.scalars(select(EmailRecipient).where(EmailRecipient.id.in_(list(recipient_ids))))
    return {row.id: row for row in rows}


def calls_by_id(session: Session, call_ids: Sequence[int]) -> dict[int, Call]:
    if not call_ids:  # a batch of emails only: no query
        return {}
    return {row.id: row for row in session.scalars(select(Call).where(Call.id.in_(list(call_ids))))}


def people_by_id(session: Session, person_ids: Sequence[int]) -> dict[int, Person]:
    ids = [i for i in person_ids if i is not None]
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(Person).where(Person.id.in_(ids)))}


def call_choices(session: Session, team_id: int, kind: str) -> list[str]:
    return list(
        session.scalars(
            select(CallChoice.label)
            .where(CallChoice.team_id == team_id, CallChoice.kind == kind)
            .order_by(CallChoice.position, CallChoice.id)
        )
    )


def links_for(session: Session, local_type: str, local_id: int) -> list[SalesforceLink]:
    return list(
        session.scalars(
            select(SalesforceLink)
            .where(SalesforceLink.local_type == local_type, SalesforceLink.local_id == local_id)
            .order_by(SalesforceLink.id)
        )
    )


def existing_link(
    session: Session, local_type: str, local_id: int, target_key: str
) -> SalesforceLink | None:
    return session.scalars(
        select(SalesforceLink).where(
            SalesforceLink.local_type == local_type,
            SalesforceLink.local_id == local_id,
            SalesforceLink.target_key == target_key,
        )
    ).first()


def linked_keys(
    session: Session, local_type: str, local_ids: Sequence[int]
) -> set[tuple[int, str]]:
    """(local_id, target_key) of every Task already created for these activities."""
    if not local_ids:
        return set()
    rows = session.execute(linked_keys_query(local_type, local_ids))
    return {(local_id, key) for local_id, key in rows}


def linked_keys_query(local_type: str, local_ids: Sequence[int]) -> Select[int, str]:
    return select(SalesforceLink.local_id, SalesforceLink.target_key).where(
        SalesforceLink.local_type == local_type,
        SalesforceLink.local_id.in_(sorted(set(local_ids))),
    )
