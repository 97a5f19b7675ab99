"""sObject Collections partial failures and composite references against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from salesync.domain.soql import chunk_in_clause, format_soql
from salesync.salesforce.auth import MemoryTokenStore, OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest as Sub
from salesync.salesforce.errors import AccessOrValidationError, IntermittentError
from salesync.salesforce.oauth import OAuthClientConfig, TokenSet
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import serve_in_thread

ADMIN = "admin@sandbox.salesync.test"
EXT = "Salesync_Activity_Id__c"


@dataclass
class Sandbox:
    org: Org
    url: str
    http: httpx.Client

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox__{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def client(self) -> SalesforceClient:
        issued = self.org.issue_token(ADMIN)
        tokens = TokenSet(
            issued.access_token,
            issued.refresh_token,
            self.url,
            f"{self.url}/id/x/y",
            datetime.now(UTC),
        )
        config = OAuthClientConfig("salesync", "salesync-secret", login_url=self.url)
        auth = RefreshingAuth(MemoryTokenStore(tokens), OAuthRefresher(config, self.http))
        return SalesforceClient(self.url, auth, http=self.http)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    org = Org("empty")
    with serve_in_thread(create_sandbox_app(org)) as server, httpx.Client(timeout=30) as http:
        yield Sandbox(org, server.base_url, http)


def test_create_many_reports_each_failure_at_its_position(sandbox: Sandbox) -> None:
    client = sandbox.client()
    records: list[dict[str, Any]] = [{"Subject": f"ok {i}"} for i in range(205)]
    records[7] = {"Subject": "x" * 256}
    records[202] = {"Subject": "bad call type", "CallType": "Sideways"}
    results = client.create_many("Task", records)
    assert client.api_calls_made == 2
    assert [i for i, r in enumerate(results) if not r.ok] == [7, 202]
    assert results[7].id is None
    assert results[7].real_error is not None and results[7].real_error.code == "STRING_TOO_LONG"
    assert results[202].real_error is not None
    assert results[202].real_error.code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    stored = {r["Id"] for r in client.query("SELECT Id FROM Task")}
    assert stored == {r.id for r in results if r.ok}


def test_update_and_delete_many_partial_failures(sandbox: Sandbox) -> None:
    client = sandbox.client()
    ids = [r.id for r in client.create_many("Task", [{"Subject": f"t{i}"} for i in range(3)])]
    assert all(ids)
    client.delete("Task", str(ids[2]))
    updates = [{"Id": ids[0], "Status": "Completed"}, {"Id": ids[1], "IsClosed": True}]
    updated = client.update_many("Task", updates)
    assert [r.ok for r in updated] == [True, False]
    assert updated[1].real_error is not None
    assert updated[1].real_error.code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    deleted = client.delete_many([str(i) for i in ids])
    assert [r.ok for r in deleted] == [True, True, False]
    assert deleted[2].real_error is not None and deleted[2].real_error.code == "ENTITY_IS_DELETED"


def test_upsert_many_is_idempotent_on_the_external_id(sandbox: Sandbox) -> None:
    sandbox.control(
        "POST",
        "/custom-fields",
        {
            "sobject": "Task",
            "name": EXT,
            "kind": "text",
            "length": 64,
            "externalId": True,
            "unique": True,
        },
    )
    client = sandbox.client()
    records = [{EXT: f"act-{i}", "Subject": f"email {i}"} for i in range(250)]
    first = client.upsert_many("Task", EXT, records)
    assert all(r.ok and r.created for r in first)
    again = client.upsert_many("Task", EXT, records)
    assert all(r.ok and r.created is False for r in again)
    assert [r.id for r in again] == [r.id for r in first]
    assert len(list(client.query("SELECT Id FROM Task"))) == 250


def test_composite_chains_references_in_one_call(sandbox: Sandbox) -> None:
    client = sandbox.client()
    answers = client.composite(
        [
            Sub("POST", "sobjects/Account", "acct", {"Name": "Acme"}),
            Sub(
                "POST",
                "sobjects/Contact",
                "person",
                {"LastName": "Lovelace", "Email": "ada@acme.test", "AccountId": "@{acct.id}"},
            ),
            Sub(
                "POST",
                "sobjects/Task",
                "task",
                {"Subject": "Email: hello", "WhoId": "@{person.id}", "WhatId": "@{acct.id}"},
            ),
            Sub.query(
                format_soql("SELECT Id, AccountId FROM Task WHERE Subject = {}", "Email: hello"),
                "check",
            ),
        ]
    )
    assert client.api_calls_made == 1
    assert [a.status for a in answers] == [201, 201, 201, 200]
    account_id = answers[0].body["id"]
    (task,) = answers[3].records
    assert task["Id"] == answers[2].body["id"]
    assert task["AccountId"] == account_id


def test_composite_all_or_none_halts_the_rest(sandbox: Sandbox) -> None:
    client = sandbox.client()
    answers = client.composite(
        [
            Sub("POST", "sobjects/Account", "acct", {"Name": "Acme"}),
            Sub("POST", "sobjects/Contact", "person", {"Email": "no-last-name@acme.test"}),
        ],
        all_or_none=True,
    )
    halted, failed = answers[0].error(), answers[1].error()
    assert isinstance(halted, IntermittentError) and halted.error_code == "PROCESSING_HALTED"
    assert (
        isinstance(failed, AccessOrValidationError)
        and failed.error_code == "REQUIRED_FIELD_MISSING"
    )
    assert list(client.query("SELECT Id FROM Account")) == []


def test_chunked_in_clause_queries_find_every_match(sandbox: Sandbox) -> None:
    client = sandbox.client()
    emails = [f"person.{i}@example-company.test" for i in range(600)]
    for chunk_start in range(0, 600, 200):
        chunk = emails[chunk_start : chunk_start + 200]
        results = client.create_many(
            "Lead", [{"LastName": e, "Company": "X", "Email": e} for e in chunk]
        )
        assert all(r.ok for r in results)
    queries = chunk_in_clause(
        "SELECT Id, Email FROM Lead WHERE Email IN {}", [*emails, "nobody@x.test"]
    )
    assert len(queries) > 1
    found = {r["Email"] for soql in queries for r in client.query(soql)}
    assert found == set(emails)
