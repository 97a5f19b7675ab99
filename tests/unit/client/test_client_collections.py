"""sObject Collections: chunks of 200, allOrNone false, results mapped by position."""

from __future__ import annotations

import json
from collections.abc import Collection, Generator

import httpx
import pytest

from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.errors import IntermittentError, OtherError
from salesync.salesforce.results import ApiErrorDetail

INSTANCE = "https://acme.my.example.com"
COLLECTIONS = "/services/data/v59.0/composite/sobjects"


class StaticBearer(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer AT-1"
        yield request


class CollectionsOrg:
    """Answers collection calls item by item: a record whose Subject starts with 'bad' fails."""

    def __init__(self, fail_call: int | None = None) -> None:
        self.calls: list[httpx.Request] = []
        self.fail_call = fail_call
        self.next_id = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.fail_call == len(self.calls):
            return httpx.Response(503)
        if request.method == "DELETE":
            ids = request.url.params["ids"].split(",")
            return httpx.Response(200, json=[self.deleted(i) for i in ids])
        body = json.loads(request.content)
        if len(body["records"]) > 200:
            return httpx.Response(400, json=[{"errorCode": "INVALID_FIELD", "message": "max 200"}])
        return httpx.Response(200, json=[self.saved(r, request) for r in body["records"]])

    def saved(self, record: dict[str, object], request: httpx.Request) -> dict[str, object]:
        if str(record.get("Subject", "")).startswith("bad"):
            error = {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Status]",
                "fields": ["Status"],
            }
            return {"success": False, "errors": [error]}
        self.next_id += 1
        item: dict[str, object] = {
            "id": record.get("id") or f"00T{self.next_id:015d}",
            "success": True,
            "errors": [],
        }
        if request.url.path != COLLECTIONS:  # upsert by external id
            item["created"] = self.next_id % 2 == 1
        return item

    def deleted(self, record_id: str) -> dict[str, object]:
        if record_id.startswith("gone"):
            error = {
                "statusCode": "ENTITY_IS_DELETED",
                "message": "entity is deleted",
                "fields": [],
            }
            return {"id": record_id, "success": False, "errors": [error]}
        return {"id": record_id, "success": True, "errors": []}

    def client(self) -> SalesforceClient:
        return SalesforceClient(
            INSTANCE, StaticBearer(), http=httpx.Client(transport=httpx.MockTransport(self))
        )


def tasks(count: int, bad: Collection[int] = ()) -> list[dict[str, object]]:
    return [{"Subject": ("bad " if i in bad else "ok ") + str(i)} for i in range(count)]


def test_create_many_splits_into_chunks_of_200_and_maps_results_by_position() -> None:
    org = CollectionsOrg()
    client = org.client()
    results = client.create_many("Task", tasks(450, bad={3, 201, 449}))
    assert len(results) == 450
    assert [len(json.loads(c.content)["records"]) for c in org.calls] == [200, 200, 50]
    assert client.api_calls_made == 3
    for call in org.calls:
        body = json.loads(call.content)
        assert body["allOrNone"] is False
        assert all(r["attributes"] == {"type": "Task"} for r in body["records"])
        assert call.method == "POST"
    failed = [i for i, r in enumerate(results) if not r.ok]
    assert failed == [3, 201, 449]
    assert results[3].id is None
    assert results[3].errors == (
        ApiErrorDetail(
            "REQUIRED_FIELD_MISSING", "Required fields are missing: [Status]", ("Status",)
        ),
    )
    assert all(r.id for i, r in enumerate(results) if i not in failed)
    assert len({r.id for r in results if r.ok}) == 447


def test_update_many_patches_with_ids() -> None:
    org = CollectionsOrg()
    records = [
        {"Id": "00T000000000001AAA", "Status": "Completed"},
        {"Id": "00T000000000002AAA", "Subject": "bad"},
    ]
    results = org.client().update_many("Task", records)
    assert org.calls[0].method == "PATCH"
    assert [r.ok for r in results] == [True, False]


def test_update_many_needs_an_id_on_every_record() -> None:
    org = CollectionsOrg()
    with pytest.raises(ValueError, match="Id"):
        org.client().update_many("Task", [{"Subject": "no id"}])
    assert org.calls == []


def test_upsert_many_goes_to_the_external_id_path_and_reports_created() -> None:
    org = CollectionsOrg()
    records = [{"Salesync_Activity_Id__c": f"a{i}", "Subject": "ok"} for i in range(3)]
    results = org.client().upsert_many("Task", "Salesync_Activity_Id__c", records)
    assert org.calls[0].url.path == f"{COLLECTIONS}/Task/Salesync_Activity_Id__c"
    assert org.calls[0].method == "PATCH"
    assert [r.created for r in results] == [True, False, True]


def test_upsert_many_needs_the_external_id_on_every_record() -> None:
    with pytest.raises(ValueError):
        CollectionsOrg().client().upsert_many("Task", "Ext__c", [{"Subject": "x"}])


def test_delete_many_sends_ids_in_chunks_and_reports_each() -> None:
    org = CollectionsOrg()
    ids = [f"00T{i:015d}" for i in range(250)] + ["gone-1"]
    results = org.client().delete_many(ids)
    assert [len(c.url.params["ids"].split(",")) for c in org.calls] == [200, 51]
    assert {c.url.params["allOrNone"] for c in org.calls} == {"false"}
    assert [r.id for r in results] == ids
    assert results[-1].real_error is not None and results[-1].real_error.code == "ENTITY_IS_DELETED"
    assert sum(r.ok for r in results) == 250


def test_a_failing_chunk_raises_with_the_results_of_the_chunks_before_it() -> None:
    org = CollectionsOrg(fail_call=2)
    with pytest.raises(IntermittentError) as caught:
        org.client().create_many("Task", tasks(450))
    assert len(caught.value.partial_results) == 200
    assert all(r.ok for r in caught.value.partial_results)
    assert len(org.calls) == 2


def test_a_result_count_that_does_not_match_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"id": "x", "success": True, "errors": []}])

    client = SalesforceClient(
        INSTANCE, StaticBearer(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(OtherError):
        client.create_many("Task", tasks(2))


def test_nothing_to_send_sends_nothing() -> None:
    org = CollectionsOrg()
    assert org.client().create_many("Task", []) == []
    assert org.client().delete_many([]) == []
    assert org.calls == []
