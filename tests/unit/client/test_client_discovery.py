"""Org discovery from one composite answer: FLS, picklists, statuses, object access, API access."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Generator
from typing import Any

import httpx
import pytest

from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.discovery import CheckLevel, OrgProfile, discover_org
from salesync.salesforce.errors import IntermittentError

INSTANCE = "https://acme.my.example.com"
TASK_STATUS_QUERY = (
    "SELECT ApiName, IsClosed, IsDefault, SortOrder FROM TaskStatus ORDER BY SortOrder"
)


class StaticBearer(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer AT-1"
        yield request


def field(name: str, *, create: bool = True, update: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": extra.pop("type", "string"),
        "length": extra.pop("length", 255),
        "createable": create,
        "updateable": update,
        **extra,
    }


def picklist(*values: str, default: str | None = None) -> list[dict[str, Any]]:
    return [{"value": v, "label": v, "active": True, "defaultValue": v == default} for v in values]


def task_fields() -> dict[str, dict[str, Any]]:
    names = [
        "Id",
        "Subject",
        "Status",
        "Priority",
        "ActivityDate",
        "Description",
        "WhoId",
        "WhatId",
        "OwnerId",
    ]
    fields = {name: field(name) for name in names}
    fields["Id"] = field("Id", create=False, update=False, type="id", length=18)
    fields["TaskSubtype"] = field(
        "TaskSubtype",
        update=False,
        type="picklist",
        picklistValues=picklist("Task", "Email", "Call"),
    )
    fields["Type"] = field(
        "Type",
        type="picklist",
        length=40,
        picklistValues=picklist("Call", "Email", "Reply", "Meeting"),
    )
    fields["IsClosed"] = field("IsClosed", create=False, update=False, type="boolean")
    fields["Salesync_Activity_Id__c"] = field(
        "Salesync_Activity_Id__c", length=64, externalId=True, unique=True
    )
    return fields


STATUSES = [
    ("Not Started", False, True, 1),
    ("In Progress", False, False, 2),
    ("Completed", True, False, 3),
]


class DiscoveryOrg:
    """Answers the one composite call; each part can be changed per test."""

    def __init__(self) -> None:
        self.fields = task_fields()
        self.task_object: dict[str, Any] = {"createable": True}
        self.statuses: list[tuple[str, bool, bool, int]] = list(STATUSES)
        self.hidden: set[str] = set()
        self.subresponse_override: dict[str, tuple[int, Any]] = {}
        self.whole_answer: httpx.Response | None = None
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.whole_answer is not None:
            return self.whole_answer
        body = json.loads(request.content)
        return httpx.Response(
            200, json={"compositeResponse": [self.answer(s) for s in body["compositeRequest"]]}
        )

    def answer(self, sub: dict[str, Any]) -> dict[str, Any]:
        ref = sub["referenceId"]
        status, body = self.subresponse_override.get(ref) or self.default(sub)
        return {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref}

    def default(self, sub: dict[str, Any]) -> tuple[int, Any]:
        url = sub["url"]
        if "/query" in url:
            soql = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["q"][0]
            assert soql == TASK_STATUS_QUERY
            rows = [
                {
                    "attributes": {"type": "TaskStatus"},
                    "ApiName": n,
                    "IsClosed": c,
                    "IsDefault": d,
                    "SortOrder": o,
                }
                for n, c, d, o in self.statuses
            ]
            return 200, {"totalSize": len(rows), "done": True, "records": rows}
        name = url.split("/sobjects/")[1].split("/")[0]
        if name in self.hidden:
            return 404, [
                {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
            ]
        if name == "Task":
            return 200, {
                "name": "Task",
                "queryable": True,
                "updateable": True,
                **self.task_object,
                "fields": list(self.fields.values()),
            }
        # Related objects are read through sObject Basic Information: flags, no fields.
        assert url.endswith(f"/sobjects/{name}"), url
        summary = {"name": name, "queryable": True, "createable": True, "updateable": True}
        return 200, {"objectDescribe": summary, "recentItems": []}

    def client(self) -> SalesforceClient:
        return SalesforceClient(
            INSTANCE, StaticBearer(), http=httpx.Client(transport=httpx.MockTransport(self))
        )


def levels(profile: OrgProfile) -> dict[str, CheckLevel]:
    return {check.key: check.level for check in profile.checks}


def text_of(profile: OrgProfile, key: str) -> str:
    return next(check.text for check in profile.checks if check.key == key)


def test_a_well_set_up_org_passes_every_check_in_one_call() -> None:
    org = DiscoveryOrg()
    client = org.client()
    profile = discover_org(client)
    assert client.api_calls_made == 1
    assert set(levels(profile).values()) == {CheckLevel.OK}
    assert profile.api_enabled
    assert profile.task_types == ("Call", "Email", "Reply", "Meeting")
    assert profile.task_type_default is None
    assert profile.task_subtypes == ("Task", "Email", "Call")
    assert profile.external_id_ready
    assert profile.first_closed_status == "Completed"
    assert profile.closed_statuses == {"Completed"}
    assert [s.api_name for s in profile.task_statuses] == [
        "Not Started",
        "In Progress",
        "Completed",
    ]
    assert profile.can_create("TaskSubtype") and not profile.can_update("TaskSubtype")
    assert not profile.can_create("IsClosed")
    assert profile.task_fields["Subject"].length == 255
    assert set(profile.objects) == {"Lead", "Contact", "Account", "Opportunity"}
    subrequests = json.loads(org.requests[0].content)["compositeRequest"]
    assert len(subrequests) == 6
    # The Task describe primes the client's cache: no second call.
    assert client.describe("Task").field("Salesync_Activity_Id__c") is not None
    assert client.api_calls_made == 1


def test_the_profile_round_trips_through_json() -> None:
    profile = discover_org(DiscoveryOrg().client())
    assert OrgProfile.from_json(profile.to_json()) == profile


def test_fields_hidden_or_read_only_under_fls_are_reported() -> None:
    org = DiscoveryOrg()
    del org.fields["Description"]
    org.fields["Subject"] = field("Subject", update=False)
    profile = discover_org(org.client())
    assert levels(profile)["task_fields"] is CheckLevel.ERROR
    assert "Description" in text_of(profile, "task_fields")
    assert "Description" not in profile.task_fields
    assert profile.can_create("Subject") and not profile.can_update("Subject")


def test_update_only_restrictions_are_a_warning() -> None:
    org = DiscoveryOrg()
    org.fields["Priority"] = field("Priority", update=False)
    profile = discover_org(org.client())
    assert levels(profile)["task_sync_fields"] is CheckLevel.WARNING
    assert "Priority" in text_of(profile, "task_sync_fields")
    assert levels(profile)["task_fields"] is CheckLevel.OK


def test_every_written_field_the_user_cannot_edit_is_named_by_api_name() -> None:
    org = DiscoveryOrg()
    org.fields["CallType"] = field("CallType", create=False, update=False)
    del org.fields["Type"]
    written = ("CallType", "Type", "Subject", "MSE_Nowhere__c")
    profile = discover_org(org.client(), written_fields=written)
    assert levels(profile)["task_fields"] is CheckLevel.ERROR
    text = text_of(profile, "task_fields")
    assert "read-only for this user: CallType" in text
    assert "hidden by field-level security: Type" in text
    assert "missing from the org or hidden from this user: MSE_Nowhere__c" in text
    assert "Set Field-Level Security" in text


def test_only_missing_custom_fields_are_a_warning() -> None:
    profile = discover_org(DiscoveryOrg().client(), written_fields=("MSE_Nowhere__c",))
    assert levels(profile)["task_fields"] is CheckLevel.WARNING


def test_tasks_not_createable_is_an_error() -> None:
    org = DiscoveryOrg()
    org.task_object = {"createable": False}
    assert levels(discover_org(org.client()))["task_access"] is CheckLevel.ERROR


def test_objects_without_access_are_flagged() -> None:
    org = DiscoveryOrg()
    org.hidden = {"Lead"}
    org.subresponse_override["describeOpportunity"] = (
        400,
        [{"errorCode": "INVALID_TYPE", "message": "sObject type 'Opportunity' is not supported."}],
    )
    profile = discover_org(org.client())
    assert not profile.objects["Lead"].accessible
    assert "NOT_FOUND" in profile.objects["Lead"].reason
    assert not profile.objects["Opportunity"].accessible
    assert levels(profile)["object_lead"] is CheckLevel.WARNING
    assert levels(profile)["object_opportunity"] is CheckLevel.WARNING
    assert levels(profile)["object_contact"] is CheckLevel.OK


def test_type_picklist_needs_email_call_reply_and_no_default() -> None:
    org = DiscoveryOrg()
    org.fields["Type"] = field(
        "Type",
        type="picklist",
        picklistValues=picklist("Call", "email", "Meeting", default="Meeting"),
    )
    profile = discover_org(org.client())
    text = text_of(profile, "task_type")
    assert levels(profile)["task_type"] is CheckLevel.WARNING
    assert "Email, Reply" in text and "Meeting" in text
    assert profile.task_type_default == "Meeting"


def test_missing_external_id_field_is_a_warning_with_the_fix() -> None:
    org = DiscoveryOrg()
    del org.fields["Salesync_Activity_Id__c"]
    profile = discover_org(org.client())
    assert not profile.external_id_ready
    assert levels(profile)["external_id"] is CheckLevel.WARNING
    assert "External ID and Unique" in text_of(profile, "external_id")


def test_a_custom_external_id_field_name_is_checked() -> None:
    org = DiscoveryOrg()
    org.fields["Ext__c"] = field("Ext__c", externalId=True, unique=False)
    profile = discover_org(org.client(), external_id_field="Ext__c")
    assert profile.external_id_field == "Ext__c"
    assert levels(profile)["external_id"] is CheckLevel.WARNING


def test_no_closed_status_is_an_error_and_missing_sync_statuses_a_warning() -> None:
    org = DiscoveryOrg()
    org.statuses = [("Open", False, True, 1)]
    assert levels(discover_org(org.client()))["task_status"] is CheckLevel.ERROR
    org.statuses = [("Open", False, True, 1), ("Done", True, False, 2)]
    profile = discover_org(org.client())
    assert levels(profile)["task_status"] is CheckLevel.WARNING
    assert profile.first_closed_status == "Done"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("API_CURRENTLY_DISABLED", "API Enabled"),
        ("API_DISABLED_FOR_ORG", "edition has no API access"),
    ],
)
def test_api_access_disabled_is_said_plainly(code: str, says: str) -> None:
    org = DiscoveryOrg()
    org.whole_answer = httpx.Response(403, json=[{"errorCode": code, "message": "API is disabled"}])
    profile = discover_org(org.client())
    assert not profile.api_enabled
    assert levels(profile) == {"api_access": CheckLevel.ERROR}
    assert says in text_of(profile, "api_access")


def test_transient_trouble_in_a_step_raises_instead_of_guessing() -> None:
    org = DiscoveryOrg()
    org.subresponse_override["taskStatuses"] = (503, None)
    with pytest.raises(IntermittentError):
        discover_org(org.client())
