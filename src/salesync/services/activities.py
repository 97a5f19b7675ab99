"""Sending sales emails, recording replies and logging calls, each queued for Salesforce.

An activity and its outbox rows commit in one transaction, one outbox row per recipient, so
that every recipient's Task has its own state, retries and Diagnostics entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from salesync.domain.settings import LoggingMode, SyncSettings, logs_through_api
from salesync.domain.wording import Translatable, tr
from salesync.errors import InvalidInput, NotFound, PermissionDenied, SalesyncError
from salesync.mail import message as mail_message
from salesync.mail.errors import MailError
from salesync.mail.message import OutgoingEmail
from salesync.mail.smtp import Mailer
from salesync.runtime import Runtime
from salesync.services import bcc, engagement, sync_settings, unsubscribes
from salesync.services.accounts import validate_email
from salesync.store import activities as store
from salesync.store import diagnostics, outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    Call,
    CallChoice,
    ConnectionStatus,
    EmailRecipient,
    OutboxItem,
    OutboxStatus,
    RecipientKind,
    Role,
    SalesforceConnection,
    SentEmail,
    User,
)

#: Outbox kinds handled by the activity logging handler.
LOG_EMAIL, LOG_REPLY, LOG_CALL = "log_email", "log_reply", "log_call"
#: CALL-4: at most 15 call outcomes and 15 call reasons.
MAX_CALL_CHOICES = 15
#: Refuse absurd bodies outright (the Task keeps 32,000 characters; the email is sent whole).
MAX_BODY_CHARACTERS = 1_000_000
#: Recipients of one email (To + Cc), well above a real sales email.
MAX_RECIPIENTS = 100


class SendFailed(SalesyncError):
    """The mail server did not take the email; it was not sent and is kept as failed."""


@dataclass(frozen=True)
class RecipientRef:
    """A recipient by salesync person id or by plain address."""

    person_id: int | None = None
    email: str | None = None


@dataclass(frozen=True)
class EmailDraft:
    to: Sequence[RecipientRef]
    subject: str
    body_text: str
    cc: Sequence[RecipientRef] = ()
    #: A sent email this one answers (its salesync id).
    reply_to_email_id: int | None = None
    #: Track opens and clicks: None follows the team's default (docs/engagement.md).
    track: bool | None = None
    #: (id, name) of the template it was written from; fills the Task's template field.
    template: tuple[int, str] | None = None


@dataclass(frozen=True)
class InboundReply:
    """A prospect's reply to an email salesync sent, as an inbox integration reports it."""

    from_address: str
    subject: str
    body_text: str
    in_reply_to: str
    message_id: str
    received_at: datetime
    #: REPLY-5: who the reply is about when its writer is not a known person (a colleague of
    #: the recipient answered): a person the replied email went to.
    about_person_id: int | None = None


@dataclass(frozen=True)
class CallDraft:
    person_id: int
    occurred_at: datetime
    duration_seconds: int = 0
    outcome: str | None = None
    reason: str | None = None
    notes: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


def _resolve(
    session: Session, user: User, refs: Sequence[RecipientRef], field_name: str
) -> list[tuple[str, int | None]]:
    """Addresses with their person ids; unknown people or bad addresses refuse the request."""
    addresses = [ref.email for ref in refs if ref.person_id is None and ref.email]
    known = store.person_ids_by_email(session, user.team_id, [a for a in addresses if a])
    resolved: list[tuple[str, int | None]] = []
    for index, ref in enumerate(refs):
        where = f"{field_name}[{index}]"
        if ref.person_id is not None:
            person = store.person_in_team(session, user.team_id, ref.person_id)
            if person is None:
                raise InvalidInput(
                    tr("person {person_id} does not exist", person_id=ref.person_id), field=where
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
            resolved.append((address, known.get(address.lower())))
        else:
            raise InvalidInput(tr("give a person id or an email address"), field=where)
    return resolved


def logging_wanted(settings: SyncSettings, kind: str) -> bool:
    return logs_through_api(settings, {LOG_EMAIL: "email", LOG_REPLY: "reply"}.get(kind, "call"))


def _connected(session: Session, user: User) -> bool:
    # The status alone (``connections.for_user``'s row, not loaded): read for every sent email.
    status = session.execute(_CONNECTION_STATUS, {"user_id": user.id}).first()
    return status is not None and status[0] is ConnectionStatus.CONNECTED


_CONNECTIONS = cast(Table, SalesforceConnection.__table__)
# Built once, on the table (a Core statement: no ORM compilation).
_CONNECTION_STATUS = select(_CONNECTIONS.c.status).where(
    _CONNECTIONS.c.user_id == bindparam("user_id")
)


def _enqueue(
    session: Session,
    user: User,
    kind: str,
    subject_type: str,
    subject_id: int,
    payload: dict[str, object],
    now: datetime,
) -> int:
    """Queue one Task creation; held (paused, visible) while the rep is not connected.
    Returns the outbox item's id."""
    return enqueue_logging(session, user, kind, subject_type, [(subject_id, payload)], now)[0]


def enqueue_logging(
    session: Session,
    user: User,
    kind: str,
    subject_type: str,
    subjects: Sequence[tuple[int, dict[str, object]]],
    now: datetime,
    *,
    connected: bool | None = None,
) -> list[int]:
    """Queue Task creations in one statement; held (paused, visible) while not connected
    (``connected``: already read in this transaction by the caller; read here when None).
    Returns the outbox items' ids, in the order of ``subjects``."""
    if connected is None:
        connected = _connected(session, user)
    ids = outbox.enqueue_many(
        session,
        [
            outbox.NewItem(
                team_id=user.team_id,
                user_id=user.id,
                kind=kind,
                subject_type=subject_type,
                subject_id=subject_id,
                payload=payload,
            )
            for subject_id, payload in subjects
        ],
        now=now,
        paused=not connected,
    )
    if not connected:
        diagnostics.record_many(
            session,
            [
                diagnostics.Occurrence(
                    team_id=user.team_id,
                    user_id=user.id,
                    item_type=subject_type,
                    item_id=subject_id,
                    outbox_id=outbox_id,
                    code="NOT_CONNECTED",
                    category="authentication",
                    message=not_connected_reason(kind),
                )
                for outbox_id, (subject_id, _) in zip(ids, subjects, strict=True)
            ],
            now=now,
        )
    return ids


def not_connected_reason(kind: str) -> str:
    """Why a queued item waits while the rep has no connection; calls say why in BCC mode."""
    if kind == LOG_CALL:
        # A call has no email to BCC: in BCC mode too it can only go through the API.
        return tr(
            "Calls are logged through the Salesforce API, also in BCC mode. Not logged yet: "
            "connect your Salesforce account; it will be logged then."
        )
    return tr("Not logged yet: connect your Salesforce account; it will be logged then.")


@dataclass(frozen=True)
class SentOutcome:
    """A sent email as :func:`send` left it: what its API answer shows, without reading it."""

    email_id: int
    message_id: str
    sent_at: datetime
    #: To, then Cc, in the order given (the order of its recipient rows).
    recipients: list[str]
    #: Outbox items queued for its logging (pending: none can have run yet).
    queued: int
    #: The send wrote nothing on Diagnostics (connected and not in BCC mode): its state is
    #: then known without reading it; otherwise read it (``activity_state``).
    quiet: bool


def send_email(runtime: Runtime, user: User, draft: EmailDraft, mailer: Mailer) -> int:
    """Send ``draft`` through SMTP and queue its logging; returns the sent email's id.

    Raises InvalidInput (nothing stored, nothing sent) or SendFailed (kept as failed).
    """
    return send(runtime, user, draft, mailer).email_id


def send(runtime: Runtime, user: User, draft: EmailDraft, mailer: Mailer) -> SentOutcome:
    """:func:`send_email`, returning what the send stored (for the API's answer)."""
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
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        # The caller's user was read for this request (its token or browser session): attach
        # it without reading it and its team again, one of the API's hottest paths.
        sender = session.merge(user, load=False)
        to = _resolve(session, sender, draft.to, "to")
        cc = _resolve(session, sender, draft.cc, "cc") if draft.cc else []
        unsubscribes.refuse_opted_out(session, sender.team_id, to + cc)
        tracked = engagement.wants_tracking(session, sender.team_id, draft.track, now=now)
        # Straight from the database: this transaction has changed no settings.
        effective = sync_settings.effective_as_stored(session, sender).settings
        in_reply_to = _thread_parent(session, sender, draft.reply_to_email_id)
        message_id = mail_message.new_message_id(sender.email.rsplit("@", 1)[1])
        outgoing = OutgoingEmail(
            from_address=sender.email,
            from_name=sender.name,
            to=[address for address, _ in to],
            cc=[address for address, _ in cc],
            subject=draft.subject,
            body_text=draft.body_text,
            in_reply_to=in_reply_to,
            references=(in_reply_to,) if in_reply_to else (),
            # BCC-1: the Email-to-Salesforce address goes on the envelope only.
            envelope_bcc=_bcc(effective),
            message_id=message_id,
        )
        mail_message.validate_email(outgoing)  # header injection and addresses: 422, no row
        # Core inserts, not the ORM's unit of work: the API's hottest path (issue 16).
        email_id = session.execute(
            _INSERT_EMAIL,
            {
                "team_id": sender.team_id,
                "sender_id": sender.id,
                "from_address": sender.email,
                "subject": draft.subject,
                "body_text": draft.body_text,
                "message_id": message_id,
                "in_reply_to": in_reply_to,
                "is_reply": False,
                "status": "sending",
                "sent_at": now,
                "created_at": now,
            },
        ).scalar_one()
        recipient_rows = [
            {"email_id": email_id, "address": a, "person_id": p, "kind": RecipientKind.TO}
            for a, p in to
        ] + [
            {"email_id": email_id, "address": a, "person_id": p, "kind": RecipientKind.CC}
            for a, p in cc
        ]
        # In the order given: the first is the first To recipient (the unsubscribe link's).
        recipient_ids = list(session.scalars(_INSERT_RECIPIENTS, recipient_rows))
        outgoing = engagement.prepare_outgoing(
            runtime,
            session,
            email_id,
            recipient_ids[0],
            outgoing,
            tracked=tracked,
            template=draft.template,
        )
    # The row exists before SMTP is tried, so a crash in between leaves a visible "sending".
    try:
        sent = mailer.send(outgoing)
    except MailError as exc:
        with unit_of_work(runtime.sessions) as session:
            session.execute(
                update(SentEmail)
                .where(SentEmail.id == email_id)
                .values(status="failed", error=exc.message)
            )
        raise SendFailed(tr("The email was not sent: {message}", message=exc.message)) from exc
    sent_at = runtime.clock.now()
    queued, connected = 0, True
    with unit_of_work(runtime.sessions) as session:
        marked = session.execute(
            _MARK_SENT, {"b_id": email_id, "b_sent_at": sent_at, "b_user_id": user.id}
        ).first()
        if effective.logging_mode is LoggingMode.BCC:
            rep = session.get(User, user.id)
            assert rep is not None
            bcc.record_bcc_outcome(session, rep, email_id, sent, now=now, settings=effective)
        # The settings read before sending decide: a mode switch meanwhile must not log twice.
        if logging_wanted(effective, LOG_EMAIL):
            subjects: list[tuple[int, dict[str, object]]] = [
                (email_id, {"recipient_id": r}) for r in recipient_ids
            ]
            if marked is not None:
                connected = marked[0] is ConnectionStatus.CONNECTED
            else:
                connected = _connected(session, user)
            queued = len(
                enqueue_logging(
                    session, user, LOG_EMAIL, "email", subjects, now, connected=connected
                )
            )
    return SentOutcome(
        email_id=email_id,
        message_id=message_id,
        sent_at=sent_at,
        recipients=[address for address, _ in to + cc],
        queued=queued,
        quiet=connected and effective.logging_mode is not LoggingMode.BCC,
    )


_EMAILS = cast(Table, SentEmail.__table__)
_RECIPIENTS = cast(Table, EmailRecipient.__table__)
_INSERT_EMAIL = insert(_EMAILS).returning(_EMAILS.c.id)
_INSERT_RECIPIENTS = insert(_RECIPIENTS).returning(_RECIPIENTS.c.id, sort_by_parameter_order=True)
#: Marks the email sent and returns the rep's connection status (``_connected``), which
#: decides whether its logging is held: one statement for both on every sent email.
_MARK_SENT = (
    update(_EMAILS)
    .where(_EMAILS.c.id == bindparam("b_id"))
    .values(status="sent", sent_at=bindparam("b_sent_at"))
    .returning(
        select(_CONNECTIONS.c.status)
        .where(_CONNECTIONS.c.user_id == bindparam("b_user_id"))
        .scalar_subquery()
    )
)


def _thread_parent(session: Session, user: User, email_id: int | None) -> str | None:
    if email_id is None:
        return None
    parent = session.get(SentEmail, email_id)
    # Only the sender's own emails: threading under a teammate's email would put the reply in
    # their conversation, and a different answer for "exists but not yours" would reveal ids.
    if parent is None or parent.team_id != user.team_id or parent.sender_id != user.id:
        raise InvalidInput(
            tr("no email of yours has the id {email_id}", email_id=email_id),
            field="reply_to_email_id",
        )
    return parent.message_id


def _bcc(settings: SyncSettings) -> tuple[str, ...]:
    if settings.logging_mode is LoggingMode.BCC and settings.bcc_address:
        return (settings.bcc_address,)
    return ()


def record_reply(runtime: Runtime, user: User, reply: InboundReply) -> int:
    """Record a prospect's reply to one of the rep's emails and queue its logging (REPLY-1..5)."""
    address = validate_email(reply.from_address, field="from_address")
    if "\n" in reply.subject or "\r" in reply.subject:
        raise InvalidInput(tr("the subject has a line break"), field="subject")
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        rep = session.get(User, user.id)
        assert rep is not None
        parent = store.email_by_message_id(session, rep.team_id, reply.in_reply_to)
        if parent is None or parent.sender_id != rep.id:
            # REPLY-5: a reply is recognised by the Message-ID of an email the rep sent.
            raise InvalidInput(tr("no email of yours has this Message-ID"), field="in_reply_to")
        if store.email_by_message_id(session, rep.team_id, reply.message_id) is not None:
            raise InvalidInput(tr("this reply was recorded already"), field="message_id")
        engagement.record_reply_engagement(session, parent, now=now)
        person = store.people_by_email(session, rep.team_id, [address]).get(address.lower())
        if person is None and reply.about_person_id is not None:
            person = store.person_in_team(session, rep.team_id, reply.about_person_id)
        row = SentEmail(
            team_id=rep.team_id,
            sender_id=rep.id,
            from_address=address,
            subject=reply.subject,
            body_text=reply.body_text,
            message_id=reply.message_id,
            in_reply_to=reply.in_reply_to,
            is_reply=True,
            status="received",
            sent_at=reply.received_at,
            created_at=now,
        )
        # For a reply, the recipient row names who replied: the person the Task is about.
        row.recipients = [
            EmailRecipient(
                address=address, person_id=person.id if person else None, kind=RecipientKind.TO
            )
        ]
        session.add(row)
        session.flush()
        if logging_wanted(sync_settings.effective_for(session, rep).settings, LOG_REPLY):
            _enqueue(
                session,
                rep,
                LOG_REPLY,
                "email",
                row.id,
                {"recipient_id": row.recipients[0].id},
                now,
            )
        return row.id


#: The two lists of call choices a team keeps (CALL-4).
CALL_KINDS = ("outcome", "reason")


def _not_a_choice(kind: str, value: str, allowed: str) -> Translatable:
    # Whole sentences per kind: translators cannot inflect a word put into a sentence.
    if kind == "outcome":
        return tr(
            "{value} is not one of your team's call outcomes: {allowed}",
            value=repr(value),
            allowed=allowed,
        )
    return tr(
        "{value} is not one of your team's call reasons: {allowed}",
        value=repr(value),
        allowed=allowed,
    )


def check_call(
    draft: CallDraft, *, person_known: bool, choices: Mapping[str, Sequence[str]]
) -> None:
    """The rules every logged call meets (CALL-1..5), one call or one of a bulk request;
    ``choices`` holds the team's call outcomes and reasons by kind."""
    if draft.duration_seconds < 0 or draft.duration_seconds > 86_400:
        raise InvalidInput(
            tr("the duration is between 0 and 86,400 seconds"), field="duration_seconds"
        )
    if draft.occurred_at.tzinfo is None:
        raise InvalidInput(tr("the call time needs a time zone"), field="occurred_at")
    if not person_known:
        raise InvalidInput(
            tr("person {person_id} does not exist", person_id=draft.person_id), field="person_id"
        )
    for kind, value in (("outcome", draft.outcome), ("reason", draft.reason)):
        if value is not None and value not in choices[kind]:
            allowed = ", ".join(choices[kind]) or "none defined"
            raise InvalidInput(_not_a_choice(kind, value, allowed), field=kind)


def log_call(runtime: Runtime, user: User, draft: CallDraft) -> int:
    """Record a call and queue its logging (CALL-1..5; matching by Salesforce id only)."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        rep = session.get(User, user.id)
        assert rep is not None
        known = store.person_in_team(session, rep.team_id, draft.person_id) is not None
        choices = {kind: store.call_choices(session, rep.team_id, kind) for kind in CALL_KINDS}
        check_call(draft, person_known=known, choices=choices)
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
        session.add(call)
        session.flush()
        if logging_wanted(sync_settings.effective_for(session, rep).settings, LOG_CALL):
            _enqueue(session, rep, LOG_CALL, "call", call.id, dict(draft.attributes), now)
        return call.id


def set_call_choices(runtime: Runtime, admin: User, kind: str, labels: Sequence[str]) -> list[str]:
    """Admin: replace the team's call outcomes or reasons (at most 15 each, CALL-4)."""
    if admin.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can change call outcomes and reasons"))
    if kind not in CALL_KINDS:
        raise InvalidInput(tr("kind is outcome or reason"), field="kind")
    cleaned = [label.strip() for label in labels if label.strip()]
    if len(cleaned) > MAX_CALL_CHOICES:
        raise InvalidInput(
            tr(
                "at most {max_call_choices} call {kind}s",
                max_call_choices=MAX_CALL_CHOICES,
                kind=kind,
            ),
            field="labels",
        )
    if len({c.lower() for c in cleaned}) != len(cleaned):
        raise InvalidInput(tr("labels must be different"), field="labels")
    if any(len(c) > 50 for c in cleaned):
        # spec 1.10: the Task fields for outcome and reason are Text(50).
        raise InvalidInput(tr("a label has at most 50 characters"), field="labels")
    with unit_of_work(runtime.sessions) as session:
        for row in session.scalars(
            select(CallChoice).where(CallChoice.team_id == admin.team_id, CallChoice.kind == kind)
        ):
            session.delete(row)
        session.flush()
        for position, label in enumerate(cleaned):
            session.add(
                CallChoice(team_id=admin.team_id, kind=kind, label=label, position=position)
            )
    return cleaned


def requeue_for_person(session: Session, person_id: int, *, now: datetime) -> int:
    """A person got a Salesforce id: retry their activities that could not be matched."""
    recipients = session.execute(
        select(EmailRecipient.id, EmailRecipient.email_id).where(
            EmailRecipient.person_id == person_id
        )
    ).all()
    recipient_ids = {recipient_id for recipient_id, _ in recipients}
    email_ids = {email_id for _, email_id in recipients}
    call_ids = select(Call.id).where(Call.person_id == person_id)
    waiting = session.scalars(
        select(OutboxItem).where(
            OutboxItem.status == OutboxStatus.FAILED,
            or_(
                and_(OutboxItem.kind == LOG_CALL, OutboxItem.subject_id.in_(call_ids)),
                and_(
                    OutboxItem.kind.in_([LOG_EMAIL, LOG_REPLY]),
                    OutboxItem.subject_id.in_(sorted(email_ids)),
                ),
            ),
        )
    ).all()
    # One email has an item per recipient: only this person's are theirs to retry.
    ids = [
        item.id
        for item in waiting
        if item.kind == LOG_CALL or item.payload.get("recipient_id") in recipient_ids
    ]
    return outbox.retry_failed(session, ids, now=now) if ids else 0


def get_email(session: Session, user: User, email_id: int) -> SentEmail:
    email = session.get(SentEmail, email_id)
    if email is None or email.team_id != user.team_id:
        raise NotFound(tr("email {email_id} does not exist", email_id=email_id))
    if user.role is not Role.ADMIN and email.sender_id != user.id:
        raise NotFound(tr("email {email_id} does not exist", email_id=email_id))
    return email


def queue_email_logging(
    session: Session,
    user: User,
    email_id: int,
    recipient_ids: Sequence[int],
    settings: SyncSettings,
    *,
    now: datetime,
) -> int:
    """Queue the logging of an email salesync did not send (found in the rep's mailbox), per
    recipient, exactly as for a sent one; returns how many items were queued."""
    if not logging_wanted(settings, LOG_EMAIL):
        return 0
    for recipient_id in recipient_ids:
        _enqueue(session, user, LOG_EMAIL, "email", email_id, {"recipient_id": recipient_id}, now)
    return len(recipient_ids)
