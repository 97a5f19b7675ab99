"""The batch lookups of activity logging: Leads and Contacts by email and id, contact roles.

A whole batch (up to 1,000 activities) is looked up in ONE composite call: Contacts and
Leads by Email (MATCH-3 query shape, with the Tasks subquery that counts activity), Leads by
stored id so converted leads resolve (MATCH-10), and, when an earlier attempt's outcome is
unknown and no External ID field exists, the Tasks it may have created.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from salesync.domain import ids, soql
from salesync.domain.categories import ErrorCategory
from salesync.domain.dates import parse_salesforce_date, parse_salesforce_datetime
from salesync.domain.matching import CandidateRecord, OpportunityRole
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest, CompositeSubresponse
from salesync.salesforce.errors import SalesforceError

#: Addresses per query: keeps each SOQL statement far below the 100,000-character limit.
EMAILS_PER_QUERY = 1000
#: Salesforce allows 5 query subrequests per composite (API-FACTS §2.5).
MAX_QUERIES = 5


@dataclass(frozen=True)
class LookupResult:
    candidates: tuple[CandidateRecord, ...]
    #: Errors of a lookup the rep has no access to (e.g. INVALID_TYPE on Lead), by object.
    refused: Mapping[str, SalesforceError]
    #: Tasks found for items whose earlier create may have succeeded.
    existing_tasks: tuple[Mapping[str, Any], ...] = ()


def _query(reference: str, statement: str) -> CompositeSubrequest:
    return CompositeSubrequest("GET", "query?q=" + urllib.parse.quote_plus(statement), reference)


def lookup_subrequests(
    emails: Sequence[str],
    lead_ids: Sequence[str],
    *,
    leads: bool,
    contacts: bool,
    task_search: str | None = None,
) -> list[CompositeSubrequest]:
    requests: list[CompositeSubrequest] = []
    for index in range(0, len(emails), EMAILS_PER_QUERY):
        chunk = list(emails[index : index + EMAILS_PER_QUERY])
        if contacts:
            requests.append(
                _query(
                    f"contacts{index}",
                    soql.format_soql(
                        "SELECT Id, Email, CreatedDate, AccountId, (SELECT Id FROM Tasks) "
                        "FROM Contact WHERE Email IN {}",
                        chunk,
                    ),
                )
            )
        if leads:
            requests.append(
                _query(
                    f"leads{index}",
                    soql.format_soql(
                        "SELECT Id, Email, CreatedDate, IsConverted, ConvertedContactId, "
                        "(SELECT Id FROM Tasks) FROM Lead WHERE Email IN {}",
                        chunk,
                    ),
                )
            )
    if lead_ids:
        requests.append(
            _query(
                "leadIds",
                soql.format_soql(
                    "SELECT Id, Email, CreatedDate, IsConverted, ConvertedContactId, "
                    "(SELECT Id FROM Tasks) FROM Lead WHERE Id IN {}",
                    list(lead_ids),
                ),
            )
        )
    if task_search:
        requests.append(_query("existingTasks", task_search))
    if len(requests) > MAX_QUERIES:
        raise ValueError("too many lookups for one composite call; use smaller batches")
    return requests


def task_search_soql(owner_id: str, activity_ids_since: datetime, subjects: Iterable[str]) -> str:
    """Tasks the rep created since the first attempt, to find a create whose answer was lost."""
    since = activity_ids_since - timedelta(minutes=5)
    return soql.format_soql(
        "SELECT Id, WhoId, WhatId, Subject, ActivityDate, TaskSubtype FROM Task "
        "WHERE OwnerId = {} AND CreatedDate >= {} AND TaskSubtype IN ('Email', 'Call') "
        "AND Subject IN {}",
        owner_id,
        since,
        sorted(set(subjects)),
    )


def run_lookups(client: SalesforceClient, requests: Sequence[CompositeSubrequest]) -> LookupResult:
    if not requests:
        return LookupResult((), {})
    return lookups_from(client, client.composite(requests))


def lookups_from(client: SalesforceClient, answers: Sequence[CompositeSubresponse]) -> LookupResult:
    """What the answers to :func:`lookup_subrequests` found, whichever call carried them."""
    candidates: list[CandidateRecord] = []
    refused: dict[str, SalesforceError] = {}
    existing: list[Mapping[str, Any]] = []
    for answer in answers:
        sobject = _sobject_of(answer.reference_id)
        error = answer.error()
        if error is not None:
            if error.category in (ErrorCategory.INTERMITTENT, ErrorCategory.AUTHENTICATION):
                raise error
            refused[sobject] = error
            continue
        rows = _all_rows(client, answer)
        if sobject == "Task":
            existing.extend(rows)
        else:
            candidates.extend(_candidate(sobject, row) for row in rows)
    unique = {c.id: c for c in candidates}
    return LookupResult(tuple(unique.values()), refused, tuple(existing))


def _sobject_of(reference: str) -> str:
    if reference.startswith("contacts"):
        return "Contact"
    if reference.startswith("lead"):
        return "Lead"
    return "Task"


def _all_rows(client: SalesforceClient, answer: CompositeSubresponse) -> list[dict[str, Any]]:
    """The first page from the composite answer, then any further pages."""
    body = answer.body if isinstance(answer.body, dict) else {}
    rows = list(body.get("records") or [])
    next_url = body.get("nextRecordsUrl")
    if next_url:
        rows.extend(client.query_more_all(str(next_url)))
    return rows


def _candidate(sobject: str, row: Mapping[str, Any]) -> CandidateRecord:
    tasks = row.get("Tasks") or {}
    created = parse_salesforce_datetime(row.get("CreatedDate"))
    assert created is not None
    return CandidateRecord(
        id=ids.normalize(str(row["Id"])),
        sobject="Contact" if sobject == "Contact" else "Lead",
        email=row.get("Email"),
        created_date=created,
        activity_count=int(tasks.get("totalSize") or 0) if isinstance(tasks, dict) else 0,
        is_converted=bool(row.get("IsConverted")),
        converted_contact_id=row.get("ConvertedContactId"),
        account_id=row.get("AccountId"),
    )


def opportunity_roles(
    client: SalesforceClient, contact_ids: Sequence[str]
) -> list[OpportunityRole]:
    """Open opportunities where these contacts have a contact role (API-8), in one query."""
    if not contact_ids:
        return []
    statement = soql.format_soql(
        "SELECT OpportunityId, ContactId, Opportunity.IsClosed, Opportunity.LastModifiedDate, "
        "Opportunity.CloseDate FROM OpportunityContactRole WHERE ContactId IN {} "
        "AND Opportunity.IsClosed = false",
        sorted(set(contact_ids)),
    )
    roles: list[OpportunityRole] = []
    for row in client.query(statement):
        opportunity = row.get("Opportunity") or {}
        modified = parse_salesforce_datetime(opportunity.get("LastModifiedDate"))
        assert modified is not None
        roles.append(
            OpportunityRole(
                opportunity_id=ids.normalize(str(row["OpportunityId"])),
                contact_id=ids.normalize(str(row["ContactId"])),
                is_closed=bool(opportunity.get("IsClosed")),
                last_modified=modified,
                close_date=parse_salesforce_date(opportunity.get("CloseDate")),
            )
        )
    return roles
