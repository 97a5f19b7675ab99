"""The `/__sandbox__/` control plane: faults, clock, logs, direct edits, seeds, persistence."""

from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from salesync.sandbox.app import SandboxHandler
from salesync.sandbox.http import ApiRequest
from salesync.sandbox.org import Org
from salesync.sandbox.seed import ADMIN_USERNAME
from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error

TASK = f"{API}/sobjects/Task"


def add_fault(sandbox: Sandbox, **fault: Any) -> dict[str, Any]:
    response = sandbox.control().post("/__sandbox__/faults", json=fault)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def task_count(client: httpx.Client) -> int:
    body = client.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Task"}).json()
    total: int = body["totalSize"]
    return total


def test_error_fault_applies_n_times_without_running_the_request(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    add_fault(
        sandbox, method="POST", path=r"/sobjects/Task$", status=400,
        errorCode="UNABLE_TO_LOCK_ROW", message="unable to obtain exclusive access", times=2,
    )  # fmt: skip
    for _ in range(2):
        assert_error(admin.post(f"{TASK}/", json={}), 400, "UNABLE_TO_LOCK_ROW")
    assert task_count(admin) == 0
    assert admin.post(f"{TASK}/", json={}).status_code == 201
    assert sandbox.control().get("/__sandbox__/faults").json() == []


def test_session_fault_carries_the_token_header(sandbox: Sandbox, admin: httpx.Client) -> None:
    add_fault(sandbox, path="/limits", status=401, errorCode="INVALID_SESSION_ID",
              message="Session expired or invalid", times=1)  # fmt: skip
    response = admin.get(f"{API}/limits")
    assert_error(response, 401, "INVALID_SESSION_ID")
    assert response.headers["www-authenticate"] == "Token"


def test_dropped_connection_after_commit(sandbox: Sandbox, admin: httpx.Client) -> None:
    add_fault(sandbox, method="POST", path=r"/sobjects/Task$", dropAfterCommit=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        admin.post(f"{TASK}/", json={"Subject": "lost reply"})
    rows = admin.get(f"{API}/query", params={"q": "SELECT Subject FROM Task"}).json()["records"]
    assert [r["Subject"] for r in rows] == ["lost reply"]


def test_a_fault_can_let_the_first_matching_requests_through(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    add_fault(sandbox, method="POST", path=r"/sobjects/Task$", status=503,
              errorCode="SERVER_UNAVAILABLE", message="busy", skip=2, times=1)  # fmt: skip
    assert admin.post(f"{TASK}/", json={}).status_code == 201
    assert admin.post(f"{TASK}/", json={}).status_code == 201
    assert_error(admin.post(f"{TASK}/", json={}), 503, "SERVER_UNAVAILABLE")
    assert admin.post(f"{TASK}/", json={}).status_code == 201
    assert task_count(admin) == 3


def test_latency_fault_delays_but_answers(sandbox: Sandbox, admin: httpx.Client) -> None:
    fault = add_fault(sandbox, path="/limits", latencyMs=20)
    assert admin.get(f"{API}/limits").status_code == 200
    listed = sandbox.control().get("/__sandbox__/faults").json()
    assert [(f["id"], f["hits"]) for f in listed] == [(fault["id"], 1)]
    assert sandbox.control().delete(f"/__sandbox__/faults/{fault['id']}").status_code == 204
    assert sandbox.control().get("/__sandbox__/faults").json() == []


def test_fault_requests_are_validated(sandbox: Sandbox) -> None:
    bad = sandbox.control().post("/__sandbox__/faults", json={"statsu": 500})
    assert bad.status_code == 400 and "unknown fault keys" in bad.json()["error"]


def test_clock_endpoint(sandbox: Sandbox) -> None:
    control = sandbox.control()
    state = control.post(
        "/__sandbox__/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True}
    ).json()
    assert state == {"now": "2030-01-01T00:00:00.000+0000", "frozen": True}
    state = control.post("/__sandbox__/clock", json={"advanceSeconds": 90}).json()
    assert state["now"] == "2030-01-01T00:01:30.000+0000"


def test_api_call_log_has_totals_per_user_and_client(sandbox: Sandbox) -> None:
    tagged = sandbox.client(**{"Sforce-Call-Options": "client=salesync"})
    tagged.get(f"{API}/limits")
    tagged.get(f"{API}/sobjects")
    report = sandbox.control().get("/__sandbox__/api-calls").json()
    assert report["total"] == 2 and report["perUser"] == {ADMIN_USERNAME: 2}
    assert report["perClient"] == {"salesync": 2}
    assert report["calls"][0]["path"] == "/limits"
    cleared = sandbox.control().delete("/__sandbox__/api-calls").json()
    assert cleared["total"] == 0 and cleared["last24h"] == 0


def test_expire_access_tokens(sandbox: Sandbox, admin: httpx.Client) -> None:
    expired = sandbox.control().post("/__sandbox__/tokens/expire", json={}).json()
    assert expired["expired"] >= 1
    assert_error(admin.get(f"{API}/limits"), 401, "INVALID_SESSION_ID")


def test_edits_made_in_salesforce_by_another_user(sandbox: Sandbox, admin: httpx.Client) -> None:
    control = sandbox.control()
    control.post("/__sandbox__/users", json={"username": "boss@example.test", "lastName": "Boss"})
    created = control.post(
        "/__sandbox__/records",
        json={"sobject": "Task", "asUser": "boss@example.test", "fields": {"Subject": "by hand"}},
    )
    task_id = created.json()["id"]
    control.patch(
        f"/__sandbox__/records/{task_id}",
        json={"asUser": "boss@example.test", "fields": {"Status": "Completed"}},
    )
    task = admin.get(f"{TASK}/{task_id}").json()
    boss_id = sandbox.org.user_id("boss@example.test")
    assert (task["OwnerId"], task["LastModifiedById"], task["IsClosed"]) == (boss_id, boss_id, True)
    history = control.get("/__sandbox__/changes", params={"recordId": task_id}).json()
    assert [c["changeOrigin"] for c in history] == ["", ""]
    refused = control.patch(f"/__sandbox__/records/{task_id}", json={"fields": {"IsClosed": False}})
    assert_error(refused, 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    raw = control.get(f"/__sandbox__/records/{task_id}").json()
    assert raw["attributes"] == {"type": "Task"} and raw["Subject"] == "by hand"


def test_lead_conversion_moves_tasks_to_the_contact(sandbox: Sandbox, admin: httpx.Client) -> None:
    lead_id = admin.post(
        f"{API}/sobjects/Lead", json={"LastName": "Lee", "Company": "Lee Co", "Email": "l@x.test"}
    ).json()["id"]
    task_id = admin.post(f"{TASK}/", json={"WhoId": lead_id}).json()["id"]
    result = (
        sandbox.control()
        .post(f"/__sandbox__/leads/{lead_id}/convert", json={"createOpportunity": True})
        .json()
    )
    lead = admin.get(f"{API}/sobjects/Lead/{lead_id}").json()
    assert lead["IsConverted"] is True and lead["ConvertedContactId"] == result["contactId"]
    assert lead["ConvertedOpportunityId"] == result["opportunityId"]
    task = admin.get(f"{TASK}/{task_id}").json()
    assert task["WhoId"] == result["contactId"] and task["AccountId"] == result["accountId"]
    refused = admin.post(f"{TASK}/", json={"WhoId": lead_id})
    assert_error(refused, 400, "CANNOT_UPDATE_CONVERTED_LEAD")


def test_custom_fields_and_validation_rules(sandbox: Sandbox, admin: httpx.Client) -> None:
    control = sandbox.control()
    added = control.post(
        "/__sandbox__/custom-fields", json={"name": "Score__c", "kind": "text", "length": 5}
    )
    assert added.status_code == 201
    control.post(
        "/__sandbox__/validation-rules",
        json={
            "field": "Subject",
            "pattern": "^forbidden",
            "message": "No!",
            "errorField": "Subject",
        },
    )
    entry = assert_error(
        admin.post(f"{TASK}/", json={"Subject": "forbidden thing"}),
        400,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    assert entry == {"message": "No!", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                     "fields": ["Subject"]}  # fmt: skip
    assert_error(admin.post(f"{TASK}/", json={"Score__c": "123456"}), 400, "STRING_TOO_LONG")


def test_reset_and_seed(sandbox: Sandbox, admin: httpx.Client) -> None:
    admin.post(f"{TASK}/", json={})
    control = sandbox.control()
    assert control.post("/__sandbox__/reset", json={}).json()["seed"] == "empty"
    summary = control.get("/__sandbox__").json()
    assert summary["recordCounts"]["Task"] == 0 and summary["seed"] == "empty"
    assert control.post("/__sandbox__/seed", json={"name": "demo"}).json()["seed"] == "demo"
    counts = control.get("/__sandbox__").json()["recordCounts"]
    assert (counts["Account"], counts["Contact"], counts["Lead"]) == (200, 1000, 500)
    assert control.post("/__sandbox__/seed", json={"name": "nope"}).status_code == 400


def test_demo_seed_users_and_fields(sandbox_factory: Any) -> None:
    demo: Sandbox = sandbox_factory("demo")
    org = demo.org
    assert org.records.count("Opportunity") == 100 and org.records.count("Task") >= 200
    assert org.records.count("OpportunityContactRole") > 100
    assert sum(1 for lead in org.records.rows("Lead") if lead["IsConverted"]) == 50
    task_fields = org.schema.objects["Task"].fields
    assert task_fields["Salesync_Activity_Id__c"].unique
    assert task_fields["MSE_Replied__c"].type == "boolean"
    type_values = [p.value for p in task_fields["Type"].picklist]
    assert {"Email", "Call", "Reply"} <= set(type_values)
    assert_error(demo.client("noapi@sandbox.salesync.test").get(f"{API}/limits"), 403,
                 "API_CURRENTLY_DISABLED")  # fmt: skip
    no_lead = demo.client("nolead@sandbox.salesync.test")
    assert_error(no_lead.get(f"{API}/query", params={"q": "SELECT Id FROM Lead"}), 400,
                 "INVALID_TYPE")  # fmt: skip
    readonly = demo.client("readonly@sandbox.salesync.test")
    assert_error(readonly.post(f"{TASK}/", json={"MSE_Clicked__c": True}), 400,
                 "INVALID_FIELD_FOR_INSERT_UPDATE")  # fmt: skip


def test_demo_seed_is_deterministic_and_has_variants() -> None:
    first, second = Org("demo"), Org("demo")
    emails = [c["Email"] for c in first.records.rows("Contact")]
    assert emails == [c["Email"] for c in second.records.rows("Contact")]
    assert len(set(emails)) < len(emails)  # some duplicate addresses, for matching rules
    no_reply = Org("demo-no-reply").schema.objects["Task"].fields["Type"]
    assert "Reply" not in [p.value for p in no_reply.picklist]
    with_default = Org("demo-type-default").schema.objects["Task"].fields["Type"]
    assert with_default.default_picklist_value == "Other"


def test_org_survives_a_restart_from_its_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path, seed="empty")
    task_id = org.create_record("Task", {"Subject": "kept", "ActivityDate": "2024-03-01"})
    tokens = org.issue_token(ADMIN_USERNAME)
    org.delete_record(org.create_record("Task", {"Subject": "deleted"}))
    assert org.store is not None
    org.store.close()
    reopened = Org.open(path)
    record = reopened.get_record(task_id)
    assert record is not None and record["Subject"] == "kept"
    assert str(record["ActivityDate"]) == "2024-03-01"
    assert reopened.authenticate(tokens.access_token) == reopened.admin_user_id
    assert len(reopened.deletes.entries) == 1
    assert [c.change_type for c in reopened.changes.entries] == ["CREATE", "CREATE", "DELETE"]
    assert reopened.create_record("Task", {}) != task_id


def _api_call(org: Org, token: str, method: str, path: str, body: Any = None) -> Any:
    handler = SandboxHandler(org)
    path, _, query = path.partition("?")
    response = handler.handle(
        ApiRequest(
            method,
            f"{API}{path}",
            query_string=query,
            headers={"authorization": f"Bearer {token}"},
            body=json.dumps(body).encode() if body is not None else b"",
        )
    )
    assert response.status < 300, response.body
    return response.body


def _setup_blob(path: Path) -> bytes | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'setup'").fetchone()
    return None if row is None else bytes(row[0])


def test_setup_changed_outside_the_data_api_survives_later_data_api_calls(
    tmp_path: Path,
) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path, seed="empty")
    token = org.issue_token(ADMIN_USERNAME).access_token
    _api_call(org, token, "POST", "/sobjects/Task", {"Subject": "first"})
    written = _setup_blob(path)
    _api_call(org, token, "POST", "/sobjects/Task", {"Subject": "second"})
    assert _setup_blob(path) == written  # a data API call leaves the setup blob alone
    # Changed under the lock but not saved: the next data API call's save writes it.
    org.set_task_types(["Email", "Meeting"], default="Meeting")
    _api_call(org, token, "GET", "/query?q=SELECT+Id+FROM+Task")
    assert _setup_blob(path) != written
    assert org.store is not None
    org.store.close()
    reopened = Org.open(path)
    type_field = reopened.schema.objects["Task"].fields["Type"]
    assert [p.value for p in type_field.picklist] == ["Email", "Meeting"]
    assert reopened.authenticate(token) == reopened.admin_user_id
    assert sorted(t["Subject"] for t in reopened.records.rows("Task")) == ["first", "second"]


def test_a_file_with_the_setup_in_its_state_blob_keeps_it_after_a_data_api_call(
    tmp_path: Path,
) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path, seed="empty")
    token = org.issue_token(ADMIN_USERNAME).access_token
    org.set_task_types(["Email", "Meeting"])
    org.save()
    assert org.store is not None
    org.store.close()
    with sqlite3.connect(path) as conn:  # the layout before the setup had a blob of its own
        rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        state = pickle.loads(rows["state"])
        state.update(pickle.loads(rows["setup"]))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'state'", (pickle.dumps(state),))
        conn.execute("DELETE FROM meta WHERE key = 'setup'")
    reopened = Org.open(path)
    _api_call(reopened, token, "POST", "/sobjects/Task", {"Subject": "kept"})
    assert reopened.store is not None
    reopened.store.close()
    again = Org.open(path)
    assert again.authenticate(token) == again.admin_user_id
    assert [p.value for p in again.schema.objects["Task"].fields["Type"].picklist] == [
        "Email",
        "Meeting",
    ]


def test_orgs_with_different_instances_share_no_ids() -> None:
    first, second = Org("empty"), Org("empty", instance="7h1")
    assert first.org_id != second.org_id
    assert first.admin_user_id != second.admin_user_id
    assert second.org_id[3:6] == "7h1"
    with pytest.raises(ValueError):
        Org("empty", instance="too-long")


def test_a_data_api_call_is_written_to_the_org_file_once(tmp_path: Path) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path, seed="empty")
    token = org.issue_token(ADMIN_USERNAME).access_token
    assert org.store is not None
    writes = org.store.writes
    records = [{"attributes": {"type": "Task"}, "Subject": f"t{n}"} for n in range(50)]
    answer = _api_call(
        org, token, "POST", "/composite/sobjects", {"allOrNone": False, "records": records}
    )
    created = [item["id"] for item in answer]
    # 50 creates, each its own unit of work in memory, and one SQLite transaction.
    assert org.store.writes == writes + 1
    assert len(org.changes.entries) == 50
    org.store.close()
    reopened = Org.open(path)
    assert sorted(t["Id"] for t in reopened.records.rows("Task")) == sorted(created)
    assert [c.change_type for c in reopened.changes.entries] == ["CREATE"] * 50
