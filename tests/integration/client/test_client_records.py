"""Records, queries, replication, describe and limits against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from salesync.domain.soql import format_soql
from salesync.salesforce.auth import MemoryTokenStore, OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.errors import AccessOrValidationError, OtherError
from salesync.salesforce.limits import MemoryLimitsSink
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
    sink: MemoryLimitsSink

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox__{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def client(self, username: str = ADMIN) -> SalesforceClient:
        issued = self.org.issue_token(username)
        user_id = self.org.user_id(username)
        tokens = TokenSet(
            issued.access_token,
            issued.refresh_token,
            self.url,
            f"{self.url}/id/{self.org.org_id}/{user_id}",
            datetime.now(UTC),
        )
        config = OAuthClientConfig("salesync", "salesync-secret", login_url=self.url)
        auth = RefreshingAuth(MemoryTokenStore(tokens), OAuthRefresher(config, self.http))
        return SalesforceClient(self.url, auth, http=self.http, limits_sink=self.sink)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    org = Org("empty")
    with serve_in_thread(create_sandbox_app(org)) as server, httpx.Client(timeout=30) as http:
        yield Sandbox(org, server.base_url, http, MemoryLimitsSink())


def add_external_id(sandbox: Sandbox, name: str = EXT, *, unique: bool = True) -> None:
    spec = {
        "sobject": "Task",
        "name": name,
        "kind": "text",
        "length": 64,
        "externalId": True,
        "unique": unique,
    }
    sandbox.control("POST", "/custom-fields", spec)


def test_create_read_update_delete_round_trip(sandbox: Sandbox) -> None:
    client = sandbox.client()
    task_id = client.create("Task", {"Subject": "Call Ada", "ActivityDate": "2024-03-01"})
    assert task_id.startswith("00T") and len(task_id) == 18
    task = client.get("Task", task_id, ["Subject", "Status", "IsClosed"])
    assert (task["Subject"], task["Status"], task["IsClosed"]) == ("Call Ada", "Not Started", False)
    client.update("Task", task_id, {"Status": "Completed", "ActivityDate": None})
    task = client.get("Task", task_id)
    assert task["IsClosed"] is True and task["ActivityDate"] is None
    client.delete("Task", task_id)
    with pytest.raises(AccessOrValidationError) as caught:
        client.get("Task", task_id)
    assert caught.value.error_code == "ENTITY_IS_DELETED" and caught.value.record_gone
    soql = format_soql("SELECT Id, IsDeleted FROM Task WHERE Id = {}", task_id)
    assert list(client.query(soql)) == []
    assert [r["IsDeleted"] for r in client.query_all(soql)] == [True]


def test_writes_are_marked_with_the_call_options_client(sandbox: Sandbox) -> None:
    task_id = sandbox.client().create("Task", {"Subject": "echo"})
    changes = sandbox.control("GET", f"/changes?recordId={task_id}")
    entries = changes["changes"] if isinstance(changes, dict) else changes
    assert entries and all(entry["client"] == "salesync" for entry in entries)
    assert "client=salesync" in entries[0]["changeOrigin"]


def test_upsert_by_external_id_creates_then_updates(sandbox: Sandbox) -> None:
    add_external_id(sandbox)
    client = sandbox.client()
    first = client.upsert("Task", EXT, "act/1 é", {"Subject": "first"})
    assert first.created and first.id
    second = client.upsert("Task", EXT, "act/1 é", {"Subject": "second"})
    assert (second.id, second.created) == (first.id, False)
    record = client.get_by_external_id("Task", EXT, "act/1 é", ["Subject", EXT])
    assert (record["Id"], record["Subject"], record[EXT]) == (first.id, "second", "act/1 é")


def test_upsert_with_several_matches_is_refused(sandbox: Sandbox) -> None:
    add_external_id(sandbox, "Loose_Id__c", unique=False)
    for _ in range(2):
        sandbox.org.create_record("Task", {"Subject": "twin", "Loose_Id__c": "same"})
    with pytest.raises(AccessOrValidationError) as caught:
        sandbox.client().upsert("Task", "Loose_Id__c", "same", {"Subject": "x"})
    assert caught.value.error_code == "HTTP_300"
    assert isinstance(caught.value.raw, list) and len(caught.value.raw) == 2


def test_query_pages_lazily_with_a_small_batch_size(sandbox: Sandbox) -> None:
    client = sandbox.client()
    results = client.create_many("Task", [{"Subject": f"paged {i:03d}"} for i in range(450)])
    assert all(r.ok for r in results)
    before = client.api_calls_made
    records = client.query("SELECT Id, Subject FROM Task ORDER BY Subject", batch_size=200)
    first = next(records)
    assert first["Subject"] == "paged 000"
    assert client.api_calls_made == before + 1
    rest = list(records)
    assert [r["Subject"] for r in [first, *rest]] == [f"paged {i:03d}" for i in range(450)]
    assert client.api_calls_made == before + 3
    assert {r["Id"] for r in [first, *rest]} == {r.id for r in results}


def test_a_malformed_query_is_an_other_error(sandbox: Sandbox) -> None:
    with pytest.raises(OtherError) as caught:
        list(sandbox.client().query("SELECT Id FORM Task"))
    assert caught.value.error_code == "MALFORMED_QUERY"


def test_get_updated_and_get_deleted_follow_the_sandbox_clock(sandbox: Sandbox) -> None:
    client = sandbox.client()
    start = sandbox.org.clock.now().astimezone(UTC) - timedelta(minutes=10)
    kept = client.create("Task", {"Subject": "kept"})
    gone = client.create("Task", {"Subject": "gone"})
    client.delete("Task", gone)
    # getUpdated covers whole minutes up to now (API-FACTS §2.8): let two minutes pass.
    sandbox.control("POST", "/clock", {"advanceSeconds": 120})
    end = sandbox.org.clock.now().astimezone(UTC) + timedelta(minutes=5)
    updated = client.get_updated("Task", start, end)
    assert kept in updated.ids
    assert updated.latest_date_covered <= end
    assert updated.latest_date_covered.second == 0
    deleted = client.get_deleted("Task", start, end)
    assert [r.id for r in deleted.records] == [gone]
    assert not deleted.lost_deletes_since(start)
    sandbox.control("POST", "/delete-log/purge", {})
    assert client.get_deleted("Task", start, end).lost_deletes_since(start)


def test_describe_reflects_field_level_security_and_is_cached(sandbox: Sandbox) -> None:
    add_external_id(sandbox)
    client = sandbox.client()
    described = client.describe("Task")
    ext = described.field(EXT)
    assert ext is not None and ext.external_id and ext.unique and ext.createable
    subtype = described.field("TaskSubtype")
    assert subtype is not None and subtype.createable and not subtype.updateable
    sandbox.control("PUT", f"/users/{ADMIN}/permissions", {"fields": {f"Task.{EXT}": "read"}})
    calls = client.api_calls_made
    assert client.describe("Task") is described
    assert client.api_calls_made == calls
    refreshed = client.describe("Task", refresh=True).field(EXT)
    assert refreshed is not None and not refreshed.createable and not refreshed.updateable


def test_limits_header_reaches_the_sink_and_matches_the_org_count(sandbox: Sandbox) -> None:
    client = sandbox.client()
    sandbox.control("DELETE", "/api-calls")
    client.create("Task", {"Subject": "one"})
    client.limits()
    latest = sandbox.sink.latest
    assert latest is not None and latest.api_usage is not None
    counted = sandbox.control("GET", "/api-calls")
    assert latest.api_usage.used == counted["last24h"] == 2
    assert latest.api_usage.max == counted["dailyCap"]
    daily = client.limits()["DailyApiRequests"]
    assert daily.max == counted["dailyCap"]
    assert daily.remaining == daily.max - 3
