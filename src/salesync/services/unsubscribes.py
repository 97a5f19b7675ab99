"""Unsubscribes (UNSUB-1..4): never email an opted-out person again, and tell Salesforce.

An opt-out is pushed at once to the team's opt-out field on the person's Lead and Contact,
whatever the rep's logging settings (UNSUB-2); the daily pull brings in opt-outs set in
Salesforce (UNSUB-3). Re-subscribes are never synced: removing an opt-out is a manual step on
both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from salesync.domain import tracking_tokens
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, NotFound
from salesync.runtime import Runtime
from salesync.services import engagement
from salesync.store import diagnostics, outbox
from salesync.store import engagement as store
from salesync.store.db import unit_of_work
from salesync.store.tables import EmailRecipient, OptOut, Person, SentEmail, User

#: Outbox kind of the push of one opt-out to Salesforce.
OPT_OUT_PUSH = "opt_out_push"
#: Diagnostics code for a person salesync cannot find in Salesforce (UNSUB-1).
NO_SALESFORCE_ID = "OPT_OUT_NO_SALESFORCE_ID"


def refuse_opted_out(
    session: Session, team_id: int, recipients: Sequence[tuple[str, int | None]]
) -> None:
    """Raise InvalidInput naming the first recipient who unsubscribed, and when."""
    found = store.opted_out_sources(session, team_id, [address for address, _ in recipients])
    for address, _ in recipients:
        row = found.get(address.lower())
        if row is not None:
            source, created_at = row
            when = created_at.date().isoformat()
            if source == "salesforce":
                text = tr(
                    "{address} unsubscribed in Salesforce on {when}; salesync will not email "
                    "them again.",
                    address=address,
                    when=when,
                )
            else:
                text = tr(
                    "{address} unsubscribed from your emails on {when}; salesync will not email "
                    "them again.",
                    address=address,
                    when=when,
                )
            raise InvalidInput(
                text,
                field="to",
            )


def opt_out(
    session: Session,
    *,
    team_id: int,
    address: str,
    person: Person | None,
    source: str,
    now: datetime,
    user_id: int | None,
    email_id: int | None = None,
) -> OptOut:
    """Record an opt-out once; unless it came from Salesforce, queue its push there."""
    existing = store.opted_out(session, team_id, [address]).get(address.lower())
    if existing is not None:
        return existing
    row = OptOut(
        team_id=team_id,
        person_id=person.id if person else None,
        address=address,
        source=source,
        email_id=email_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if source == "salesforce":
        return row
    if person is None or not (person.sf_contact_id or person.sf_lead_id):
        report_without_id(session, team_id, user_id, person, address, now=now)
        return row
    outbox.enqueue(
        session,
        team_id=team_id,
        user_id=user_id,
        kind=OPT_OUT_PUSH,
        subject_type="opt_out",
        subject_id=row.id,
        now=now,
    )
    return row


def report_without_id(
    session: Session,
    team_id: int,
    user_id: int | None,
    person: Person | None,
    address: str,
    *,
    now: datetime,
) -> None:
    diagnostics.record(
        session,
        team_id=team_id,
        user_id=user_id,
        item_type="person" if person else "opt_out",
        item_id=person.id if person else None,
        code=NO_SALESFORCE_ID,
        category="unmatched",
        message=(
            tr(
                "{address} unsubscribed, but has no Salesforce Lead or Contact ID, so the opt-out "
                "stays in salesync only.",
                address=address,
            )
        ),
        now=now,
        detail={"address": address},
    )


def recipient_of_token(runtime: Runtime, token_text: str) -> tuple[str, int] | None:
    """The address and email an unsubscribe token names, or None for a bad token."""
    token = tracking_tokens.verify(token_text, engagement.tracking_key(runtime))
    if token is None or token.purpose != tracking_tokens.UNSUBSCRIBE:
        return None
    with runtime.sessions() as session:
        recipient = session.get(EmailRecipient, token.item)
        if recipient is None or recipient.email_id != token.email_id:
            return None
        return recipient.address, token.email_id


def unsubscribe_by_token(runtime: Runtime, token_text: str, *, one_click: bool) -> str | None:
    """Unsubscribe the recipient a signed token names; returns the address, None if forged."""
    named = recipient_of_token(runtime, token_text)
    if named is None:
        return None
    address, email_id = named
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        email = session.get(SentEmail, email_id)
        assert email is not None
        recipient = next(r for r in email.recipients if r.address == address)
        person = session.get(Person, recipient.person_id) if recipient.person_id else None
        opt_out(
            session,
            team_id=email.team_id,
            address=address,
            person=person,
            source="one_click" if one_click else "link",
            now=now,
            user_id=email.sender_id,
            email_id=email.id,
        )
    return address


def unsubscribe_person(runtime: Runtime, user: User, person_id: int) -> OptOut:
    """A rep records that a person asked not to be emailed (e.g. they said so on a call)."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        person = session.get(Person, person_id)
        if person is None or person.team_id != user.team_id:
            raise NotFound(tr("person {person_id} does not exist", person_id=person_id))
        if not person.email:
            raise InvalidInput(tr("the person has no email address"), field="person_id")
        row = opt_out(
            session,
            team_id=user.team_id,
            address=person.email,
            person=person,
            source="manual",
            now=now,
            user_id=user.id,
        )
        session.flush()
        session.expunge(row)
        return row
