"""Turn messages read from a rep's mailbox into logged emails, replies and bounces.

One chunk of one folder at a time. Replies go through the reply path every reply takes
(``activities.record_reply``), each in its own transaction; then one transaction records the
sent mail and bounces, the handled-message keys and the folder cursor, after checking that
this worker still holds the mailbox's lease. A crash anywhere re-reads the chunk, and the keys
(and the unique Message-ID of every stored email) make the second reading change nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync.domain import bounces
from salesync.domain.mail_headers import MessageFacts, domain_of, read_facts
from salesync.domain.mailbox_rules import (
    Decision,
    FolderRole,
    KnownMail,
    LogReply,
    LogSent,
    MailboxPolicy,
    MarkBounced,
    Skip,
    classify,
    normalize_domains,
    reply_about,
)
from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.mailbox.client import FetchedMessage
from salesync.runtime import Runtime
from salesync.services import activities, mailbox_accounts, sync_settings
from salesync.store import activities as activity_store
from salesync.store import diagnostics, outbox
from salesync.store import mailboxes as store
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    EmailRecipient,
    MailboxAccount,
    OutboxItem,
    Person,
    RecipientKind,
    SentEmail,
    User,
)

log = logging.getLogger(__name__)

#: Outbox kind that updates fields of an email's logged Task (replied, email status).
UPDATE_EMAIL_TASK = "update_email_task"
BOUNCED_CODE = "EMAIL_BOUNCED"


class LeaseLost(Exception):
    """Another worker took the mailbox over; this one's work is not committed."""


@dataclasses.dataclass(frozen=True)
class Cursor:
    """Where a folder's reading stands: what is committed with the chunk."""

    folder: str
    uid_validity: int
    last_uid: int


@dataclasses.dataclass
class IngestReport:
    outcomes: Counter[str] = dataclasses.field(default_factory=Counter)


@dataclasses.dataclass(frozen=True)
class _Read:
    message: FetchedMessage
    facts: MessageFacts
    dsn: bounces.Dsn | None


def ingest_chunk(
    runtime: Runtime,
    *,
    mailbox_id: int,
    worker_id: str,
    role: FolderRole,
    messages: Sequence[FetchedMessage],
    cursor: Cursor,
    since: str | None = None,
) -> IngestReport:
    """Handle ``messages`` of one folder and move its cursor to ``cursor``, exactly once;
    ``since`` keeps a look-back reading going in the next round."""
    report = IngestReport()
    reads = [_read(m) for m in messages]
    with runtime.sessions() as session:
        account, user = _owner(session, mailbox_id)
        seen = store.seen_keys(session, mailbox_id, [r.facts.key for r in reads])
        fresh = _unique([r for r in reads if r.facts.key not in seen])
        policy = _policy(session, account, user)
        known = _known(session, user, fresh)
        decisions = [(r, classify(r.facts, role, policy, known, r.dsn)) for r in fresh]
        settings = sync_settings.effective_for(session, user).settings
        about = _reply_subjects(session, user, decisions)
        session.expunge(user)
    report.outcomes["already_seen"] += len(reads) - len(fresh)
    reply_ids: dict[str, int | None] = {}
    for read, decision in decisions:
        if isinstance(decision, LogReply):
            reply_ids[read.facts.key] = _record_reply(
                runtime, user, read, decision, about.get(read.facts.key)
            )
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        if not store.holds_lease(session, mailbox_id, worker_id, now):
            raise LeaseLost(f"mailbox {mailbox_id} is no longer leased to {worker_id}")
        wanted = [a for r, d in decisions if isinstance(d, LogSent) for a in r.facts.recipients]
        people = activity_store.people_by_email(session, user.team_id, wanted)  # once a chunk
        for read, decision in decisions:
            outcome, email_id = _apply(
                session, user, settings, read, decision, reply_ids, people, now
            )
            report.outcomes[outcome] += 1
            store.record_seen(
                session,
                mailbox_id,
                read.facts.key,
                folder_role=role.value,
                outcome=outcome,
                email_id=email_id,
                now=now,
            )
        row = session.get(MailboxAccount, mailbox_id)
        assert row is not None
        row.cursors = {
            **row.cursors,
            role.value: {
                "folder": cursor.folder,
                "uid_validity": cursor.uid_validity,
                "last_uid": cursor.last_uid,
                "since": since,
            },
        }
    return report


def _read(message: FetchedMessage) -> _Read:
    facts = read_facts(message.headers)
    dsn = None
    if bounces.is_dsn(facts.content_type, facts.report_type) and message.report is not None:
        dsn = bounces.parse_dsn(message.report)
    return _Read(message, facts, dsn)


def _unique(reads: list[_Read]) -> list[_Read]:
    """A message copied twice into one folder is one message."""
    by_key: dict[str, _Read] = {}
    for read in reads:
        by_key.setdefault(read.facts.key, read)
    return list(by_key.values())


def _owner(session: Session, mailbox_id: int) -> tuple[MailboxAccount, User]:
    account = session.get(MailboxAccount, mailbox_id)
    if account is None:
        raise LeaseLost(f"mailbox {mailbox_id} was removed")
    user = session.get(User, account.user_id)
    assert user is not None
    return account, user


def _policy(session: Session, account: MailboxAccount, user: User) -> MailboxPolicy:
    team = mailbox_accounts.team_settings_of(session, user.team_id)
    own = {user.email.lower()}
    if "@" in account.username:
        own.add(account.username.lower())
    internal = normalize_domains([*team.internal_domains, domain_of(user.email)])
    return MailboxPolicy(
        own_addresses=frozenset(own),
        internal_domains=internal,
        blocked_domains=normalize_domains(list(team.blocked_domains)),
        log_anyone=team.log_anyone,
    )


def _known(session: Session, user: User, reads: Sequence[_Read]) -> KnownMail:
    ids: set[str] = set()
    addresses: set[str] = set()
    for read in reads:
        ids.add(read.facts.key)
        ids.update(read.facts.thread_ids)
        if read.dsn is not None and read.dsn.original_message_id:
            ids.add(read.dsn.original_message_id)
        addresses.update(a.lower() for a in read.facts.recipients)
    emails = store.emails_by_message_id(session, user.team_id, sorted(ids))
    people = activity_store.people_by_email(session, user.team_id, sorted(addresses))
    return KnownMail(
        message_ids=frozenset(emails),
        sent_by_rep=frozenset(
            mid for mid, e in emails.items() if e.sender_id == user.id and not e.is_reply
        ),
        people=frozenset(people),
    )


def _reply_subjects(
    session: Session, user: User, decisions: Sequence[tuple[_Read, Decision]]
) -> dict[str, int | None]:
    """Per reply, the emailed person it is about (REPLY-5: a colleague may answer)."""
    parents = [d.parent_id for _, d in decisions if isinstance(d, LogReply)]
    if not parents:
        return {}
    emails = store.emails_by_message_id(session, user.team_id, parents)
    about: dict[str, int | None] = {}
    for read, decision in decisions:
        if isinstance(decision, LogReply) and decision.parent_id in emails:
            recipients = [(r.address, r.person_id) for r in emails[decision.parent_id].recipients]
            about[read.facts.key] = reply_about(read.facts.from_address or "", recipients)
    return about


def _record_reply(
    runtime: Runtime, user: User, read: _Read, decision: LogReply, about: int | None
) -> int | None:
    facts = read.facts
    reply = activities.InboundReply(
        from_address=facts.from_address or "",
        subject=facts.subject[:998],
        body_text=read.message.text,
        in_reply_to=decision.parent_id,
        message_id=facts.key,
        received_at=facts.date or runtime.clock.now(),
        about_person_id=about,
    )
    try:
        return activities.record_reply(runtime, user, reply)
    except InvalidInput as exc:
        log.info(
            "reply not recorded", extra={"action": "mailbox_reply_refused", "why": exc.message}
        )
        return None
    except IntegrityError:
        return None  # another worker recorded the same reply a moment ago


def _apply(
    session: Session,
    user: User,
    settings: Any,
    read: _Read,
    decision: object,
    reply_ids: dict[str, int | None],
    people: dict[str, Person],
    now: datetime,
) -> tuple[str, int | None]:
    if isinstance(decision, Skip):
        return f"skipped:{decision.reason.value}", None
    if isinstance(decision, LogSent):
        return "logged", _log_sent(session, user, settings, read, decision, people, now)
    if isinstance(decision, LogReply):
        email_id = reply_ids.get(read.facts.key)
        if email_id is None:
            return "skipped:reply_refused", None
        reply = session.get(SentEmail, email_id)
        if reply is not None:
            reply.source = "mailbox"
        parent = store.emails_by_message_id(session, user.team_id, [decision.parent_id])
        if decision.parent_id in parent:
            _update_task(session, user, parent[decision.parent_id].id, {"replied": True}, now)
        return "reply", email_id
    if isinstance(decision, MarkBounced):
        return "bounce", _bounce(session, user, decision, now)
    raise AssertionError(f"unknown decision {decision!r}")


def _log_sent(
    session: Session,
    user: User,
    settings: Any,
    read: _Read,
    decision: LogSent,
    people: dict[str, Person],
    now: datetime,
) -> int:
    facts = read.facts
    chosen = {a.lower() for a in decision.recipients}
    email = SentEmail(
        team_id=user.team_id,
        sender_id=user.id,
        from_address=(facts.from_address or user.email)[:320],
        subject=facts.subject[:998],
        body_text=read.message.text,
        message_id=facts.key,
        in_reply_to=facts.in_reply_to[0] if facts.in_reply_to else None,
        is_reply=False,
        status="sent",
        source="mailbox",
        sent_at=facts.date or now,
        created_at=now,
    )
    cc = {a.lower() for a in facts.cc} - {a.lower() for a in facts.to}
    for address in facts.recipients:
        person = people.get(address.lower())
        kind = RecipientKind.CC if address.lower() in cc else RecipientKind.TO
        email.recipients.append(
            EmailRecipient(
                address=address[:320], person_id=person.id if person else None, kind=kind
            )
        )
    session.add(email)
    session.flush()
    wanted = [r.id for r in email.recipients if r.address.lower() in chosen]
    activities.queue_email_logging(session, user, email.id, wanted, settings, now=now)
    return email.id


def _bounce(session: Session, user: User, decision: MarkBounced, now: datetime) -> int | None:
    found = store.emails_by_message_id(session, user.team_id, [decision.original_id])
    email = found.get(decision.original_id)
    if email is None:
        return None
    first = decision.failures[0]
    email.status = "bounced"
    email.bounced_at = now
    email.bounce_status = (first.status or "")[:16] or None
    email.bounce_diagnostic = first.diagnostic_code
    email.error = "Bounced: " + bounces.summary(first)
    addresses = ", ".join(f.final_recipient or "?" for f in decision.failures)
    diagnostics.record(
        session,
        team_id=user.team_id,
        user_id=user.id,
        item_type="email",
        item_id=email.id,
        code=BOUNCED_CODE,
        category="other",
        message=tr(
            "The email to {addresses} bounced: {value}",
            addresses=addresses,
            value=bounces.summary(first),
        ),
        now=now,
        detail={
            "status": first.status,
            "diagnostic_code": first.diagnostic_code,
            "recipients": [f.final_recipient for f in decision.failures],
        },
    )
    _update_task(session, user, email.id, {"email_status": "bounced"}, now)
    return email.id


def _update_task(
    session: Session, user: User, email_id: int, attributes: dict[str, object], now: datetime
) -> OutboxItem:
    """Queue an update of the email's logged Task(s); batched by the handler."""
    return outbox.enqueue(
        session,
        team_id=user.team_id,
        user_id=user.id,
        kind=UPDATE_EMAIL_TASK,
        subject_type="email",
        subject_id=email_id,
        payload={"attributes": attributes},
        now=now,
    )
