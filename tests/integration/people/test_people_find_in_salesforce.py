""" "Find in Salesforce" fills a person's ids from the sandbox org by email (MATCH-11)."""

from __future__ import annotations

from collections import Counter

import pytest

from salesync.errors import Conflict
from salesync.runtime import Runtime
from salesync.services import activities
from salesync.services.people_lookup import find_in_salesforce
from salesync.store.tables import User
from salesync.sync.factory import build_worker
from tests.fixtures_sandbox import Sandbox, add_person, add_user, connect


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


def _unique(sandbox: Sandbox, sobject: str, **wanted: object) -> dict[str, object]:
    contacts = Counter(
        str(r.get("Email") or "").lower() for r in sandbox.org.records.rows("Contact")
    )
    leads = Counter(str(r.get("Email") or "").lower() for r in sandbox.org.records.rows("Lead"))
    for row in sandbox.org.records.rows(sobject):
        email = str(row.get("Email") or "").lower()
        if (
            email
            and contacts[email] + leads[email] == 1
            and all(bool(row.get(k)) == v for k, v in wanted.items())
        ):
            return dict(row)
    raise AssertionError(f"no {sobject} with a unique address")


def test_a_contact_fills_the_contact_and_account_ids(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    contact = _unique(sandbox, "Contact")
    person = add_person(runtime, rep, str(contact["Email"]).upper())
    outcome = find_in_salesforce(runtime, rep, person)
    assert outcome.filled["sf_contact_id"] == contact["Id"]
    assert outcome.person.sf_contact_id == contact["Id"]
    assert outcome.person.sf_account_id == (contact.get("AccountId") or None)


def test_a_converted_lead_gives_its_contact_and_a_lead_alone_its_lead(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    converted = _unique(sandbox, "Lead", IsConverted=True)
    person = add_person(runtime, rep, str(converted["Email"]))
    assert (
        find_in_salesforce(runtime, rep, person).filled["sf_contact_id"]
        == (converted["ConvertedContactId"])
    )
    lead = _unique(sandbox, "Lead", IsConverted=False)
    other = add_person(runtime, rep, str(lead["Email"]))
    assert find_in_salesforce(runtime, rep, other).filled == {"sf_lead_id": lead["Id"]}


def test_nothing_found_changes_nothing_and_no_connection_is_refused(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    person = add_person(runtime, rep, "nobody@nowhere.example")
    outcome = find_in_salesforce(runtime, rep, person)
    assert outcome.filled == {} and outcome.person.sf_contact_id is None
    stranger = add_user(runtime, "rep9@salesync.test")
    with pytest.raises(Conflict):
        find_in_salesforce(runtime, stranger, person)


def test_found_ids_log_the_waiting_call(runtime: Runtime, sandbox: Sandbox, rep: User) -> None:
    contact = _unique(sandbox, "Contact")
    person = add_person(runtime, rep, str(contact["Email"]))
    activities.log_call(runtime, rep, activities.CallDraft(person, runtime.clock.now(), 90))
    build_worker(runtime).drain()
    assert sandbox.tasks() == []  # MATCH-2: no id, no log
    find_in_salesforce(runtime, rep, person)
    build_worker(runtime).drain()
    assert [t["WhoId"] for t in sandbox.tasks()] == [contact["Id"]]
