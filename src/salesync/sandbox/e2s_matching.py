"""Which records an Email-to-Salesforce message is logged on (API-FACTS §4 "Matching").

To and Cc addresses (never Bcc) are searched against the standard Email field of Leads and
Contacts; a forwarded message (only Salesforce addresses in To) also searches From. A
``(ref: id,id)`` tag in the body names records directly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import TYPE_CHECKING

from salesync.sandbox.e2s_state import EmailToSalesforce, MatchMode
from salesync.sandbox.ids import normalize_id
from salesync.sandbox.records import Record

if TYPE_CHECKING:
    from salesync.sandbox.org import Org

#: API-FACTS §4 Limits: at most the first 50 unique addresses of To + Cc are matched.
MAX_MATCHED_ADDRESSES = 50
#: API-FACTS §4: the ``(ref: ...)`` tag counts only in the first 5,000 characters of the body.
REF_SCAN_CHARACTERS = 5000
_REF_TAG = re.compile(r"\(ref:\s*([^)]*)\)", re.IGNORECASE)
_WHO_TYPES = ("Contact", "Lead")
_WHAT_TYPES = ("Account", "Opportunity")


@dataclass(frozen=True)
class LogTarget:
    """One Task to create: about ``who`` (Contact/Lead), related to ``what`` (Account/Opp)."""

    who: str | None
    what: str | None


@dataclass
class Targets:
    tasks: list[LogTarget] = field(default_factory=list)
    #: Searched address -> ids of the Leads/Contacts chosen for it.
    matched: dict[str, list[str]] = field(default_factory=dict)
    referenced: list[str] = field(default_factory=list)


def searched_addresses(message: EmailMessage, e2s: EmailToSalesforce) -> list[str]:
    """To and Cc (plus From when forwarded), unique, without Salesforce's own addresses."""
    to = _addresses(message.get_all("To", []))
    cc = _addresses(message.get_all("Cc", []))
    forwarded = bool(to) and all(e2s.owns(address) for address in to)
    candidates = (_addresses(message.get_all("From", [])) if forwarded else []) + to + cc
    unique: dict[str, str] = {}
    for address in candidates:
        if not e2s.owns(address):
            unique.setdefault(address.lower(), address)
    return list(unique.values())[:MAX_MATCHED_ADDRESSES]


def _addresses(values: Iterable[object]) -> list[str]:
    return [address for _, address in getaddresses([str(v) for v in values]) if "@" in address]


def find_targets(org: Org, message: EmailMessage, body: str) -> Targets:
    """The Tasks to create for ``message`` in ``org`` (empty when nothing matches)."""
    settings = org.e2s.settings
    targets = Targets()
    activity = _activity_counts(org) if settings.match_mode == "most_activity" else Counter()
    whos: list[str] = []
    for address in searched_addresses(message, org.e2s):
        chosen = _choose(_people_with_email(org, address), settings.match_mode, activity)
        if chosen:
            targets.matched[address] = [str(r["Id"]) for r in chosen]
            whos.extend(str(r["Id"]) for r in chosen)
    targets.referenced = referenced_ids(org, body)
    whos.extend(i for i in targets.referenced if org.records.sobject_of(i) in _WHO_TYPES)
    for who in dict.fromkeys(whos):
        targets.tasks.extend(_tasks_for(org, who, settings.log_to_opportunities))
    covered = {task.what for task in targets.tasks}
    for what in targets.referenced:
        if org.records.sobject_of(what) in _WHAT_TYPES and what not in covered:
            targets.tasks.append(LogTarget(None, what))
    return targets


def _tasks_for(org: Org, who: str, log_to_opportunities: bool) -> list[LogTarget]:
    """One Task per open opportunity of a contact (when on), else one Task on the record."""
    if log_to_opportunities and org.records.sobject_of(who) == "Contact":
        opportunities = open_opportunities(org, who)
        if opportunities:
            return [LogTarget(who, opportunity) for opportunity in opportunities]
    return [LogTarget(who, None)]


def _people_with_email(org: Org, address: str) -> list[Record]:
    """Live Contacts and Leads whose standard Email field is ``address``; custom email fields
    are not searched, and converted leads can't take activities (API-FACTS §4)."""
    lowered = address.lower()
    found = []
    for sobject in _WHO_TYPES:
        for record in org.records.rows(sobject):
            email = record.get("Email")
            if record.get("IsDeleted") or record.get("IsConverted") or not email:
                continue
            if str(email).lower() == lowered:
                found.append(record)
    return found


def _choose(records: list[Record], mode: MatchMode, activity: Counter[str]) -> list[Record]:
    """All matches, the oldest, or the one with the most activity (ties: the oldest)."""
    if mode == "all" or len(records) <= 1:
        return records
    by_age = sorted(records, key=lambda r: (r["CreatedDate"], r["Id"]))
    if mode == "oldest":
        return by_age[:1]
    return [max(by_age, key=lambda r: (activity[r["Id"]], -by_age.index(r)))]


def _activity_counts(org: Org) -> Counter[str]:
    return Counter(
        str(task["WhoId"])
        for task in org.records.rows("Task")
        if task.get("WhoId") and not task.get("IsDeleted")
    )


def open_opportunities(org: Org, contact_id: str) -> list[str]:
    """Open opportunities where the contact has a contact role (API-FACTS §4)."""
    found: list[str] = []
    for role in org.records.rows("OpportunityContactRole"):
        if role.get("IsDeleted") or role.get("ContactId") != contact_id:
            continue
        opportunity = org.records.get(str(role["OpportunityId"]))
        if opportunity and not opportunity.get("IsDeleted") and not opportunity.get("IsClosed"):
            found.append(str(opportunity["Id"]))
    return sorted(set(found))


def referenced_ids(org: Org, body: str) -> list[str]:
    """Ids of a ``(ref: id,id)`` tag in the first 5,000 characters; invalid ids are ignored."""
    found: list[str] = []
    for tag in _REF_TAG.finditer(body[:REF_SCAN_CHARACTERS]):
        for token in re.split(r"[\s,;]+", tag.group(1)):
            record_id = normalize_id(token) if token else None
            record = org.records.get(record_id) if record_id else None
            if record is None or record.get("IsDeleted") or record.get("IsConverted"):
                continue
            if org.records.sobject_of(str(record["Id"])) in (*_WHO_TYPES, *_WHAT_TYPES):
                found.append(str(record["Id"]))
    return list(dict.fromkeys(found))
