"""sObject CRUD, method override and upsert by external id (API-FACTS §2.2, §2.6, item 6)."""

from __future__ import annotations

import httpx
import pytest

from salesync.sandbox.objects import CustomFieldSpec
from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error

TASK = f"{API}/sobjects/Task"


def create_task(client: httpx.Client, **fields: object) -> str:
    response = client.post(f"{TASK}/", json={"Subject": "Call back", **fields})
    assert response.status_code == 201, response.text
    record_id: str = response.json()["id"]
    return record_id


def test_create_returns_201_with_id_success_and_no_errors(admin: httpx.Client) -> None:
    response = admin.post(f"{TASK}/", json={"Subject": "Hello"})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert len(body["id"]) == 18 and body["id"].startswith("00T")


def test_get_returns_attributes_and_all_visible_fields(admin: httpx.Client) -> None:
    task_id = create_task(admin)
    body = admin.get(f"{TASK}/{task_id}").json()
    assert body["attributes"] == {"type": "Task", "url": f"{TASK}/{task_id}"}
    assert body["Id"] == task_id and body["Subject"] == "Call back"
    assert body["Status"] == "Not Started" and body["IsDeleted"] is False
    assert body["CreatedDate"].endswith(".000+0000") and len(body["CreatedDate"]) == 28


def test_get_with_fields_narrows_and_rejects_unknown_names(admin: httpx.Client) -> None:
    task_id = create_task(admin)
    narrowed = admin.get(f"{TASK}/{task_id}", params={"fields": "Subject,Status"}).json()
    assert set(narrowed) == {"attributes", "Subject", "Status", "Id"}
    bad = admin.get(f"{TASK}/{task_id}", params={"fields": "Subject,Nope__c"})
    assert_error(bad, 400, "INVALID_FIELD")


def test_fifteen_character_ids_are_accepted(admin: httpx.Client) -> None:
    task_id = create_task(admin)
    assert admin.get(f"{TASK}/{task_id[:15]}").json()["Id"] == task_id


def test_patch_updates_only_given_fields_and_null_clears(admin: httpx.Client) -> None:
    task_id = create_task(admin, Description="notes", CallDisposition="left voicemail")
    response = admin.patch(f"{TASK}/{task_id}", json={"Description": None, "Subject": "New"})
    assert response.status_code == 204 and response.content == b""
    body = admin.get(f"{TASK}/{task_id}").json()
    assert (body["Subject"], body["Description"], body["CallDisposition"]) == (
        "New",
        None,
        "left voicemail",
    )


def test_http_method_override(admin: httpx.Client) -> None:
    task_id = create_task(admin)
    response = admin.post(
        f"{TASK}/{task_id}", params={"_HttpMethod": "PATCH"}, json={"Subject": "Override"}
    )
    assert response.status_code == 204
    assert admin.get(f"{TASK}/{task_id}").json()["Subject"] == "Override"


def test_delete_then_read_and_delete_again_say_entity_is_deleted(admin: httpx.Client) -> None:
    task_id = create_task(admin)
    assert admin.delete(f"{TASK}/{task_id}").status_code == 204
    entry = assert_error(admin.get(f"{TASK}/{task_id}"), 404, "ENTITY_IS_DELETED")
    assert entry == {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}
    assert_error(admin.delete(f"{TASK}/{task_id}"), 404, "ENTITY_IS_DELETED")
    assert_error(admin.patch(f"{TASK}/{task_id}", json={"Subject": "x"}), 404, "ENTITY_IS_DELETED")


def test_unknown_and_malformed_ids(admin: httpx.Client) -> None:
    missing = "00T5g0000009999"
    for well_formed in (missing, "00T5g0000009999EAA", "00T000000000000EAA"):
        entry = assert_error(admin.get(f"{TASK}/{well_formed}"), 404, "NOT_FOUND")
        assert entry["message"] == "The requested resource does not exist"
    assert_error(admin.patch(f"{TASK}/{missing}", json={"Subject": "x"}), 404, "NOT_FOUND")
    assert_error(admin.delete(f"{TASK}/{missing}"), 404, "NOT_FOUND")
    # Id-shaped but not a Task id: a suffix that doesn't fit, another object's prefix.
    assert_error(admin.get(f"{TASK}/00T000000000000AAA"), 404, "NOT_FOUND")
    assert_error(admin.get(f"{TASK}/00T5g000000ZZZZZZZ"), 404, "NOT_FOUND")
    account_id = admin.post(f"{API}/sobjects/Account", json={"Name": "Acme"}).json()["id"]
    assert_error(admin.get(f"{TASK}/{account_id}"), 404, "NOT_FOUND")
    # Not letters and digits at all: malformed.
    assert_error(admin.get(f"{TASK}/00TZZZZZZZZZZZZ!!!"), 400, "MALFORMED_ID")


def test_the_answer_to_a_wrong_id_is_configurable(sandbox: Sandbox, admin: httpx.Client) -> None:
    """API-FACTS §2.13 leaves wrong checksums and prefixes open: both answers can be had."""
    sandbox.control().put("/__sandbox__/org", json={"wrongIdAnswer": "MALFORMED_ID"})
    assert_error(admin.get(f"{TASK}/00T000000000000AAA"), 400, "MALFORMED_ID")
    assert_error(admin.get(f"{TASK}/00T5g0000009999"), 404, "NOT_FOUND")  # still just missing


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"Id": "00T5g0000000001EAA"}, "INVALID_FIELD",
         "The Id field should not be specified in the sobject data."),
        ({"Nope__c": 1}, "INVALID_FIELD", "No such column 'Nope__c' on sobject of type Task"),
        ({"IsClosed": True, "AccountId": None}, "INVALID_FIELD_FOR_INSERT_UPDATE",
         "Unable to create/update fields: IsClosed, AccountId. Please check the security settings "
         "of this field and verify that it is read/write for your profile or permission set."),
    ],
)  # fmt: skip
def test_create_body_errors(
    admin: httpx.Client, body: dict[str, object], code: str, message: str
) -> None:
    entry = assert_error(admin.post(f"{TASK}/", json=body), 400, code)
    assert entry["message"] == message


def test_malformed_json_is_a_parser_error(admin: httpx.Client) -> None:
    response = admin.post(
        f"{TASK}/", content=b'{"Subject": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "JSON_PARSER_ERROR")


def test_required_fields_of_other_objects(admin: httpx.Client) -> None:
    entry = assert_error(admin.post(f"{API}/sobjects/Lead", json={}), 400, "REQUIRED_FIELD_MISSING")
    assert entry["message"] == "Required fields are missing: [LastName, Company]"
    assert entry["fields"] == ["LastName", "Company"]
    contact = admin.post(f"{API}/sobjects/Contact", json={"LastName": "Lovelace"})
    assert contact.status_code == 201
    contact_id = contact.json()["id"]
    assert admin.get(f"{API}/sobjects/contact/{contact_id}").json()["Name"] == "Lovelace"


def test_users_are_not_writable_through_the_api(admin: httpx.Client) -> None:
    response = admin.post(f"{API}/sobjects/User", json={"Username": "x@y.z"})
    assert_error(response, 400, "INVALID_TYPE_FOR_OPERATION")


@pytest.fixture
def activity_id_field(sandbox: Sandbox) -> str:
    spec = CustomFieldSpec("Task", "Ext_Id__c", "text", 80, external_id=True, unique=True)
    sandbox.org.add_custom_field(spec)
    return spec.name


def test_upsert_creates_then_updates(admin: httpx.Client, activity_id_field: str) -> None:
    url = f"{TASK}/{activity_id_field}/act-1"
    created = admin.patch(url, json={"Subject": "First"})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    updated = admin.patch(url.replace("act-1", "ACT-1"), json={"Subject": "Second"})
    assert updated.status_code == 200
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    assert admin.get(url).json()["Subject"] == "Second"


def test_upsert_before_v46_answers_204_on_update(
    admin: httpx.Client, activity_id_field: str
) -> None:
    url = f"/services/data/v45.0/sobjects/Task/{activity_id_field}/act-2"
    assert admin.patch(url, json={"Subject": "First"}).status_code == 201
    assert admin.patch(url, json={"Subject": "Again"}).status_code == 204


def test_upsert_with_several_matches_is_300(sandbox: Sandbox, admin: httpx.Client) -> None:
    sandbox.org.add_custom_field(CustomFieldSpec("Task", "Legacy_Id__c", "text", external_id=True))
    first = create_task(admin, Legacy_Id__c="dup")
    second = create_task(admin, Legacy_Id__c="dup")
    response = admin.patch(f"{TASK}/Legacy_Id__c/dup", json={"Subject": "x"})
    assert response.status_code == 300
    assert sorted(response.json()) == sorted([f"{TASK}/{first}", f"{TASK}/{second}"])
    assert admin.get(f"{TASK}/Legacy_Id__c/dup").status_code == 300


def test_upsert_update_only_and_unknown_external_field(
    admin: httpx.Client, activity_id_field: str
) -> None:
    missing = admin.patch(
        f"{TASK}/{activity_id_field}/none", params={"updateOnly": "true"}, json={"Subject": "x"}
    )
    assert_error(missing, 404, "NOT_FOUND")
    assert_error(admin.patch(f"{TASK}/Subject/x", json={}), 404, "NOT_FOUND")


def test_unique_external_id_refuses_duplicates(admin: httpx.Client, activity_id_field: str) -> None:
    first = create_task(admin, **{activity_id_field: "same"})
    entry = assert_error(
        admin.post(f"{TASK}/", json={activity_id_field: "SAME"}), 400, "DUPLICATE_VALUE"
    )
    assert entry["message"].endswith(first)


def test_post_with_id_as_external_id_creates(admin: httpx.Client) -> None:
    response = admin.post(f"{TASK}/Id", json={"Subject": "via Id"})
    assert response.status_code == 201
    assert response.json()["created"] is True


def test_an_encoded_slash_in_an_external_id_value_survives(
    admin: httpx.Client, activity_id_field: str
) -> None:
    created = admin.patch(f"{TASK}/{activity_id_field}/a%2Fb", json={"Subject": "slash"})
    assert created.status_code == 201
    record = admin.get(f"{TASK}/{created.json()['id']}").json()
    assert record[activity_id_field] == "a/b"
