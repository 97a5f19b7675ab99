"""Which Salesforce Lead, Contact and Opportunity a logged activity goes to, and why not."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from salesync.domain import ids
from salesync.domain.activity_kinds import ActivityKind
from salesync.domain.dates import require_aware
from salesync.domain.object_access import AccessRefused, access_refused
from salesync.domain.settings import (
    DuplicateRule,
    LoggingMode,
    NoMatchRule,
    OpportunityMode,
    SyncSettings,
)
from salesync.domain.wording import tr

#: At most this many Tasks for one activity under the ``all`` duplicate rule (DESIGN §3).
MAX_TARGETS = 50


@dataclasses.dataclass(frozen=True)
class Recipient:
    """The person an activity was sent to, as salesync knows them (MATCH-5, MATCH-7)."""

    email: str | None = None
    contact_id: str | None = None
    lead_id: str | None = None
    account_id: str | None = None
    opportunity_id: str | None = None


@dataclasses.dataclass(frozen=True)
class CandidateRecord:
    """A Lead or Contact found in Salesforce by email (MATCH-3 query shape)."""

    id: str
    sobject: Literal["Lead", "Contact"]
    email: str | None
    created_date: dt.datetime
    #: Number of related Tasks, from the ``(SELECT Id FROM Tasks)`` subquery (MATCH-3).
    activity_count: int = 0
    is_converted: bool = False
    converted_contact_id: str | None = None
    account_id: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.created_date, "created_date")


@dataclasses.dataclass(frozen=True)
class OpportunityRole:
    """An OpportunityContactRole joined with its opportunity's state (API-8)."""

    opportunity_id: str
    contact_id: str
    is_closed: bool
    last_modified: dt.datetime
    close_date: dt.date | None = None

    def __post_init__(self) -> None:
        require_aware(self.last_modified, "last_modified")


@dataclasses.dataclass(frozen=True)
class LogTarget:
    """Where one Task goes: WhoId (Lead/Contact, or None when unassigned) and WhatId."""

    who_id: str | None
    what_id: str | None
    reason: str


class UnmatchedCode(enum.StrEnum):
    """Stable codes for activities that are not logged, shown on Diagnostics."""

    LOGGING_OFF = "LOGGING_OFF"
    BCC_MODE = "BCC_MODE"
    EMAIL_LOGGING_OFF = "EMAIL_LOGGING_OFF"
    REPLY_LOGGING_OFF = "REPLY_LOGGING_OFF"
    CALL_LOGGING_OFF = "CALL_LOGGING_OFF"
    NO_SALESFORCE_ID = "NO_SALESFORCE_ID"
    NO_EMAIL_ADDRESS = "NO_EMAIL_ADDRESS"
    NO_MATCHING_RECORD = "NO_MATCHING_RECORD"
    LEADS_DISABLED = "LEADS_DISABLED"
    CONTACTS_DISABLED = "CONTACTS_DISABLED"
    CONVERTED_LEAD_WITHOUT_CONTACT = "CONVERTED_LEAD_WITHOUT_CONTACT"


@dataclasses.dataclass(frozen=True)
class Matched:
    """Log one Task per target (1 to ``MAX_TARGETS``)."""

    targets: tuple[LogTarget, ...]


@dataclasses.dataclass(frozen=True)
class Unmatched:
    """Do not log now; the code and text say why (retried when an id appears)."""

    code: UnmatchedCode
    reason_text: str


@dataclasses.dataclass(frozen=True)
class SalesforceRefusal:
    """Salesforce's own reason for refusing a write, kept as it was sent."""

    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class CreateLead:
    """No record matched and the no-match rule says: create a Lead, then log to it."""

    email: str
    reason: str
    #: Salesforce's code and message when it refused to create the Lead.
    refusal: SalesforceRefusal | None = None


MatchResult = Matched | Unmatched | CreateLead | AccessRefused
_UNKNOWN_DATE = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class _Person:
    id: str
    sobject: Literal["Lead", "Contact"]
    reason: str
    created_date: dt.datetime = _UNKNOWN_DATE
    activity_count: int = 0
    #: The converted lead this contact was reached through (MATCH-10), if any.
    converted_from: str | None = None


def lookup_key(email: str) -> str:
    """The form of an address used to compare it with Salesforce Email fields."""
    return email.strip().lower()


def emails_to_look_up(recipients: Iterable[Recipient]) -> tuple[str, ...]:
    """Addresses to query in ONE batch lookup (Lead and Contact by Email, MATCH-3).

    A recipient with a stored Contact id needs no lookup (MATCH-1). One with only a Lead id
    is included so a converted lead is seen (MATCH-10). Sorted, lower-cased, no repeats.
    """
    wanted = {
        lookup_key(recipient.email)
        for recipient in recipients
        if recipient.email and recipient.email.strip() and not ids.is_valid_id(recipient.contact_id)
    }
    return tuple(sorted(wanted))


def lead_ids_to_look_up(recipients: Iterable[Recipient]) -> tuple[str, ...]:
    """Stored Lead ids to fetch in the same batch lookup (``Id IN (...)``) so that a
    converted lead is resolved to its contact even when its address changed (MATCH-10).

    Only recipients without a stored Contact id need it. Sorted 18-character ids.
    """
    wanted = {
        ids.normalize(recipient.lead_id or "")
        for recipient in recipients
        if ids.is_valid_id(recipient.lead_id) and not ids.is_valid_id(recipient.contact_id)
    }
    return tuple(sorted(wanted))


def match_activity(
    kind: ActivityKind,
    recipient: Recipient,
    candidates: Sequence[CandidateRecord],
    roles: Sequence[OpportunityRole],
    settings: SyncSettings,
    refused: Mapping[str, str] | None = None,
) -> MatchResult:
    """Decide where an email, reply or call is logged.

    ``refused`` names the objects whose lookup Salesforce refused (object permission or
    sharing), with Salesforce's reason. An address match that may have missed a record
    there is not guessed at: it is an access problem naming the object (AccessRefused).

    ``candidates`` may hold the lookup results for a whole batch; only those with the
    recipient's address (or the stored lead id) are used. Emails and replies: stored
    Salesforce id first, then email address (MATCH-1). Calls: stored id only (MATCH-2).
    Leads/Contacts switched off are filtered before Contact wins over Lead.
    """
    refusal = _logging_gate(kind, settings)
    if refusal is not None:
        return refusal
    found = _stored_people(recipient, candidates)
    if not found and kind is not ActivityKind.CALL:
        found = _email_people(recipient, candidates)
        blind = _blind_spot(found, refused or {}, settings)
        if blind is not None:
            return blind
    if not found:
        return _no_record(kind, recipient, settings)
    allowed = [person for person in found if person is not None and _allowed(person, settings)]
    if not allowed:
        return _filtered_out(found)
    chosen = _choose(allowed, settings.duplicate_rule)
    return Matched(_targets(chosen, roles, settings.opportunity_mode)[:MAX_TARGETS])


def _blind_spot(
    found: list[_Person | None], refused: Mapping[str, str], settings: SyncSettings
) -> AccessRefused | None:
    """The refused object that could change this address match, if any.

    A Contact wins over a Lead, so an unreadable Contact object always could; an unreadable
    Lead object only when no Contact was found.
    """
    if "Contact" in refused and settings.log_to_contacts:
        return access_refused("Contact", refused["Contact"])
    has_contact = any(person is not None and person.sobject == "Contact" for person in found)
    if "Lead" in refused and settings.log_to_leads and not has_contact:
        return access_refused("Lead", refused["Lead"])
    return None


def _logging_gate(kind: ActivityKind, settings: SyncSettings) -> Unmatched | None:
    if settings.logging_mode is LoggingMode.OFF:
        return Unmatched(UnmatchedCode.LOGGING_OFF, tr("Logging to Salesforce is turned off."))
    if kind is ActivityKind.CALL:
        if not settings.log_calls:
            return Unmatched(UnmatchedCode.CALL_LOGGING_OFF, tr("Call logging is turned off."))
        return None
    if settings.logging_mode is LoggingMode.BCC:
        text = tr("Emails are logged by Email to Salesforce (BCC), not through the API.")
        return Unmatched(UnmatchedCode.BCC_MODE, text)
    if not settings.log_emails:
        return Unmatched(UnmatchedCode.EMAIL_LOGGING_OFF, tr("Email logging is turned off."))
    if kind is ActivityKind.REPLY and not settings.log_replies:
        return Unmatched(UnmatchedCode.REPLY_LOGGING_OFF, tr("Reply logging is turned off."))
    return None


def _stored_people(
    recipient: Recipient, candidates: Sequence[CandidateRecord]
) -> list[_Person | None]:
    """People from the stored Salesforce ids; None marks a converted lead with no contact."""
    found: list[_Person | None] = []
    if ids.is_valid_id(recipient.contact_id):
        contact_id = ids.normalize(recipient.contact_id or "")
        found.append(_Person(contact_id, "Contact", "stored Salesforce contact id"))
    if ids.is_valid_id(recipient.lead_id):
        lead_id = ids.normalize(recipient.lead_id or "")
        known = next((c for c in candidates if ids.same_id(c.id, lead_id)), None)
        if known is None:
            found.append(_Person(lead_id, "Lead", "stored Salesforce lead id"))
        else:
            found.append(_resolve(known, "stored Salesforce lead id"))
    return _dedupe(found)


def _email_people(
    recipient: Recipient, candidates: Sequence[CandidateRecord]
) -> list[_Person | None]:
    if not recipient.email or not recipient.email.strip():
        return []
    key = lookup_key(recipient.email)
    same_address = [c for c in candidates if c.email and lookup_key(c.email) == key]
    resolved = [_resolve(candidate, "email address matches") for candidate in same_address]
    return _dedupe(resolved)


def _resolve(candidate: CandidateRecord, how: str) -> _Person | None:
    """A converted lead stands for its converted contact (MATCH-10)."""
    if candidate.sobject == "Lead" and candidate.is_converted:
        if not ids.is_valid_id(candidate.converted_contact_id):
            return None
        contact_id = ids.normalize(candidate.converted_contact_id or "")
        reason = f"{how}; converted lead {candidate.id} resolved to its contact"
        return _Person(
            contact_id,
            "Contact",
            reason,
            candidate.created_date,
            candidate.activity_count,
            converted_from=ids.normalize(candidate.id),
        )
    return _Person(
        ids.normalize(candidate.id),
        candidate.sobject,
        how,
        candidate.created_date,
        candidate.activity_count,
    )


def _dedupe(people: list[_Person | None]) -> list[_Person | None]:
    """One entry per record; a real Contact row beats a converted lead pointing at it."""
    by_id: dict[str, _Person] = {}
    unresolved: list[_Person | None] = []
    for person in people:
        if person is None:
            unresolved.append(None)
        elif person.id not in by_id or by_id[person.id].converted_from is not None:
            by_id[person.id] = person
    return [*by_id.values(), *unresolved]


def _allowed(person: _Person, settings: SyncSettings) -> bool:
    return settings.log_to_contacts if person.sobject == "Contact" else settings.log_to_leads


def _filtered_out(found: list[_Person | None]) -> Unmatched:
    people = [person for person in found if person is not None]
    if not people:
        text = tr("The matching lead was converted but has no converted contact to log to.")
        return Unmatched(UnmatchedCode.CONVERTED_LEAD_WITHOUT_CONTACT, text)
    if any(person.sobject == "Contact" for person in people):
        return Unmatched(UnmatchedCode.CONTACTS_DISABLED, tr("Logging to Contacts is turned off."))
    return Unmatched(UnmatchedCode.LEADS_DISABLED, tr("Logging to Leads is turned off."))


def _no_record(kind: ActivityKind, recipient: Recipient, settings: SyncSettings) -> MatchResult:
    if kind is ActivityKind.CALL:
        text = tr("Calls log only to a person with a Salesforce ID, and this person has none.")
        return Unmatched(UnmatchedCode.NO_SALESFORCE_ID, text)
    if not recipient.email or not recipient.email.strip():
        text = tr("The person has no Salesforce ID and no email address to look up.")
        return Unmatched(UnmatchedCode.NO_EMAIL_ADDRESS, text)
    email = lookup_key(recipient.email)
    if settings.no_match_rule is NoMatchRule.LOG_UNASSIGNED:
        return Matched((LogTarget(None, None, f"no record matches {email}; logged unassigned"),))
    if settings.no_match_rule is NoMatchRule.CREATE_LEAD:
        if not settings.log_to_leads:
            text = tr("No record matches {email}, and logging to Leads is turned off.", email=email)
            return Unmatched(UnmatchedCode.LEADS_DISABLED, text)
        return CreateLead(email, f"no Lead or Contact matches {email}")
    text = tr("No Lead or Contact in Salesforce has the address {email}.", email=email)
    return Unmatched(UnmatchedCode.NO_MATCHING_RECORD, text)


def _choose(people: list[_Person], rule: DuplicateRule) -> list[_Person]:
    """Contact wins over Lead (DESIGN §3); then the duplicate rule picks among the rest."""
    contacts = [person for person in people if person.sobject == "Contact"]
    group = contacts or people
    oldest_first = sorted(group, key=lambda person: (person.created_date, person.id))
    if rule is DuplicateRule.ALL:
        return oldest_first[:MAX_TARGETS]
    if rule is DuplicateRule.OLDEST:
        return oldest_first[:1]
    # Stable sort keeps oldest-first order among equal activity counts: ties go to the oldest.
    return sorted(oldest_first, key=lambda person: -person.activity_count)[:1]


def _targets(
    people: list[_Person], roles: Sequence[OpportunityRole], mode: OpportunityMode
) -> tuple[LogTarget, ...]:
    targets: list[LogTarget] = []
    for person in people:
        opportunities = _open_opportunities(person, roles, mode)
        if not opportunities:
            targets.append(LogTarget(person.id, None, person.reason))
        for opportunity_id in opportunities:
            reason = f"{person.reason}; contact role on open opportunity {opportunity_id}"
            targets.append(LogTarget(person.id, opportunity_id, reason))
    return tuple(targets)


def _open_opportunities(
    person: _Person, roles: Sequence[OpportunityRole], mode: OpportunityMode
) -> list[str]:
    """Open opportunities where the contact has a contact role, most recent first (API-8)."""
    if mode is OpportunityMode.OFF or person.sobject != "Contact":
        return []
    open_roles = [r for r in roles if not r.is_closed and ids.same_id(r.contact_id, person.id)]
    newest_first = sorted(
        open_roles, key=lambda role: (role.last_modified, role.opportunity_id), reverse=True
    )
    unique: list[str] = []
    for role in newest_first:
        opportunity_id = ids.normalize(role.opportunity_id)
        if opportunity_id not in unique:
            unique.append(opportunity_id)
    return unique[:1] if mode is OpportunityMode.MOST_RECENT_OPEN else unique
