""" "Find in Salesforce": fill a person's Lead/Contact/Account ids from the org by email.

MATCH-11: a rep can pull a person's Salesforce record into salesync. One composite call looks
the address up in Contacts and Leads as the rep (their field-level security applies); the
Contact wins over a Lead, a converted Lead resolves to its Contact, and among several matches
the oldest record is taken. Filling an id re-queues the person's unmatched activities.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from salesync.domain import ids, soql
from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput
from salesync.runtime import Runtime
from salesync.salesforce.composite import CompositeSubrequest
from salesync.salesforce_access import open_client
from salesync.services import people
from salesync.store import connections as connection_store
from salesync.store.tables import ConnectionStatus, Person, User


@dataclass(frozen=True)
class LookupOutcome:
    person: Person
    #: The ids written to the person (field -> 18-character id); empty when nothing matched.
    filled: dict[str, str]
    contacts_found: int
    leads_found: int


def _query(reference: str, statement: str) -> CompositeSubrequest:
    return CompositeSubrequest("GET", "query?q=" + urllib.parse.quote_plus(statement), reference)


def find_in_salesforce(runtime: Runtime, actor: User, person_id: int) -> LookupOutcome:
    person = people.get_person(runtime, actor, person_id)
    if not person.email:
        raise InvalidInput(tr("the person has no email address to look up"), field="email")
    with runtime.sessions() as session:
        connection = connection_store.for_user(session, actor.id)
        if connection is None or connection.status is not ConnectionStatus.CONNECTED:
            raise Conflict(tr("connect your Salesforce account first (Settings > Salesforce)"))
        session.expunge(connection)
    requests = [
        _query(
            "contacts",
            soql.format_soql(
                "SELECT Id, AccountId, CreatedDate FROM Contact WHERE Email = {} "
                "ORDER BY CreatedDate ASC LIMIT 50",
                person.email,
            ),
        ),
        _query(
            "leads",
            soql.format_soql(
                "SELECT Id, IsConverted, ConvertedContactId, ConvertedAccountId, CreatedDate "
                "FROM Lead WHERE Email = {} ORDER BY CreatedDate ASC LIMIT 50",
                person.email,
            ),
        ),
    ]
    with open_client(runtime, connection) as client:
        answers = {a.reference_id: a for a in client.composite(requests)}
    contacts = _rows(answers["contacts"])
    leads = _rows(answers["leads"])
    filled = _choose(contacts, leads)
    if filled:
        person = people.update_person(runtime, actor, person_id, dict(filled))
    return LookupOutcome(person, filled, len(contacts), len(leads))


def _rows(answer: Any) -> list[dict[str, Any]]:
    # A lookup the rep may not make (no access to Lead) just finds nothing there.
    return [] if answer.error() is not None else list(answer.records)


def _choose(contacts: list[dict[str, Any]], leads: list[dict[str, Any]]) -> dict[str, str]:
    if contacts:
        contact = contacts[0]
        filled = {"sf_contact_id": ids.normalize(str(contact["Id"]))}
        if contact.get("AccountId"):
            filled["sf_account_id"] = ids.normalize(str(contact["AccountId"]))
        return filled
    for lead in leads:
        if lead.get("IsConverted") and lead.get("ConvertedContactId"):
            filled = {
                "sf_contact_id": ids.normalize(str(lead["ConvertedContactId"])),
                "sf_lead_id": ids.normalize(str(lead["Id"])),
            }
            if lead.get("ConvertedAccountId"):
                filled["sf_account_id"] = ids.normalize(str(lead["ConvertedAccountId"]))
            return filled
    if leads:
        return {"sf_lead_id": ids.normalize(str(leads[0]["Id"]))}
    return {}
