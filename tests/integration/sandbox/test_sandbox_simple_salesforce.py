"""simple-salesforce, the field's standard client, works against the sandbox unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from salesync.domain.ids import to_18
from salesync.sandbox.objects import CustomFieldSpec
from salesync.sandbox.security import UserAccess
from salesync.sandbox.seed import ADMIN_USERNAME
from tests.integration.sandbox.sandbox_support import Sandbox


class PlainHttpAdapter(HTTPAdapter):
    """simple-salesforce always builds https:// URLs; the test server speaks plain HTTP."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.url = request.url.replace("https://", "http://", 1)
        return super().send(request, *args, **kwargs)


@pytest.fixture
def sf(sandbox: Sandbox) -> Salesforce:
    sandbox.org.add_custom_field(
        CustomFieldSpec("Task", "Ext__c", "text", external_id=True, unique=True)
    )
    session = requests.Session()
    session.mount("https://", PlainHttpAdapter())
    token = sandbox.org.issue_token(ADMIN_USERNAME).access_token
    return Salesforce(
        instance_url=sandbox.base_url, session_id=token, session=session, version="59.0"
    )


def test_record_round_trip(sandbox: Sandbox, sf: Salesforce) -> None:
    created = sf.Task.create({"Subject": "from simple-salesforce"})
    assert created["success"] is True
    assert sf.Task.update(created["id"], {"Status": "Completed"}) == 204
    assert sf.Task.get(created["id"])["IsClosed"] is True
    assert sf.Task.upsert("Ext__c/e-1", {"Subject": "a"}) == 201
    assert sf.Task.upsert("Ext__c/e-1", {"Subject": "b"}) == 200
    assert sf.Task.get_by_custom_id("Ext__c", "e-1")["Subject"] == "b"
    assert sf.query_all("SELECT Id FROM Task")["totalSize"] == 2
    assert sf.Task.delete(created["id"]) == 204
    assert sf.api_usage["api-usage"].total == 100000
    assert sandbox.control().get("/__sandbox__/api-calls").json()["total"] == 8


def test_replication_helpers_and_errors(sandbox: Sandbox, sf: Salesforce) -> None:
    now = datetime.now(UTC)
    created = sf.Task.create({})
    sandbox.org.clock.advance(timedelta(minutes=2))
    ids = sf.Task.updated(now - timedelta(hours=1), now + timedelta(minutes=5))["ids"]
    assert ids == [created["id"]]
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.Task.create({"Nope__c": 1})
    assert malformed.value.content[0]["errorCode"] == "INVALID_FIELD"
    sandbox.org.tokens.expire_access(sandbox.org.clock.now())
    with pytest.raises(SalesforceExpiredSession):
        sf.Task.describe()


def _client_as(sandbox: Sandbox, username: str) -> Salesforce:
    session = requests.Session()
    session.mount("https://", PlainHttpAdapter())
    token = sandbox.org.issue_token(username).access_token
    return Salesforce(
        instance_url=sandbox.base_url, session_id=token, session=session, version="59.0"
    )


def test_query_all_follows_next_records_url_over_several_pages(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    with sandbox.org.batch():
        for i in range(2_150):
            sandbox.org.create_record("Task", {"Subject": f"bulk {i}"})
    first = sf.query("SELECT Id FROM Task")
    assert first["done"] is False and first["totalSize"] == 2_150
    assert "/query/" in first["nextRecordsUrl"] and len(first["records"]) == 2_000
    everything = sf.query_all("SELECT Id, Subject FROM Task ORDER BY Subject")
    assert everything["totalSize"] == 2_150 and len(everything["records"]) == 2_150
    assert len({r["Id"] for r in everything["records"]}) == 2_150


def test_query_all_with_deleted_rows_and_the_deleted_helper(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    start = sandbox.org.clock.now() - timedelta(minutes=1)
    kept = sf.Task.create({"Subject": "kept"})["id"]
    gone = sf.Task.create({"Subject": "gone"})["id"]
    assert sf.Task.delete(gone) == 204
    live = sf.query_all("SELECT Id FROM Task")["records"]
    assert [r["Id"] for r in live] == [kept]
    with_deleted = sf.query_all("SELECT Id, IsDeleted FROM Task", include_deleted=True)
    assert {(r["Id"], r["IsDeleted"]) for r in with_deleted["records"]} == {
        (kept, False),
        (gone, True),
    }
    sandbox.org.clock.advance(timedelta(minutes=2))
    deleted = sf.Task.deleted(start, sandbox.org.clock.now())
    assert [r["id"] for r in deleted["deletedRecords"]] == [gone]
    assert "earliestDateAvailable" in deleted and "latestDateCovered" in deleted


def test_collections_and_composite_through_restful(sandbox: Sandbox, sf: Salesforce) -> None:
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Task"}, "Subject": "ok"},
                {"attributes": {"type": "Task"}, "Subject": "x" * 256},
            ],
        },
    )
    assert results[0]["success"] is True and results[0]["id"].startswith("00T")
    assert results[1]["success"] is False
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    composite = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "contact",
                    "body": {"LastName": "Ref"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Task",
                    "referenceId": "task",
                    "body": {"Subject": "on the contact", "WhoId": "@{contact.id}"},
                },
            ]
        },
    )
    answers = composite["compositeResponse"]
    assert [a["httpStatusCode"] for a in answers] == [201, 201]
    task = sf.Task.get(answers[1]["body"]["id"])
    assert task["WhoId"] == answers[0]["body"]["id"]


def test_describe_and_field_level_security(sandbox: Sandbox, sf: Salesforce) -> None:
    sandbox.org.add_custom_field(CustomFieldSpec("Task", "Secret__c", "text"))
    described = sf.Task.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert "Secret__c" in fields and fields["IsClosed"]["updateable"] is False
    statuses = [v["value"] for v in fields["Status"]["picklistValues"]]
    assert "Completed" in statuses and fields["TaskSubtype"]["restrictedPicklist"] is True
    sandbox.org.add_user(
        "hidden@sandbox.salesync.test",
        first_name="Hid",
        last_name="Den",
        email="hid@salesync.test",
        access=UserAccess(fields={"Task.Secret__c": "hidden"}),
    )
    hidden = _client_as(sandbox, "hidden@sandbox.salesync.test")
    assert "Secret__c" not in {f["name"] for f in hidden.Task.describe()["fields"]}
    with pytest.raises(SalesforceMalformedRequest) as refused:
        hidden.query("SELECT Secret__c FROM Task")
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_limits_and_the_error_to_exception_mapping(sandbox: Sandbox, sf: Salesforce) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert sf.api_usage["api-usage"].used >= 1
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Task.get(to_18("00T5g000000zzzz"))  # well formed, but no such Task
    assert missing.value.status == 404
    sandbox.org.add_custom_field(CustomFieldSpec("Task", "Shared__c", "text", external_id=True))
    sf.Task.create({"Subject": "a", "Shared__c": "same"})
    sf.Task.create({"Subject": "b", "Shared__c": "same"})
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Task.upsert("Shared__c/same", {"Subject": "c"})
    sandbox.control().put("/__sandbox__/limits", json={"dailyApiRequests": 1})
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.Task.describe()
    assert refused.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
