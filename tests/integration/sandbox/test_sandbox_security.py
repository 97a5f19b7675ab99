"""Field-level security and object permissions per user (API-FACTS §2.11, item 13)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from salesync.sandbox.objects import CustomFieldSpec
from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error

REP = "rep@example.test"


@pytest.fixture
def rep(sandbox: Sandbox) -> httpx.Client:
    """A user whose Task custom fields are one hidden and one read-only."""
    sandbox.org.add_custom_field(CustomFieldSpec("Task", "Secret__c", "text"))
    sandbox.org.add_custom_field(CustomFieldSpec("Task", "Viewed__c", "checkbox"))
    sandbox.org.add_user(REP, first_name="Rep", last_name="One", email=REP)
    response = sandbox.control().put(
        f"/__sandbox__/users/{REP}/permissions",
        json={"fields": {"Task.Secret__c": "hidden", "Task.Viewed__c": "read"}},
    )
    assert response.status_code == 200
    return sandbox.client(REP)


def fields_by_name(client: httpx.Client, sobject: str) -> dict[str, Any]:
    described = client.get(f"{API}/sobjects/{sobject}/describe").json()
    return {f["name"]: f for f in described["fields"]}


def test_describe_hides_and_marks_read_only_fields(rep: httpx.Client, admin: httpx.Client) -> None:
    rep_fields = fields_by_name(rep, "Task")
    assert "Secret__c" not in rep_fields
    assert rep_fields["Viewed__c"]["createable"] is False
    assert rep_fields["Viewed__c"]["updateable"] is False
    admin_fields = fields_by_name(admin, "Task")
    assert admin_fields["Secret__c"]["createable"] is True
    assert admin_fields["Viewed__c"]["updateable"] is True


def test_get_omits_hidden_fields_and_fields_param_refuses_them(
    rep: httpx.Client, admin: httpx.Client
) -> None:
    task_id = admin.post(f"{API}/sobjects/Task", json={"Secret__c": "s"}).json()["id"]
    assert "Secret__c" not in rep.get(f"{API}/sobjects/Task/{task_id}").json()
    refused = rep.get(f"{API}/sobjects/Task/{task_id}", params={"fields": "Secret__c"})
    assert_error(refused, 400, "INVALID_FIELD")


def test_querying_a_hidden_field_is_invalid_field(rep: httpx.Client, admin: httpx.Client) -> None:
    soql = "SELECT Id, Secret__c FROM Task"
    assert admin.get(f"{API}/query", params={"q": soql}).status_code == 200
    assert_error(rep.get(f"{API}/query", params={"q": soql}), 400, "INVALID_FIELD")


def test_writing_hidden_or_read_only_fields(rep: httpx.Client) -> None:
    hidden = rep.post(f"{API}/sobjects/Task", json={"Secret__c": "x"})
    assert_error(hidden, 400, "INVALID_FIELD")
    read_only = rep.post(f"{API}/sobjects/Task", json={"Viewed__c": True})
    entry = assert_error(read_only, 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    assert entry["fields"] == ["Viewed__c"]
    assert rep.post(f"{API}/sobjects/Task", json={"Subject": "fine"}).status_code == 201


def test_object_without_access(sandbox: Sandbox) -> None:
    sandbox.org.add_user(REP, first_name="Rep", last_name="One", email=REP)
    no_lead = {"read": False, "create": False, "edit": False, "delete": False}
    sandbox.control().put(
        f"/__sandbox__/users/{REP}/permissions", json={"objects": {"Lead": no_lead}}
    )
    rep = sandbox.client(REP)
    entry = assert_error(
        rep.get(f"{API}/query", params={"q": "SELECT Id FROM Lead WHERE Email = 'a@b.c'"}),
        400,
        "INVALID_TYPE",
    )
    assert entry["message"].startswith("sObject type 'Lead' is not supported")
    assert_error(rep.get(f"{API}/sobjects/Lead/describe"), 400, "INVALID_TYPE")
    write = rep.post(f"{API}/sobjects/Lead", json={"LastName": "x", "Company": "y"})
    assert_error(write, 400, "INSUFFICIENT_ACCESS_OR_READONLY")
    names = [o["name"] for o in rep.get(f"{API}/sobjects").json()["sobjects"]]
    assert "Lead" not in names and "Task" in names


def test_read_only_object_access(sandbox: Sandbox) -> None:
    sandbox.org.add_user(REP, first_name="Rep", last_name="One", email=REP)
    read_only = {"read": True, "create": False, "edit": False, "delete": False}
    sandbox.control().put(
        f"/__sandbox__/users/{REP}/permissions", json={"objects": {"Contact": read_only}}
    )
    rep = sandbox.client(REP)
    described = rep.get(f"{API}/sobjects/Contact/describe").json()
    assert (described["createable"], described["updateable"]) == (False, False)
    write = rep.post(f"{API}/sobjects/Contact", json={"LastName": "x"})
    assert_error(write, 400, "INSUFFICIENT_ACCESS_OR_READONLY")


def test_describe_shows_picklist_values_and_restriction(admin: httpx.Client) -> None:
    fields = fields_by_name(admin, "Task")
    status_values = fields["Status"]["picklistValues"]
    assert status_values[0] == {
        "active": True,
        "defaultValue": True,
        "label": "Not Started",
        "validFor": None,
        "value": "Not Started",
    }
    assert fields["Status"]["restrictedPicklist"] is False
    assert fields["CallType"]["restrictedPicklist"] is True
    assert [p["value"] for p in fields["CallType"]["picklistValues"]] == [
        "Inbound",
        "Internal",
        "Outbound",
    ]
    assert fields["TaskSubtype"]["createable"] is True
    assert fields["TaskSubtype"]["updateable"] is False
    assert fields["Description"]["filterable"] is False
    assert fields["WhoId"]["referenceTo"] == ["Contact", "Lead"]
    assert fields["WhoId"]["relationshipName"] == "Who"


def test_object_level_describe_shape(admin: httpx.Client) -> None:
    described = admin.get(f"{API}/sobjects/Task/describe").json()
    assert (described["name"], described["keyPrefix"]) == ("Task", "00T")
    assert described["urls"]["rowTemplate"] == f"{API}/sobjects/Task/{{ID}}"
    lead = admin.get(f"{API}/sobjects/Lead/describe").json()
    assert {"childSObject": "Task", "field": "WhoId", "relationshipName": "Tasks"}.items() <= (
        lead["childRelationships"][0].items()
    )
