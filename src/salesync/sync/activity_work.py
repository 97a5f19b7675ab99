"""Loads claimed logging items into value objects the matching and Task rules understand."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from salesync.domain import ids
from salesync.domain.activity_kinds import ActivityKind
from salesync.domain.activity_task import LoggedActivity
from salesync.domain.matching import LogTarget, Recipient
from salesync.store import activities as store
from salesync.store import engagement as engagement_store
from salesync.store.outbox import QueuedItem
from salesync.store.tables import Person, RecipientKind, SentEmail

#: Payload key: stored Salesforce ids Salesforce said are gone (deleted or merged).
STALE_IDS = "stale_ids"
#: Payload keys the logging engine keeps for itself; the rest are activity attributes.
_ENGINE_FLAGS = frozenset({"outcome_unknown", "retried_after_refresh", STALE_IDS})

_KINDS = {
    "log_email": ActivityKind.EMAIL,
    "log_reply": ActivityKind.REPLY,
    "log_call": ActivityKind.CALL,
}


@dataclass(frozen=True)
class WorkItem:
    """One outbox item: one activity for one recipient, ready for matching."""

    outbox_id: int
    kind: ActivityKind
    #: "email" or "call": the local_type of the Salesforce links it creates.
    local_type: str
    local_id: int
    recipient_id: int | None
    recipient: Recipient
    person: Person | None
    activity: LoggedActivity
    #: The item's earlier attempt may have created Tasks that we never heard about.
    outcome_unknown: bool

    def target_key(self, target: LogTarget) -> str:
        return f"r{self.recipient_id or 0}|who:{target.who_id or '-'}|what:{target.what_id or '-'}"

    def activity_id(self, target: LogTarget) -> str:
        """Stable, unique per Task: what the External ID field holds (exactly-once)."""
        digest = hashlib.sha256(self.target_key(target).encode()).hexdigest()[:16]
        return f"salesync:{self.local_type}:{self.local_id}:{digest}"


def _recipient(
    person: Person | None, address: str | None, stale: frozenset[str] = frozenset()
) -> Recipient:
    """Who the activity is about; a stored id known to be gone is left out (MATCH-1)."""
    if person is None:
        return Recipient(email=address)

    def live(stored: str | None) -> str | None:
        gone = stored and ids.is_valid_id(stored) and ids.normalize(stored) in stale
        return None if gone else stored

    return Recipient(
        email=person.email or address,
        contact_id=live(person.sf_contact_id),
        lead_id=live(person.sf_lead_id),
        account_id=person.sf_account_id,
        opportunity_id=person.sf_opportunity_id,
    )


def _email_activity(
    kind: ActivityKind,
    email: store.EmailToLog,
    answered: Mapping[tuple[int, str], SentEmail],
    template: str | None,
) -> LoggedActivity:
    """The email as logged. A reply takes the subject of the email it answers (REPLY-4) and
    reads from the prospect to the rep; its own recipient row names the prospect."""
    to = tuple(r.address for r in email.recipients if r.kind is RecipientKind.TO)
    cc = tuple(r.address for r in email.recipients if r.kind is RecipientKind.CC)
    subject = email.subject
    if email.is_reply:
        sent = answered.get((email.team_id, email.in_reply_to or ""))
        cc = ()
        to = (sent.from_address,) if sent is not None and sent.from_address else ()
        if sent is not None:
            subject = sent.subject
    return LoggedActivity(
        kind=kind,
        subject=subject,
        sent_at=email.sent_at,
        body_text=email.body_text,
        from_address=email.from_address,
        to=to,
        cc=cc,
        attributes={"email_template": template} if template else {},
    )


def _stale(item: QueuedItem) -> frozenset[str]:
    return frozenset(ids.normalize(str(i)) for i in item.payload.get(STALE_IDS, []))


def load_work(session: Session, items: Sequence[QueuedItem]) -> tuple[list[WorkItem], list[int]]:
    """The work items, and the ids of outbox items whose activity no longer exists."""
    email_ids = [i.subject_id for i in items if i.kind != "log_call"]
    call_ids = [i.subject_id for i in items if i.kind == "log_call"]
    emails = store.emails_to_log(session, email_ids)
    calls = store.calls_by_id(session, call_ids)
    person_ids = [c.person_id for c in calls.values()] + [
        r.person_id for e in emails.values() for r in e.recipients if r.person_id
    ]
    people = store.people_by_id(session, [p for p in person_ids if p is not None])
    answered = store.emails_by_message_ids(
        session,
        [e.team_id for e in emails.values() if e.is_reply],
        [e.in_reply_to for e in emails.values() if e.is_reply and e.in_reply_to],
    )
    # spec 1.10 Email Template: the name of the template the email was written from.
    templates = {
        email_id: row.template_name
        for email_id, row in engagement_store.engagement_of(session, email_ids).items()
        if row.template_name
    }
    work: list[WorkItem] = []
    gone: list[int] = []
    for item in items:
        kind = _KINDS[item.kind]
        unknown = bool(item.payload.get("outcome_unknown"))
        if kind is ActivityKind.CALL:
            call = calls.get(item.subject_id)
            if call is None:
                gone.append(item.id)
                continue
            person = people.get(call.person_id)
            attributes = {
                "call_outcome": call.outcome,
                "call_reason": call.reason,
                **{k: v for k, v in item.payload.items() if k not in _ENGINE_FLAGS},
            }
            activity = LoggedActivity(
                kind=kind,
                subject=call.notes.splitlines()[0][:255] if call.notes else None,
                sent_at=call.occurred_at,
                body_text=call.notes,
                call_duration_seconds=call.duration_seconds,
                attributes=attributes,
            )
            work.append(
                WorkItem(
                    item.id,
                    kind,
                    "call",
                    call.id,
                    None,
                    _recipient(person, None),
                    person,
                    activity,
                    unknown,
                )
            )
            continue
        email = emails.get(item.subject_id)
        recipient_id = item.payload.get("recipient_id")
        row = next((r for r in email.recipients if r.id == recipient_id), None) if email else None
        if email is None or row is None:
            gone.append(item.id)
            continue
        person = people.get(row.person_id) if row.person_id else None
        activity = _email_activity(kind, email, answered, templates.get(email.id))
        work.append(
            WorkItem(
                item.id,
                kind,
                "email",
                email.id,
                row.id,
                _recipient(person, row.address, _stale(item)),
                person,
                activity,
                unknown,
            )
        )
    return work, gone
