"""SalesforceClient REST calls against MockTransport handlers answering the documented shapes."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.errors import (
    AccessOrValidationError,
    IntermittentError,
    NetworkError,
    OtherError,
    RequestLimitExceeded,
)
from salesync.salesforce.limits import MemoryLimitsSink
from salesync.salesforce.results import UpsertResult

INSTANCE = "https://acme.my.example.com"
BASE = "/services/data/v59.0"
TASK_ID = "00T000000000001AAA"
Handler = Callable[[httpx.Request], httpx.Response]


class StaticBearer(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer AT-1"
        yield request


class Org:
    """Routes (method, path) to handlers and records every request."""

    def __init__(self, routes: dict[tuple[str, str], Handler | httpx.Response]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json=[{"errorCode": "NOT_FOUND", "message": "no route"}])
        return route(request) if callable(route) else route

    def client(self, **kwargs: object) -> SalesforceClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return SalesforceClient(INSTANCE, StaticBearer(), http=http, **kwargs)  # type: ignore[arg-type]


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content)


def test_create_posts_fields_and_returns_the_id() -> None:
    created = httpx.Response(201, json={"id": TASK_ID, "errors": [], "success": True})
    org = Org({("POST", f"{BASE}/sobjects/Task/"): created})
    assert org.client().create("Task", {"Subject": "Call"}) == TASK_ID
    request = org.requests[0]
    assert body_of(request) == {"Subject": "Call"}
    assert request.headers["authorization"] == "Bearer AT-1"
    assert request.headers["content-type"] == "application/json"


def test_every_request_carries_the_call_options_client() -> None:
    ok = httpx.Response(204)
    org = Org(
        {
            ("PATCH", f"{BASE}/sobjects/Task/{TASK_ID}"): ok,
            ("DELETE", f"{BASE}/sobjects/Task/{TASK_ID}"): ok,
            ("GET", f"{BASE}/sobjects/Task/{TASK_ID}"): httpx.Response(200, json={"Id": TASK_ID}),
        }
    )
    client = org.client(call_options_client="salesync-test")
    client.update("Task", TASK_ID, {"Status": "Completed", "Description": None})
    client.get("Task", TASK_ID)
    client.delete("Task", TASK_ID)
    assert [r.headers["sforce-call-options"] for r in org.requests] == ["client=salesync-test"] * 3
    assert body_of(org.requests[0]) == {"Status": "Completed", "Description": None}


def test_get_with_fields_asks_only_for_them() -> None:
    record = {"attributes": {"type": "Task"}, "Id": TASK_ID, "Subject": "Call"}
    org = Org({("GET", f"{BASE}/sobjects/Task/{TASK_ID}"): httpx.Response(200, json=record)})
    assert org.client().get("Task", TASK_ID, ["Id", "Subject"]) == record
    assert org.requests[0].url.params["fields"] == "Id,Subject"


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [
        (
            201,
            {"id": TASK_ID, "success": True, "errors": [], "created": True},
            UpsertResult(TASK_ID, True),
        ),
        (
            200,
            {"id": TASK_ID, "success": True, "errors": [], "created": False},
            UpsertResult(TASK_ID, False),
        ),
        (204, None, UpsertResult(None, False)),
    ],
)
def test_upsert_reads_created_and_updated(status: int, body: object, result: UpsertResult) -> None:
    path = f"{BASE}/sobjects/Task/Salesync_Activity_Id__c/act%2F1%20x"
    answer = httpx.Response(status, json=body) if body else httpx.Response(status)
    org = Org({("PATCH", f"{BASE}/sobjects/Task/Salesync_Activity_Id__c/act/1 x"): answer})
    assert (
        org.client().upsert("Task", "Salesync_Activity_Id__c", "act/1 x", {"Subject": "s"})
        == result
    )
    assert org.requests[0].url.raw_path.decode() == path


def test_upsert_with_several_matches_raises() -> None:
    path = f"{BASE}/sobjects/Task/Ext__c/dup"
    org = Org(
        {
            ("PATCH", path): httpx.Response(
                300, json=[f"{BASE}/sobjects/Task/1", f"{BASE}/sobjects/Task/2"]
            )
        }
    )
    with pytest.raises(AccessOrValidationError) as caught:
        org.client().upsert("Task", "Ext__c", "dup", {})
    assert caught.value.error_code == "HTTP_300"


def test_get_by_external_id() -> None:
    path = f"{BASE}/sobjects/Task/Ext__c/a1"
    org = Org({("GET", path): httpx.Response(200, json={"Id": TASK_ID})})
    assert org.client().get_by_external_id("Task", "Ext__c", "a1")["Id"] == TASK_ID


@pytest.mark.parametrize("bad", ["Task/../User", "Task?x=1", "", "1Task"])
def test_api_names_that_would_bend_the_url_are_refused(bad: str) -> None:
    org = Org({})
    with pytest.raises(ValueError):
        org.client().create(bad, {})
    assert org.requests == []


def test_record_ids_are_escaped_in_the_path() -> None:
    org = Org({})
    with pytest.raises(OtherError):
        org.client().get("Task", "../../limits")
    assert org.requests[0].url.raw_path.decode() == f"{BASE}/sobjects/Task/..%2F..%2Flimits"


def page(records: list[dict[str, object]], next_url: str | None) -> httpx.Response:
    body: dict[str, object] = {"totalSize": 5, "done": next_url is None, "records": records}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return httpx.Response(200, json=body)


def rows(*ids: str) -> list[dict[str, object]]:
    return [{"attributes": {"type": "Task"}, "Id": i} for i in ids]


def test_query_follows_next_records_url_lazily() -> None:
    org = Org(
        {
            ("GET", f"{BASE}/query/"): page(rows("a", "b"), f"{BASE}/query/01gXX-2"),
            ("GET", f"{BASE}/query/01gXX-2"): page(rows("c", "d"), f"{BASE}/query/01gXX-4"),
            ("GET", f"{BASE}/query/01gXX-4"): page(rows("e"), None),
        }
    )
    client = org.client()
    records = client.query("SELECT Id FROM Task", batch_size=200)
    assert org.requests == []  # nothing sent before iterating
    first = next(records)
    assert first["Id"] == "a"
    assert len(org.requests) == 1
    assert [r["Id"] for r in records] == ["b", "c", "d", "e"]
    assert len(org.requests) == 3
    assert org.requests[0].url.params["q"] == "SELECT Id FROM Task"
    assert {r.headers["sforce-query-options"] for r in org.requests} == {"batchSize=200"}
    assert client.api_calls_made == 3


def test_query_all_uses_query_all_and_its_continuation() -> None:
    org = Org(
        {
            ("GET", f"{BASE}/queryAll/"): page(rows("a"), f"{BASE}/query/01gYY-1"),
            ("GET", f"{BASE}/query/01gYY-1"): page(rows("b"), None),
        }
    )
    assert [r["Id"] for r in org.client().query_all("SELECT Id FROM Task")] == ["a", "b"]


@pytest.mark.parametrize("size", [199, 2001])
def test_query_batch_size_outside_the_documented_range_is_refused(size: int) -> None:
    with pytest.raises(ValueError):
        Org({}).client().query("SELECT Id FROM Task", batch_size=size)


def test_get_updated_sends_utc_and_reads_latest_date_covered() -> None:
    answer = {"ids": [TASK_ID], "latestDateCovered": "2024-05-08T21:20:00.000+0000"}
    org = Org({("GET", f"{BASE}/sobjects/Task/updated/"): httpx.Response(200, json=answer)})
    paris = timezone(timedelta(hours=2))
    result = org.client().get_updated(
        "Task",
        datetime(2024, 5, 8, 12, 0, 30, 999, tzinfo=paris),
        datetime(2024, 5, 8, 23, 30, tzinfo=UTC),
    )
    params = org.requests[0].url.params
    assert params["start"] == "2024-05-08T10:00:30+00:00"
    assert params["end"] == "2024-05-08T23:30:00+00:00"
    assert b"start=2024-05-08T10%3A00%3A30%2B00%3A00" in org.requests[0].url.query
    assert result.ids == (TASK_ID,)
    assert result.latest_date_covered == datetime(2024, 5, 8, 21, 20, tzinfo=UTC)


def test_get_updated_refuses_naive_datetimes() -> None:
    org = Org({})
    with pytest.raises(ValueError, match="naive"):
        org.client().get_updated("Task", datetime(2024, 5, 8), datetime(2024, 5, 9, tzinfo=UTC))
    assert org.requests == []


def test_get_deleted_reads_records_and_the_window() -> None:
    answer = {
        "deletedRecords": [{"id": TASK_ID, "deletedDate": "2024-05-08T10:00:00.000+0000"}],
        "earliestDateAvailable": "2024-05-01T00:00:00.000+0000",
        "latestDateCovered": "2024-05-08T21:00:00.000+0000",
    }
    org = Org({("GET", f"{BASE}/sobjects/Task/deleted/"): httpx.Response(200, json=answer)})
    start = datetime(2024, 4, 30, tzinfo=UTC)
    result = org.client().get_deleted("Task", start, datetime(2024, 5, 9, tzinfo=UTC))
    assert [(r.id, r.deleted_date.hour) for r in result.records] == [(TASK_ID, 10)]
    assert result.lost_deletes_since(start)
    assert not result.lost_deletes_since(datetime(2024, 5, 2, tzinfo=UTC))


def describe_body(name: str = "Task") -> dict[str, object]:
    return {
        "name": name,
        "label": name,
        "keyPrefix": "00T",
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "fields": [
            {
                "name": "Type",
                "type": "picklist",
                "length": 40,
                "createable": True,
                "updateable": True,
                "picklistValues": [
                    {"value": "Call", "label": "Call", "active": True, "defaultValue": False},
                    {"value": "Old", "label": "Old", "active": False, "defaultValue": False},
                ],
            }
        ],
    }


def test_describe_is_cached_until_refreshed() -> None:
    org = Org(
        {("GET", f"{BASE}/sobjects/Task/describe/"): httpx.Response(200, json=describe_body())}
    )
    client = org.client()
    first = client.describe("Task")
    assert client.describe("task") is first
    assert len(org.requests) == 1
    client.describe("Task", refresh=True)
    assert len(org.requests) == 2
    type_field = first.field("type")
    assert type_field is not None and type_field.active_values == ("Call",)


def test_limits_endpoint_is_typed() -> None:
    body = {
        "DailyApiRequests": {"Max": 15000, "Remaining": 14998},
        "DailyBulkApiBatches": {"Max": 10, "Remaining": 10},
    }
    org = Org({("GET", f"{BASE}/limits/"): httpx.Response(200, json=body)})
    daily = org.client().limits()["DailyApiRequests"]
    assert (daily.max, daily.remaining, daily.used) == (15000, 14998, 2)


def test_limits_sink_hears_every_answer_with_the_header() -> None:
    header = {"Sforce-Limit-Info": "api-usage=18/5000; per-app-api-usage=17/250(appName=salesync)"}
    org = Org(
        {
            ("GET", f"{BASE}/sobjects/Task/{TASK_ID}"): httpx.Response(
                200, json={"Id": TASK_ID}, headers=header
            ),
            ("DELETE", f"{BASE}/sobjects/Task/{TASK_ID}"): httpx.Response(
                404,
                json=[{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}],
                headers=header,
            ),
        }
    )
    sink = MemoryLimitsSink()
    client = org.client(limits_sink=sink)
    client.get("Task", TASK_ID)
    with pytest.raises(AccessOrValidationError):
        client.delete("Task", TASK_ID)
    assert sink.records == 2
    assert sink.latest is not None and sink.latest.api_usage is not None
    assert (sink.latest.api_usage.used, sink.latest.api_usage.max) == (18, 5000)
    assert sink.latest.per_app["salesync"].used == 17


def test_errors_surface_typed_with_the_body_kept() -> None:
    body = [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]
    org = Org({("POST", f"{BASE}/sobjects/Task/"): httpx.Response(403, json=body)})
    with pytest.raises(RequestLimitExceeded) as caught:
        org.client().create("Task", {})
    assert caught.value.raw == body


def test_a_network_failure_is_translated_at_the_edge() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = SalesforceClient(
        INSTANCE, StaticBearer(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(NetworkError) as caught:
        client.create("Task", {"Subject": "x"})
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert isinstance(caught.value, IntermittentError)


def test_a_non_json_success_is_an_other_error() -> None:
    org = Org({("GET", f"{BASE}/limits/"): httpx.Response(200, text="<html>maintenance</html>")})
    with pytest.raises(OtherError):
        org.client().limits()


@pytest.mark.parametrize(
    ("given", "path"), [("59.0", "/services/data/v59.0"), ("v61.0", "/services/data/v61.0")]
)
def test_api_version_is_normalized(given: str, path: str) -> None:
    assert Org({}).client(api_version=given).version_path == path


def test_a_malformed_api_version_is_refused() -> None:
    with pytest.raises(ValueError):
        Org({}).client(api_version="latest")


def test_a_client_closes_only_the_http_client_it_made() -> None:
    shared = httpx.Client(transport=httpx.MockTransport(Org({})))
    with SalesforceClient(INSTANCE, StaticBearer(), http=shared):
        pass
    assert not shared.is_closed
    owned = SalesforceClient(INSTANCE, StaticBearer())
    owned.close()


def test_query_more_all_continues_a_first_page_fetched_elsewhere() -> None:
    org = Org(
        {
            ("GET", f"{BASE}/query/01gZZ-2"): page(rows("c"), f"{BASE}/query/01gZZ-3"),
            ("GET", f"{BASE}/query/01gZZ-3"): page(rows("d"), None),
        }
    )
    records = org.client().query_more_all(f"{BASE}/query/01gZZ-2")
    assert [r["Id"] for r in records] == ["c", "d"]
    assert len(org.requests) == 2
