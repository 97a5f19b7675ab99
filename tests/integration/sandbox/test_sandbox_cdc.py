"""Change events (API-FACTS §5, item 15): headers, values, changeOrigin, bumps, undelete, gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from salesync.sandbox.seed import ADMIN_USERNAME
from tests.integration.sandbox.sandbox_support import API, Sandbox

TASK = f"{API}/sobjects/Task"
EVENTS = "/__sandbox__/events"
NOW = datetime(2025, 3, 3, 10, 0, 0, tzinfo=UTC)
NOW_MS = 1_740_996_000_000  # NOW as epoch milliseconds


@pytest.fixture
def control(sandbox: Sandbox) -> httpx.Client:
    """The control plane, with the sandbox clock frozen at NOW."""
    client = sandbox.control()
    frozen = client.post("/__sandbox__/clock", json={"now": NOW.isoformat(), "frozen": True})
    assert frozen.status_code == 200, frozen.text
    return client


@pytest.fixture
def tagged(sandbox: Sandbox, control: httpx.Client) -> httpx.Client:
    """An API client that names itself in Sforce-Call-Options, as salesync does."""
    return sandbox.client(ADMIN_USERNAME, **{"Sforce-Call-Options": "client=salesync"})


def read(control: httpx.Client, channel: str = "TaskChangeEvent", **params: Any) -> Any:
    response = control.get(f"{EVENTS}/{channel}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def payloads(control: httpx.Client, channel: str = "TaskChangeEvent") -> list[dict[str, Any]]:
    return [event["payload"] for event in read(control, channel)["events"]]


def headers(control: httpx.Client, channel: str = "TaskChangeEvent") -> list[dict[str, Any]]:
    return [payload["ChangeEventHeader"] for payload in payloads(control, channel)]


def create_task(client: httpx.Client, **fields: Any) -> str:
    response = client.post(f"{TASK}/", json=fields)
    assert response.status_code == 201, response.text
    task_id: str = response.json()["id"]
    return task_id


def test_create_event_has_the_header_and_the_new_values(
    sandbox: Sandbox, control: httpx.Client, tagged: httpx.Client
) -> None:
    task_id = create_task(tagged, Subject="Call Ann", ActivityDate="2025-03-07")
    [event] = read(control)["events"]
    header = event["payload"].pop("ChangeEventHeader")
    assert header["entityName"] == "Task" and header["recordIds"] == [task_id]
    assert header["changeType"] == "CREATE"
    assert header["changeOrigin"] == "com/salesforce/api/rest/59.0;client=salesync"
    assert header["commitUser"] == sandbox.org.admin_user_id
    assert header["commitTimestamp"] == NOW_MS
    assert (header["sequenceNumber"], header["commitNumber"]) == (1, 1)
    assert header["transactionKey"]
    assert header["changedFields"] == header["diffFields"] == header["nulledFields"] == []
    values = event["payload"]
    assert (values["Subject"], values["ActivityDate"]) == ("Call Ann", "2025-03-07")
    assert values["Status"] == "Not Started" and values["IsClosed"] is False
    assert values["LastModifiedDate"] == "2025-03-03T10:00:00.000+0000"
    assert "Id" not in values and "Description" not in values  # null fields are left out
    assert event["replayId"] == 1


def test_update_lists_changed_and_nulled_fields_with_last_modified_date(
    control: httpx.Client, tagged: httpx.Client
) -> None:
    task_id = create_task(tagged, Subject="Draft", Description="notes")
    control.post("/__sandbox__/clock", json={"advanceSeconds": 60})
    patched = tagged.patch(f"{TASK}/{task_id}", json={"Subject": "Final", "Description": None})
    assert patched.status_code == 204, patched.text
    update = payloads(control)[1]
    header = update.pop("ChangeEventHeader")
    assert header["changeType"] == "UPDATE" and header["recordIds"] == [task_id]
    assert header["changedFields"] == [
        "Description",
        "LastModifiedDate",
        "Subject",
        "SystemModstamp",
    ]
    assert header["nulledFields"] == ["Description"]
    assert update == {
        "Description": None,
        "LastModifiedDate": "2025-03-03T10:01:00.000+0000",
        "Subject": "Final",
        "SystemModstamp": "2025-03-03T10:01:00.000+0000",
    }
    assert header["commitNumber"] == 2 and header["commitTimestamp"] == NOW_MS + 60_000


def test_an_update_in_the_same_second_still_lists_last_modified_date(
    control: httpx.Client, tagged: httpx.Client
) -> None:
    task_id = create_task(tagged, Subject="Quick")
    tagged.patch(f"{TASK}/{task_id}", json={"Priority": "High"})
    update = headers(control)[1]
    assert update["changedFields"] == [
        "IsHighPriority",
        "LastModifiedDate",
        "Priority",
        "SystemModstamp",
    ]


def test_delete_and_undelete_carry_only_the_header(
    sandbox: Sandbox, control: httpx.Client, tagged: httpx.Client
) -> None:
    task_id = create_task(tagged, Subject="Gone soon")
    assert tagged.delete(f"{TASK}/{task_id}").status_code == 204
    restored = control.post(f"/__sandbox__/records/{task_id}/undelete")
    assert restored.status_code == 200, restored.text
    assert tagged.get(f"{TASK}/{task_id}").json()["Subject"] == "Gone soon"
    _, deleted, undeleted = payloads(control)
    assert list(deleted) == list(undeleted) == ["ChangeEventHeader"]
    assert deleted["ChangeEventHeader"]["changeType"] == "DELETE"
    assert deleted["ChangeEventHeader"]["changeOrigin"].endswith(";client=salesync")
    assert undeleted["ChangeEventHeader"]["changeType"] == "UNDELETE"
    assert undeleted["ChangeEventHeader"]["changeOrigin"] == ""  # restored in Salesforce
    assert undeleted["ChangeEventHeader"]["recordIds"] == [task_id]
    again = control.post(f"/__sandbox__/records/{task_id}/undelete")
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "UNDELETE_FAILED"


def test_change_origin_names_the_client_only_when_the_caller_sent_one(
    sandbox: Sandbox, control: httpx.Client, tagged: httpx.Client, admin: httpx.Client
) -> None:
    create_task(tagged, Subject="from salesync")
    create_task(admin, Subject="from another integration")
    by_hand = control.post(
        "/__sandbox__/records",
        json={"sobject": "Task", "fields": {"Subject": "by hand"}, "client": "salesync"},
    )
    assert by_hand.status_code == 201, by_hand.text
    assert [h["changeOrigin"] for h in headers(control)] == [
        "com/salesforce/api/rest/59.0;client=salesync",
        "com/salesforce/api/rest/59.0",
        "",
    ]


def test_an_automation_bump_is_an_update_without_last_modified_date(
    control: httpx.Client, tagged: httpx.Client
) -> None:
    task_id = create_task(tagged, Subject="Touched by a flow")
    control.post("/__sandbox__/clock", json={"advanceSeconds": 5})
    assert control.post(f"/__sandbox__/records/{task_id}/bump").status_code == 200
    bump = payloads(control)[1]
    header = bump.pop("ChangeEventHeader")
    assert header["changeType"] == "UPDATE" and header["recordIds"] == [task_id]
    assert header["changedFields"] == ["SystemModstamp"]
    assert header["changeOrigin"] == ""
    assert bump == {"SystemModstamp": "2025-03-03T10:00:05.000+0000"}


def test_other_objects_have_their_own_channel_and_all_share_change_events(
    control: httpx.Client, tagged: httpx.Client
) -> None:
    contact = tagged.post(f"{API}/sobjects/Contact", json={"LastName": "Lee"}).json()["id"]
    task_id = create_task(tagged, WhoId=contact)
    assert [h["recordIds"] for h in headers(control)] == [[task_id]]
    assert [h["recordIds"] for h in headers(control, "ContactChangeEvent")] == [[contact]]
    everything = headers(control, "ChangeEvents")
    assert [h["entityName"] for h in everything] == ["Contact", "Task"]
    assert payloads(control, "ContactChangeEvent")[0]["LastName"] == "Lee"
    unknown = control.get(f"{EVENTS}/WidgetChangeEvent")
    assert unknown.status_code == 400 and "Widget" in unknown.json()["error"]
    assert control.get(f"{EVENTS}/Tasks").status_code == 400


def test_one_change_to_several_records_in_a_transaction_is_one_event(
    control: httpx.Client, tagged: httpx.Client
) -> None:
    first, second = create_task(tagged, Subject="a"), create_task(tagged, Subject="b")
    records = [
        {"attributes": {"type": "Task"}, "Id": task_id, "Status": "Completed"}
        for task_id in (first, second)
    ]
    updated = tagged.patch(f"{API}/composite/sobjects", json={"records": records})
    assert [r["success"] for r in updated.json()] == [True, True]
    update = headers(control)[2:]
    assert [(h["changeType"], h["recordIds"]) for h in update] == [("UPDATE", [first, second])]
    assert "IsClosed" in update[0]["changedFields"]


def test_gap_events_are_injected_on_demand(
    sandbox: Sandbox, control: httpx.Client, tagged: httpx.Client
) -> None:
    task_id = create_task(tagged, Subject="archived later")
    gap = control.post(
        f"{EVENTS}/gap",
        json={"entity": "Task", "recordIds": [task_id[:15]], "changeType": "GAP_UPDATE"},
    )
    assert gap.status_code == 201, gap.text
    assert gap.json()["replayId"] == 2
    payload = gap.json()["payload"]
    assert list(payload) == ["ChangeEventHeader"]  # no field values in a gap event
    header = payload["ChangeEventHeader"]
    assert (header["changeType"], header["recordIds"]) == ("GAP_UPDATE", [task_id])
    assert (header["changedFields"], header["changeOrigin"], header["sequenceNumber"]) == (
        [],
        "",
        1,
    )
    overflow = control.post(f"{EVENTS}/gap", json={"entity": "Task", "changeType": "GAP_OVERFLOW"})
    assert overflow.status_code == 201, overflow.text
    assert overflow.json()["payload"]["ChangeEventHeader"]["recordIds"] == ["000000000000000AAA"]
    assert [h["changeType"] for h in headers(control)] == ["CREATE", "GAP_UPDATE", "GAP_OVERFLOW"]


@pytest.mark.parametrize(
    "body",
    [
        {"entity": "Task", "changeType": "GAP_UPDATE"},
        {"entity": "Task", "changeType": "GAP_OVERFLOW", "recordIds": ["00T000000000001AAA"]},
        {"entity": "Task", "changeType": "UPDATE", "recordIds": ["00T000000000001AAA"]},
        {"entity": "Widget", "changeType": "GAP_CREATE", "recordIds": ["00T000000000001AAA"]},
        {"entity": "Task", "changeType": "GAP_DELETE", "recordIds": ["not-an-id"]},
    ],
)
def test_bad_gap_requests_are_refused_and_publish_nothing(
    control: httpx.Client, body: dict[str, Any]
) -> None:
    refused = control.post(f"{EVENTS}/gap", json=body)
    assert refused.status_code == 400, refused.text
    assert read(control, "ChangeEvents") == {"events": [], "latestReplayId": 0}


def test_a_lead_conversion_is_one_transaction_in_sequence(
    control: httpx.Client, tagged: httpx.Client
) -> None:
    lead = tagged.post(
        f"{API}/sobjects/Lead", json={"LastName": "Lee", "Company": "Lee Co"}
    ).json()["id"]
    tasks = [create_task(tagged, WhoId=lead, Subject=s) for s in ("call", "email")]
    converted = control.post(f"/__sandbox__/leads/{lead}/convert", json={})
    assert converted.status_code == 200, converted.text
    contact = converted.json()["contactId"]
    conversion = headers(control, "ChangeEvents")[3:]
    assert [(h["entityName"], h["changeType"]) for h in conversion] == [
        ("Account", "CREATE"),
        ("Contact", "CREATE"),
        ("Lead", "UPDATE"),
        ("Task", "UPDATE"),
    ]
    assert [h["sequenceNumber"] for h in conversion] == [1, 2, 3, 4]
    assert len({h["transactionKey"] for h in conversion}) == 1
    assert {h["changeOrigin"] for h in conversion} == {""}
    moved = payloads(control)[2:]
    assert [p["ChangeEventHeader"]["recordIds"] for p in moved] == [tasks]
    assert moved[0]["WhoId"] == contact
