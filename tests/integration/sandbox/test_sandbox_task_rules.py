"""Task semantics over HTTP, item by item (API-FACTS §1; "Emulator must reproduce" 4, 5, 7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error

TASK = f"{API}/sobjects/Task"


def create(client: httpx.Client, sobject: str = "Task", **fields: Any) -> str:
    response = client.post(f"{API}/sobjects/{sobject}/", json=fields)
    assert response.status_code == 201, response.text
    record_id: str = response.json()["id"]
    return record_id


def read(client: httpx.Client, record_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{TASK}/{record_id}").json()
    return body


def test_defaults_on_create(sandbox: Sandbox, admin: httpx.Client) -> None:
    task = read(admin, create(admin, Subject="x"))
    assert task["Status"] == "Not Started" and task["IsClosed"] is False
    assert task["Priority"] == "Normal" and task["IsHighPriority"] is False
    assert task["OwnerId"] == sandbox.org.admin_user_id
    assert task["IsReminderSet"] is False and task["CompletedDateTime"] is None
    assert task["CreatedById"] == task["LastModifiedById"] == sandbox.org.admin_user_id


def test_closed_status_sets_completed_date_time(sandbox: Sandbox, admin: httpx.Client) -> None:
    sandbox.org.clock.freeze()
    task_id = create(admin, Subject="done", Status="Completed", Priority="High")
    task = read(admin, task_id)
    assert task["IsClosed"] is True and task["IsHighPriority"] is True
    assert task["CompletedDateTime"] == task["CreatedDate"]


def test_completed_date_time_follows_status_changes(sandbox: Sandbox, admin: httpx.Client) -> None:
    sandbox.org.clock.freeze()
    task_id = create(admin, Subject="x", Status="Completed")
    first = read(admin, task_id)["CompletedDateTime"]
    sandbox.org.clock.advance(timedelta(minutes=5))
    admin.patch(f"{TASK}/{task_id}", json={"Status": "Completed", "Subject": "same status"})
    assert read(admin, task_id)["CompletedDateTime"] == first  # unchanged status: untouched
    admin.patch(f"{TASK}/{task_id}", json={"Status": "In Progress"})
    reopened = read(admin, task_id)
    assert reopened["CompletedDateTime"] is None and reopened["IsClosed"] is False
    sandbox.org.clock.advance(timedelta(minutes=5))
    admin.patch(f"{TASK}/{task_id}", json={"Status": "Completed"})
    assert read(admin, task_id)["CompletedDateTime"] > first


def test_is_closed_comes_from_the_task_status_table(sandbox: Sandbox, admin: httpx.Client) -> None:
    statuses = [
        {"ApiName": "Open", "IsDefault": True},
        {"ApiName": "Done", "IsClosed": True},
    ]
    assert sandbox.control().put("/__sandbox__/task-statuses", json=statuses).status_code == 200
    task_id = create(admin, Subject="x", Status="Done")
    assert read(admin, task_id)["IsClosed"] is True
    assert read(admin, create(admin, Subject="y"))["Status"] == "Open"
    # Re-classifying a status later leaves existing rows alone (API-FACTS §1).
    statuses[1]["IsClosed"] = False
    sandbox.control().put("/__sandbox__/task-statuses", json=statuses)
    assert read(admin, task_id)["IsClosed"] is True


def test_unrestricted_picklists_accept_unknown_values(admin: httpx.Client) -> None:
    task = read(admin, create(admin, Subject="x", Status="Daffy", Priority="Urgent", Type="Zap"))
    assert (task["Status"], task["IsClosed"], task["Priority"], task["Type"]) == (
        "Daffy",
        False,
        "Urgent",
        "Zap",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("CallType", "Sideways", "Call Type: bad value for restricted picklist field: Sideways"),
        ("TaskSubtype", "Fax", "Task Subtype: bad value for restricted picklist field: Fax"),
    ],
)
def test_restricted_picklists_refuse_unknown_values(
    admin: httpx.Client, field: str, value: str, message: str
) -> None:
    response = admin.post(f"{TASK}/", json={"Subject": "x", field: value})
    entry = assert_error(response, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    assert entry["message"] == message and entry["fields"] == [field]


def test_task_subtype_is_create_only(admin: httpx.Client) -> None:
    task_id = create(admin, Subject="x", TaskSubtype="Call")
    response = admin.patch(f"{TASK}/{task_id}", json={"TaskSubtype": "Call"})
    entry = assert_error(response, 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    assert entry["fields"] == ["TaskSubtype"]


@pytest.mark.parametrize("field", ["IsClosed", "CompletedDateTime", "AccountId", "SystemModstamp"])
def test_read_only_fields_are_refused_on_update(admin: httpx.Client, field: str) -> None:
    task_id = create(admin, Subject="x")
    entry = assert_error(
        admin.patch(f"{TASK}/{task_id}", json={field: None}), 400, "INVALID_FIELD_FOR_INSERT_UPDATE"
    )
    assert entry["fields"] == [field]


@pytest.mark.parametrize(
    ("field", "limit"), [("Subject", 255), ("CallDisposition", 255), ("CallObject", 255)]
)
def test_string_lengths(admin: httpx.Client, field: str, limit: int) -> None:
    assert admin.post(f"{TASK}/", json={field: "a" * limit}).status_code == 201
    entry = assert_error(
        admin.post(f"{TASK}/", json={field: "a" * (limit + 1)}), 400, "STRING_TOO_LONG"
    )
    assert entry["fields"] == [field] and f"(max length={limit})" in entry["message"]


def test_description_holds_32000_characters(admin: httpx.Client) -> None:
    assert admin.post(f"{TASK}/", json={"Description": "d" * 32000}).status_code == 201
    assert_error(admin.post(f"{TASK}/", json={"Description": "d" * 32001}), 400, "STRING_TOO_LONG")


def test_activity_date_is_a_date(admin: httpx.Client) -> None:
    plain = read(admin, create(admin, ActivityDate="2024-03-01"))
    from_datetime = read(admin, create(admin, ActivityDate="2019-09-26T16:30:00.000+0000"))
    assert (plain["ActivityDate"], from_datetime["ActivityDate"]) == ("2024-03-01", "2019-09-26")
    assert_error(admin.post(f"{TASK}/", json={"ActivityDate": "soon"}), 400, "JSON_PARSER_ERROR")
    assert_error(admin.post(f"{TASK}/", json={"IsReminderSet": "yes"}), 400, "JSON_PARSER_ERROR")


def test_reminder_datetime_round_trips_in_utc(admin: httpx.Client) -> None:
    task = read(
        admin, create(admin, IsReminderSet=True, ReminderDateTime="2024-03-01T09:30:00+01:00")
    )
    assert task["ReminderDateTime"] == "2024-03-01T08:30:00.000+0000"


def test_who_and_what_must_point_at_allowed_records(admin: httpx.Client) -> None:
    account_id = create(admin, "Account", Name="Acme")
    entry = assert_error(
        admin.post(f"{TASK}/", json={"WhoId": account_id}), 400, "FIELD_INTEGRITY_EXCEPTION"
    )
    assert entry["fields"] == ["WhoId"]
    missing_contact = "0035g00000099999"[:15]
    entry = assert_error(
        admin.post(f"{TASK}/", json={"WhoId": missing_contact}), 400, "INVALID_CROSS_REFERENCE_KEY"
    )
    assert entry["fields"] == ["WhoId"]
    assert_error(admin.post(f"{TASK}/", json={"WhatId": "garbage"}), 400, "MALFORMED_ID")


def test_a_lead_task_cannot_have_a_what(admin: httpx.Client) -> None:
    lead_id = create(admin, "Lead", LastName="Lee", Company="Lee Co")
    account_id = create(admin, "Account", Name="Acme")
    response = admin.post(f"{TASK}/", json={"WhoId": lead_id, "WhatId": account_id})
    assert_error(response, 400, "FIELD_INTEGRITY_EXCEPTION")


def test_account_id_is_derived_from_what_then_who(admin: httpx.Client) -> None:
    account_id = create(admin, "Account", Name="Acme")
    other_account = create(admin, "Account", Name="Other")
    contact_id = create(admin, "Contact", LastName="Lovelace", AccountId=other_account)
    opportunity_id = create(
        admin, "Opportunity", Name="Deal", StageName="Prospecting", CloseDate="2030-01-01",
        AccountId=account_id,
    )  # fmt: skip
    via_opportunity = read(admin, create(admin, WhoId=contact_id, WhatId=opportunity_id))
    via_contact = read(admin, create(admin, WhoId=contact_id))
    assert via_opportunity["AccountId"] == account_id
    assert via_contact["AccountId"] == other_account and via_contact["WhoCount"] == 1
    task_id = via_contact["Id"]
    admin.patch(f"{TASK}/{task_id}", json={"WhoId": None})
    assert read(admin, task_id)["AccountId"] is None


def test_type_default_applies_when_the_picklist_has_one(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    sandbox.control().put(
        "/__sandbox__/picklists/Task/Type", json={"values": ["Call", "Email"], "default": "Call"}
    )
    assert read(admin, create(admin, Subject="x"))["Type"] == "Call"
    assert read(admin, create(admin, Subject="y", Type="Email"))["Type"] == "Email"


def test_automation_moves_system_modstamp_but_not_last_modified(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    task_id = create(admin, Subject="x")
    before = read(admin, task_id)
    sandbox.org.clock.advance(timedelta(minutes=3))
    bumped = sandbox.control().post(f"/__sandbox__/records/{task_id}/bump").json()
    after = read(admin, task_id)
    assert after["SystemModstamp"] == bumped["SystemModstamp"] > before["SystemModstamp"]
    assert after["LastModifiedDate"] == before["LastModifiedDate"]


def test_user_edits_move_both_timestamps(sandbox: Sandbox, admin: httpx.Client) -> None:
    task_id = create(admin, Subject="x")
    sandbox.org.clock.advance(timedelta(minutes=3))
    admin.patch(f"{TASK}/{task_id}", json={"Subject": "y"})
    task = read(admin, task_id)
    assert task["LastModifiedDate"] == task["SystemModstamp"] > task["CreatedDate"]


def query(client: httpx.Client, soql: str, *, all_rows: bool = False) -> dict[str, Any]:
    resource = "queryAll" if all_rows else "query"
    response = client.get(f"{API}/{resource}", params={"q": soql})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_soft_delete_hides_from_query_but_not_query_all(admin: httpx.Client) -> None:
    task_id = create(admin, Subject="gone")
    admin.delete(f"{TASK}/{task_id}")
    soql = f"SELECT Id, IsDeleted FROM Task WHERE Id = '{task_id}'"
    assert query(admin, soql)["totalSize"] == 0
    rows = query(admin, soql, all_rows=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(task_id, True)]


def test_recycle_bin_is_purged_after_15_days(sandbox: Sandbox, admin: httpx.Client) -> None:
    task_id = create(admin, Subject="gone")
    admin.delete(f"{TASK}/{task_id}")
    sandbox.org.clock.advance(timedelta(days=15, minutes=1))
    fresh = sandbox.client()
    soql = f"SELECT Id FROM Task WHERE Id = '{task_id}'"
    assert query(fresh, soql, all_rows=True)["totalSize"] == 0
    assert_error(fresh.get(f"{TASK}/{task_id}"), 404, "NOT_FOUND")


def test_writes_record_the_call_options_client(sandbox: Sandbox) -> None:
    client = sandbox.client(**{"Sforce-Call-Options": "client=salesync, defaultNamespace=x"})
    task_id = create(client, Subject="x")
    client.patch(f"{TASK}/{task_id}", json={"Subject": "y"})
    history = sandbox.control().get("/__sandbox__/changes", params={"recordId": task_id}).json()
    assert [(c["changeType"], c["client"]) for c in history] == [
        ("CREATE", "salesync"),
        ("UPDATE", "salesync"),
    ]
    assert history[1]["changeOrigin"] == "com/salesforce/api/rest/59.0;client=salesync"
    assert "Subject" in history[1]["changedFields"]
