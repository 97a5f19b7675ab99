"""Composite requests: limits checked before sending, body shape, typed subresponses."""

from __future__ import annotations

import json
from collections.abc import Generator

import httpx
import pytest

from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest as Sub
from salesync.salesforce.errors import AccessOrValidationError, IntermittentError, OtherError

INSTANCE = "https://acme.my.example.com"


class StaticBearer(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer AT-1"
        yield request


class CompositeOrg:
    def __init__(self, answer: dict[str, object] | None = None) -> None:
        self.bodies: list[dict[str, object]] = []
        self.answer = answer or {"compositeResponse": []}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/services/data/v59.0/composite"
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json=self.answer)

    def client(self) -> SalesforceClient:
        return SalesforceClient(
            INSTANCE, StaticBearer(), http=httpx.Client(transport=httpx.MockTransport(self))
        )


def queries(count: int) -> list[Sub]:
    return [Sub("GET", "query?q=SELECT+Id+FROM+Lead", f"q{i}") for i in range(count)]


def creates(count: int) -> list[Sub]:
    return [Sub("POST", "sobjects/Task", f"t{i}", {"Subject": "x"}) for i in range(count)]


@pytest.mark.parametrize(
    ("subrequests", "message"),
    [
        ([], "at least one"),
        (creates(26), "allows 25"),
        (queries(6), "allows 5"),
        (
            queries(3)
            + [Sub("PATCH", "composite/sobjects", f"c{i}", {"records": []}) for i in range(3)],
            "allows 5",
        ),
        ([Sub("GET", "queryAll/?q=SELECT+Id+FROM+Task", f"a{i}") for i in range(6)], "allows 5"),
        ([*creates(1), Sub("GET", "sobjects/Task/describe", "t0")], "used twice"),
        ([Sub("GET", "limits", "1st")], "letter first"),
        ([Sub("GET", "limits", "has-dash")], "letter first"),
    ],
)
def test_requests_salesforce_would_refuse_are_refused_before_sending(
    subrequests: list[Sub], message: str
) -> None:
    org = CompositeOrg()
    with pytest.raises(ValueError, match=message):
        org.client().composite(subrequests)
    assert org.bodies == []


def test_the_limits_themselves_are_allowed() -> None:
    org = CompositeOrg()
    org.client().composite(queries(5) + creates(20))
    assert len(org.bodies) == 1


def test_body_shape_and_references() -> None:
    answer = {
        "compositeResponse": [
            {
                "body": {"id": "001000000000001AAA", "success": True, "errors": []},
                "httpHeaders": {"Location": "/x"},
                "httpStatusCode": 201,
                "referenceId": "newAccount",
            },
            {
                "body": [
                    {
                        "errorCode": "PROCESSING_HALTED",
                        "message": "Rolled back since another operation failed.",
                    }
                ],
                "httpHeaders": {},
                "httpStatusCode": 400,
                "referenceId": "newTask",
            },
            {
                "body": [
                    {
                        "errorCode": "REQUIRED_FIELD_MISSING",
                        "message": "Required fields are missing: [Subject]",
                        "fields": ["Subject"],
                    }
                ],
                "httpHeaders": {},
                "httpStatusCode": 400,
                "referenceId": "other",
            },
        ]
    }
    org = CompositeOrg(answer)
    client = org.client()
    subrequests = [
        Sub("POST", "sobjects/Account", "newAccount", {"Name": "Acme"}),
        Sub(
            "POST",
            "sobjects/Task",
            "newTask",
            {"WhatId": "@{newAccount.id}"},
            {"Sforce-Auto-Assign": "FALSE"},
        ),
        Sub("GET", "/services/data/v59.0/sobjects/Task/describe", "other"),
    ]
    answers = client.composite(subrequests, all_or_none=True)
    assert org.bodies[0] == {
        "allOrNone": True,
        "collateSubrequests": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "newAccount",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Task",
                "referenceId": "newTask",
                "body": {"WhatId": "@{newAccount.id}"},
                "httpHeaders": {"Sforce-Auto-Assign": "FALSE"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Task/describe",
                "referenceId": "other",
            },
        ],
    }
    assert client.api_calls_made == 1
    assert [a.reference_id for a in answers] == ["newAccount", "newTask", "other"]
    assert (
        answers[0].ok
        and answers[0].error() is None
        and answers[0].body["id"] == "001000000000001AAA"
    )
    assert answers[0].headers == {"Location": "/x"}
    halted = answers[1].error()
    assert isinstance(halted, IntermittentError) and halted.error_code == "PROCESSING_HALTED"
    with pytest.raises(AccessOrValidationError) as caught:
        answers[2].raise_for_error()
    assert caught.value.fields == ("Subject",)


def test_query_subresponse_records() -> None:
    answer = {
        "compositeResponse": [
            {
                "body": {"totalSize": 1, "done": True, "records": [{"Id": "00Q1"}]},
                "httpHeaders": {},
                "httpStatusCode": 200,
                "referenceId": "leads",
            }
        ]
    }
    (leads,) = CompositeOrg(answer).client().composite(queries(1))
    assert leads.records == [{"Id": "00Q1"}]


def test_a_failed_subresponse_without_a_body_uses_its_status() -> None:
    answer = {
        "compositeResponse": [
            {"body": None, "httpHeaders": {}, "httpStatusCode": 500, "referenceId": "q0"}
        ]
    }
    (only,) = CompositeOrg(answer).client().composite(queries(1))
    error = only.error()
    assert isinstance(error, IntermittentError) and error.error_code == "HTTP_500"


def test_a_composite_answer_without_composite_response_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[])

    client = SalesforceClient(
        INSTANCE, StaticBearer(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(OtherError):
        client.composite(creates(1))


def test_query_steps_encode_the_soql_and_count_as_queries() -> None:
    step = Sub.query("SELECT Id FROM Lead WHERE Email = 'a+b@x.com'", "leads")
    deleted = Sub.query("SELECT Id FROM Task", "tasks", include_deleted=True)
    assert step.to_json("/services/data/v59.0")["url"] == (
        "/services/data/v59.0/query/?q=SELECT+Id+FROM+Lead+WHERE+Email+%3D+%27a%2Bb%40x.com%27"
    )
    assert deleted.url.startswith("queryAll/?q=")
    assert step.is_query_or_collection() and deleted.is_query_or_collection()
    with pytest.raises(ValueError, match="allows 5"):
        CompositeOrg().client().composite(
            [Sub.query("SELECT Id FROM Lead", f"q{i}") for i in range(6)]
        )
