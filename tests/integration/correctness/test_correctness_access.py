"""A rep who may not read Leads, Contacts or Opportunities: named access problems, kept."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.sandbox.seed import username
from salesync.services import diagnostics as diagnostics_service
from salesync.services import sync_settings
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, OutboxItem, OutboxStatus, User
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.integration.logging.test_logging_api import drain, send, tasks_for

NO_ACCESS = {"read": False, "create": False, "edit": False, "delete": False}
FULL_ACCESS = {"read": True, "create": True, "edit": True, "delete": True}


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


def _set_access(sandbox: Sandbox, sobject: str, rights: dict[str, bool]) -> None:
    path = f"users/{username('rep1')}/permissions"
    sandbox.control("PUT", path, {"objects": {sobject: rights}})


def _unique(sandbox: Sandbox, sobject: str) -> dict[str, Any]:
    """A record whose address no other Lead or Contact shares (and not a converted Lead)."""
    rows = [
        {**r, "type": name}
        for name in ("Contact", "Lead")
        for r in sandbox.org.records.rows(name)
        if r.get("Email")
    ]
    seen = Counter(str(r["Email"]).lower() for r in rows)
    return next(
        r
        for r in rows
        if r["type"] == sobject and seen[str(r["Email"]).lower()] == 1 and not r.get("IsConverted")
    )


def _open_entries(runtime: Runtime) -> list[DiagnosticEntry]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(DiagnosticEntry).where(
                DiagnosticEntry.resolved_at.is_(None), DiagnosticEntry.outbox_id.is_not(None)
            )
        )
        return list(rows)


def _save(runtime: Runtime, rep: User, values: dict[str, object]) -> None:
    with unit_of_work(runtime.sessions) as session:
        user = session.get(User, rep.id)
        assert user is not None
        sync_settings.save_my_settings(session, user, values, now=runtime.clock.now())


def test_lead_access_refused_is_named_kept_and_logged_after_the_fix(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    lead = _unique(sandbox, "Lead")
    _set_access(sandbox, "Lead", NO_ACCESS)
    send(runtime, rep, [str(lead["Email"])])
    drain(runtime)
    assert tasks_for(sandbox, lead["Id"]) == []
    [entry] = _open_entries(runtime)
    assert (entry.code, entry.category) == ("LEAD_ACCESS_REFUSED", "access_validation")
    assert "read Leads" in entry.message and "INVALID_TYPE" in entry.message
    assert "grant Read on Leads" in str(entry.detail["fix"])
    assert "Log to Leads" in str(entry.detail["fix"])
    with runtime.sessions() as session:
        assert [i.status for i in session.scalars(select(OutboxItem))] == [OutboxStatus.FAILED]
    _set_access(sandbox, "Lead", FULL_ACCESS)
    assert diagnostics_service.retry(runtime, rep, [entry.id]) == 1
    drain(runtime)
    assert len(tasks_for(sandbox, lead["Id"])) == 1
    with runtime.sessions() as session:
        assert [i.status for i in session.scalars(select(OutboxItem))] == [OutboxStatus.DONE]


def test_a_contact_still_logs_when_only_leads_are_unreadable(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    contact = _unique(sandbox, "Contact")
    _set_access(sandbox, "Lead", NO_ACCESS)
    send(runtime, rep, [str(contact["Email"])])
    drain(runtime)
    assert len(tasks_for(sandbox, contact["Id"])) == 1
    assert _open_entries(runtime) == []


def test_contact_access_refused_is_named(runtime: Runtime, sandbox: Sandbox, rep: User) -> None:
    lead = _unique(sandbox, "Lead")
    _set_access(sandbox, "Contact", NO_ACCESS)
    send(runtime, rep, [str(lead["Email"])])  # a Contact with this address might win
    drain(runtime)
    assert tasks_for(sandbox, lead["Id"]) == []
    [entry] = _open_entries(runtime)
    assert entry.code == "CONTACT_ACCESS_REFUSED"
    assert "Log to Contacts" in str(entry.detail["fix"])


def test_create_lead_rule_creates_nothing_while_leads_are_unreadable(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    _save(runtime, rep, {"no_match_rule": "create_lead"})
    leads_before = len(sandbox.org.records.rows("Lead"))
    _set_access(sandbox, "Lead", NO_ACCESS)
    send(runtime, rep, ["nobody.yet@new-prospect.example"])
    drain(runtime)
    assert len(sandbox.org.records.rows("Lead")) == leads_before
    assert [e.code for e in _open_entries(runtime)] == ["LEAD_ACCESS_REFUSED"]


def test_opportunity_access_refused_is_named_and_logged_after_the_fix(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    roles = sandbox.org.records.rows("OpportunityContactRole")
    contact_ids = {r["ContactId"] for r in roles}
    contact = next(
        r for r in sandbox.org.records.rows("Contact") if r["Id"] in contact_ids and r["Email"]
    )
    _save(runtime, rep, {"opportunity_mode": "most_recent_open"})
    _set_access(sandbox, "Opportunity", NO_ACCESS)
    send(runtime, rep, [str(contact["Email"])])
    drain(runtime)
    assert tasks_for(sandbox, contact["Id"]) == []
    [entry] = _open_entries(runtime)
    assert entry.code == "OPPORTUNITY_ACCESS_REFUSED"
    assert "grant Read on Opportunities" in str(entry.detail["fix"])
    _set_access(sandbox, "Opportunity", FULL_ACCESS)
    diagnostics_service.retry(runtime, rep, [entry.id])
    drain(runtime)
    [task] = tasks_for(sandbox, contact["Id"])
    assert task["WhatId"] is not None


def test_the_sandbox_hides_contact_roles_from_a_user_who_cannot_read_opportunities(
    sandbox: Sandbox,
) -> None:
    import httpx

    token = sandbox.org.issue_token(username("rep1")).access_token
    query = f"{sandbox.base_url}/services/data/v62.0/query"
    headers = {"Authorization": f"Bearer {token}"}
    params = {"q": "SELECT Id FROM OpportunityContactRole LIMIT 1"}
    assert httpx.get(query, params=params, headers=headers).status_code == 200
    _set_access(sandbox, "Opportunity", NO_ACCESS)
    refused = httpx.get(query, params=params, headers=headers)
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_TYPE"
