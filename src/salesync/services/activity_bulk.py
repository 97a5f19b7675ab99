"""Bulk intake for integrations: up to 1,000 calls, or emails sent elsewhere, per request.

Each item is checked on its own and answered on its own: the good ones are stored and queued
for Salesforce in one transaction, each bad one gets its reason and changes nothing. An email
sent elsewhere (a phone, another mail client) is recorded as sent, without SMTP, and logged
like any other; giving its Message-ID makes a resend of the same request harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.mail import message as mail_message
from salesync.runtime import Runtime
from salesync.services import sync_settings
from salesync.services.accounts import validate_email
from salesync.services.activities import (
    CALL_KINDS,
    LOG_CALL,
    LOG_EMAIL,
    MAX_BODY_CHARACTERS,
    MAX_RECIPIENTS,
    CallDraft,
    RecipientRef,
    check_call,
    enqueue_logging,
    logging_wanted,
)
from salesync.store import activities as store
from salesync.store.db import unit_of_work
from salesync.store.tables import Call, EmailRecipient, Person, RecipientKind, SentEmail, User

#: Items one bulk request may carry.
MAX_BULK_ITEMS = 1000


@dataclass(frozen=True)
class ItemResult:
    """What became of one item: its new id, or why it was refused."""

    index: int
    id: int | None = None
    error: str | None = None
    field: str | None = None

    @classmethod
    def refused(cls, index: int, problem: InvalidInput) -> ItemResult:
        return cls(index, error=str(problem), field=problem.field)


@dataclass(frozen=True)
class SentElsewhere:
    """An email the rep sent outside salesync, to log to Salesforce."""

    to: Sequence[RecipientRef]
    subject: str
    body_text: str
    sent_at: datetime
    cc: Sequence[RecipientRef] = ()
    message_id: str | None = None


def _check_size(items: Sequence[object]) -> None:
    if len(items) > MAX_BULK_ITEMS:
        raise InvalidInput(
            tr("at most {max_bulk_items} items per request", max_bulk_items=MAX_BULK_ITEMS),
            field="items",
        )


# --- calls --------------------------------------------------------------------------------


def log_calls(runtime: Runtime, user: User, drafts: Sequence[CallDraft]) -> list[ItemResult]:
    """Record calls and queue their logging; one result per draft, in order."""
    _check_size(drafts)
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        rep = session.get(User, user.id)
        assert rep is not None
        known = set(
            session.scalars(
                select(Person.id).where(
                    Person.team_id == rep.team_id,
                    Person.id.in_(sorted({d.person_id for d in drafts})),
                )
            )
        )
        choices = {kind: store.call_choices(session, rep.team_id, kind) for kind in CALL_KINDS}
        results: list[ItemResult] = []
        calls: list[tuple[int, Call, CallDraft]] = []
        for index, draft in enumerate(drafts):
            try:
                check_call(draft, person_known=draft.person_id in known, choices=choices)
            except InvalidInput as problem:
                results.append(ItemResult.refused(index, problem))
                continue
            results.append(ItemResult(index))
            call = Call(
                team_id=rep.team_id,
                user_id=rep.id,
                person_id=draft.person_id,
                occurred_at=draft.occurred_at,
                duration_seconds=draft.duration_seconds,
                outcome=draft.outcome,
                reason=draft.reason,
                notes=draft.notes,
                created_at=now,
            )
            calls.append((index, call, draft))
        session.add_all([call for _, call, _ in calls])
        session.flush()
        if calls and logging_wanted(sync_settings.effective_for(session, rep).settings, LOG_CALL):
            subjects: list[tuple[int, dict[str, object]]] = [
                (call.id, dict(draft.attributes)) for _, call, draft in calls
            ]
            enqueue_logging(session, rep, LOG_CALL, "call", subjects, now)
        for index, call, _ in calls:
            results[index] = ItemResult(index, id=call.id)
    return results


# --- emails sent elsewhere ------------------------------------------------------------------


def record_sent_emails(
    runtime: Runtime, user: User, drafts: Sequence[SentElsewhere]
) -> list[ItemResult]:
    """Record emails sent outside salesync and queue their logging; one result per draft."""
    _check_size(drafts)
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        rep = session.get(User, user.id)
        assert rep is not None
        people = _People(session, rep, drafts)
        taken = _message_ids_taken(session, rep, drafts)
        results: list[ItemResult] = []
        emails: list[tuple[int, SentEmail]] = []
        for index, draft in enumerate(drafts):
            try:
                email = _sent_email(rep, draft, people, taken, now)
            except InvalidInput as problem:
                results.append(ItemResult.refused(index, problem))
                continue
            taken.add(email.message_id)
            emails.append((index, email))
            results.append(ItemResult(index))
        session.add_all([email for _, email in emails])
        session.flush()
        if emails and logging_wanted(sync_settings.effective_for(session, rep).settings, LOG_EMAIL):
            subjects: list[tuple[int, dict[str, object]]] = [
                (email.id, {"recipient_id": recipient.id})
                for _, email in emails
                for recipient in email.recipients
            ]
            enqueue_logging(session, rep, LOG_EMAIL, "email", subjects, now)
        for index, email in emails:
            results[index] = ItemResult(index, id=email.id)
    return results


class _People:
    """The team's people named by a whole request, read in two queries."""

    def __init__(self, session: Session, rep: User, drafts: Sequence[SentElsewhere]) -> None:
        refs = [ref for d in drafts for ref in (*d.to, *d.cc)]
        ids = sorted({r.person_id for r in refs if r.person_id is not None})
        rows: Sequence[Person] = (
            session.scalars(
                select(Person).where(Person.team_id == rep.team_id, Person.id.in_(ids))
            ).all()
            if ids
            else []
        )
        self.by_id = {person.id: person for person in rows}
        addresses = sorted({r.email.strip() for r in refs if r.email and r.person_id is None})
        self.by_email = store.people_by_email(session, rep.team_id, addresses)

    def resolve(self, refs: Sequence[RecipientRef], name: str) -> list[tuple[str, int | None]]:
        resolved: list[tuple[str, int | None]] = []
        for index, ref in enumerate(refs):
            where = f"{name}[{index}]"
            if ref.person_id is not None:
                person = self.by_id.get(ref.person_id)
                if person is None:
                    raise InvalidInput(
                        tr("person {person_id} does not exist", person_id=ref.person_id),
                        field=where,
                    )
                if not person.email:
                    raise InvalidInput(
                        tr(
                            "{first_name} {last_name} has no email address",
                            first_name=person.first_name,
                            last_name=person.last_name,
                        ),
                        field=where,
                    )
                resolved.append((person.email, person.id))
            elif ref.email:
                address = validate_email(ref.email, field=where)
                known = self.by_email.get(address.lower())
                resolved.append((address, known.id if known else None))
            else:
                raise InvalidInput(tr("give a person id or an email address"), field=where)
        return resolved


def _message_ids_taken(session: Session, rep: User, drafts: Sequence[SentElsewhere]) -> set[str]:
    wanted = sorted({d.message_id for d in drafts if d.message_id})
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(SentEmail.message_id).where(
                SentEmail.team_id == rep.team_id, SentEmail.message_id.in_(wanted)
            )
        )
    )


def _sent_email(
    rep: User, draft: SentElsewhere, people: _People, taken: set[str], now: datetime
) -> SentEmail:
    if not draft.to:
        raise InvalidInput(tr("an email needs at least one recipient"), field="to")
    if len(draft.to) + len(draft.cc) > MAX_RECIPIENTS:
        raise InvalidInput(
            tr("at most {max_recipients} recipients", max_recipients=MAX_RECIPIENTS), field="to"
        )
    if len(draft.body_text) > MAX_BODY_CHARACTERS:
        raise InvalidInput(
            tr(
                "the body is longer than {max_body_characters} characters",
                max_body_characters=MAX_BODY_CHARACTERS,
            ),
            field="body_text",
        )
    if "\n" in draft.subject or "\r" in draft.subject:
        raise InvalidInput(tr("the subject has a line break"), field="subject")
    if draft.sent_at.tzinfo is None:
        raise InvalidInput(tr("the sending time needs a time zone"), field="sent_at")
    if draft.sent_at > now:
        raise InvalidInput(tr("the sending time is in the future"), field="sent_at")
    message_id = draft.message_id or mail_message.new_message_id(rep.email.rsplit("@", 1)[1])
    if message_id in taken:
        raise InvalidInput(tr("this email was recorded already"), field="message_id")
    to = people.resolve(draft.to, "to")
    cc = people.resolve(draft.cc, "cc")
    email = SentEmail(
        team_id=rep.team_id,
        sender_id=rep.id,
        from_address=rep.email,
        subject=draft.subject,
        body_text=draft.body_text,
        message_id=message_id,
        in_reply_to=None,
        is_reply=False,
        status="sent",
        sent_at=draft.sent_at,
        created_at=now,
    )
    email.recipients = [
        EmailRecipient(address=a, person_id=p, kind=RecipientKind.TO) for a, p in to
    ] + [EmailRecipient(address=a, person_id=p, kind=RecipientKind.CC) for a, p in cc]
    return email
