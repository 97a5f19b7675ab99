"""sObject Collections and Composite (API-FACTS §2.4, §2.5, items 10-11)."""

from __future__ import annotations

from typing import Any

import httpx

from salesync.sandbox.objects import CustomFieldSpec
from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error

COLLECTION = f"{API}/composite/sobjects"
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


def task(**fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Task"}, **fields}


def count(client: httpx.Client, where: str = "") -> int:
    response = client.get(f"{API}/query", params={"q": f"SELECT COUNT() FROM Task {where}"})
    assert response.status_code == 200, response.text
    total: int = response.json()["totalSize"]
    return total


def test_collection_create_reports_each_item_in_order(admin: httpx.Client) -> None:
    records = [task(Subject="ok"), task(CallType="Sideways"), task(Subject="ok too")]
    results = admin.post(COLLECTION, json={"allOrNone": False, "records": records}).json()
    assert [r["success"] for r in results] == [True, False, True]
    assert "id" not in results[1] and results[0]["errors"] == []
    assert results[1]["errors"] == [
        {
            "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "message": "Call Type: bad value for restricted picklist field: Sideways",
            "fields": ["CallType"],
        }
    ]
    assert count(admin) == 2


def test_all_or_none_rolls_everything_back(admin: httpx.Client) -> None:
    records = [task(Subject="ok"), task(Subject="x" * 256)]
    results = admin.post(COLLECTION, json={"allOrNone": True, "records": records}).json()
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == ROLLED_BACK
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert count(admin) == 0


def test_collection_request_errors(admin: httpx.Client) -> None:
    too_many = {"records": [task(Subject=str(i)) for i in range(201)]}
    assert_error(admin.post(COLLECTION, json=too_many), 400, "EXCEEDED_ID_LIMIT")
    chunky = {"records": [{"attributes": {"type": t}, "Name": "n", "LastName": "l"}
                          for t in ["Account", "Contact"] * 6]}  # fmt: skip
    assert_error(admin.post(COLLECTION, json=chunky), 400, "INVALID_BATCH_REQUEST")
    assert_error(admin.post(COLLECTION, json=[1, 2]), 400, "JSON_PARSER_ERROR")


def test_create_refuses_ids_and_needs_a_type(admin: httpx.Client) -> None:
    records = [task(Id="00T5g0000000001EAA"), {"Subject": "untyped"}]
    results = admin.post(COLLECTION, json={"records": records}).json()
    assert results[0]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_TYPE"


def test_collection_update_and_delete(admin: httpx.Client) -> None:
    ids = [r["id"] for r in admin.post(COLLECTION, json={"records": [task(), task()]}).json()]
    updates = [task(id=ids[0], Subject="first"), task(Subject="no id")]
    results = admin.patch(COLLECTION, json={"records": updates}).json()
    assert results[0] == {"id": ids[0], "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    deleted = admin.delete(COLLECTION, params={"ids": f"{ids[0]},{ids[0]}"}).json()
    assert deleted[0]["success"] is True
    assert deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert count(admin) == 1


def test_collection_retrieve(admin: httpx.Client) -> None:
    ids = [r["id"] for r in admin.post(COLLECTION, json={"records": [task(Subject="a")]}).json()]
    missing = "00T5g0000009999"
    found = admin.get(
        f"{COLLECTION}/Task", params={"ids": f"{ids[0]},{missing}", "fields": "Subject"}
    ).json()
    assert found[0]["Subject"] == "a" and found[0]["Id"] == ids[0] and found[1] is None
    assert_error(admin.get(f"{COLLECTION}/Task", params={"ids": ids[0]}), 400, "MISSING_ARGUMENT")


def test_collection_upsert_by_external_id(sandbox: Sandbox, admin: httpx.Client) -> None:
    sandbox.org.add_custom_field(
        CustomFieldSpec("Task", "Ext__c", "text", external_id=True, unique=True)
    )
    first = [task(Ext__c="a", Subject="A"), task(Ext__c="b", Subject="B")]
    created = admin.patch(f"{COLLECTION}/Task/Ext__c", json={"records": first}).json()
    assert [r["created"] for r in created] == [True, True]
    second = [task(Ext__c="a", Subject="A2"), task(Ext__c="c"), task(Ext__c="c")]
    results = admin.patch(f"{COLLECTION}/Task/Ext__c", json={"records": second}).json()
    assert results[0] == {"id": created[0]["id"], "created": False, "success": True, "errors": []}
    assert [r["errors"][0]["statusCode"] for r in results[1:]] == ["DUPLICATE_EXTERNAL_ID"] * 2
    assert count(admin) == 2


def composite(client: httpx.Client, requests: list[dict[str, Any]], **options: Any) -> Any:
    response = client.post(f"{API}/composite", json={"compositeRequest": requests, **options})
    assert response.status_code == 200, response.text
    return response.json()["compositeResponse"]


def test_composite_references_flow_into_urls_and_bodies(admin: httpx.Client) -> None:
    responses = composite(
        admin,
        [
            {"method": "POST", "url": f"{API}/sobjects/Account", "referenceId": "acct",
             "body": {"Name": "Acme"}},
            {"method": "POST", "url": f"{API}/sobjects/Contact", "referenceId": "person",
             "body": {"LastName": "Lovelace", "AccountId": "@{acct.id}"}},
            {"method": "GET", "url": f"{API}/sobjects/Contact/@{{person.id}}?fields=AccountId",
             "referenceId": "check"},
            {"method": "GET", "url": f"{API}/query?q=SELECT+Id+FROM+Account",
             "referenceId": "accounts"},
        ],
    )  # fmt: skip
    assert [r["httpStatusCode"] for r in responses] == [201, 201, 200, 200]
    assert responses[2]["body"]["AccountId"] == responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"]["Location"].startswith(f"{API}/sobjects/Account/")
    assert responses[3]["body"]["records"][0]["Id"] == responses[0]["body"]["id"]


def test_composite_counts_as_one_call(sandbox: Sandbox, admin: httpx.Client) -> None:
    requests = [
        {"method": "POST", "url": f"{API}/sobjects/Task", "referenceId": f"t{i}", "body": {}}
        for i in range(25)
    ]
    responses = composite(admin, requests)
    assert all(r["httpStatusCode"] == 201 for r in responses)
    report = sandbox.control().get("/__sandbox__/api-calls").json()
    assert report["total"] == 1


def test_composite_all_or_none_halts_and_rolls_back(admin: httpx.Client) -> None:
    responses = composite(
        admin,
        [
            {"method": "POST", "url": f"{API}/sobjects/Task", "referenceId": "a", "body": {}},
            {"method": "POST", "url": f"{API}/sobjects/Task", "referenceId": "b",
             "body": {"CallType": "Sideways"}},
            {"method": "POST", "url": f"{API}/sobjects/Task", "referenceId": "c", "body": {}},
        ],
        allOrNone=True,
    )  # fmt: skip
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 400]
    assert responses[1]["body"][0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert responses[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert responses[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert count(admin) == 0


def test_composite_without_all_or_none_keeps_independent_work(admin: httpx.Client) -> None:
    responses = composite(
        admin,
        [
            {"method": "POST", "url": f"{API}/sobjects/Account", "referenceId": "bad", "body": {}},
            {"method": "POST", "url": f"{API}/sobjects/Contact", "referenceId": "dependent",
             "body": {"LastName": "x", "AccountId": "@{bad.id}"}},
            {"method": "POST", "url": f"{API}/sobjects/Task", "referenceId": "fine", "body": {}},
        ],
    )  # fmt: skip
    assert responses[0]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert responses[2]["httpStatusCode"] == 201
    assert count(admin) == 1


def test_composite_limits(admin: httpx.Client) -> None:
    def post(url: str, i: int) -> dict[str, Any]:
        return {"method": "POST", "url": url, "referenceId": f"r{i}", "body": {}}

    too_many = [post(f"{API}/sobjects/Task", i) for i in range(26)]
    response = admin.post(f"{API}/composite", json={"compositeRequest": too_many})
    assert_error(response, 400, "INVALID_BATCH_REQUEST")
    queries = [
        {"method": "GET", "url": f"{API}/query?q=SELECT+Id+FROM+Task", "referenceId": f"q{i}"}
        for i in range(6)
    ]
    response = admin.post(f"{API}/composite", json={"compositeRequest": queries})
    assert_error(response, 400, "INVALID_BATCH_REQUEST")
