"""sObject resources: describe, CRUD by id and by external id (API-FACTS §2.2, §2.6)."""

from __future__ import annotations

from typing import Any

from salesync.sandbox import describe, errors
from salesync.sandbox.call import Call
from salesync.sandbox.dml import MultipleMatches
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiResponse, Router, json_response, no_content
from salesync.sandbox.records import Record
from salesync.sandbox.schema import FieldDef, SObjectDef

#: Upsert-update answers 200 with created:false from v46.0; 204 before (API-FACTS §2.6).
UPSERT_200_SINCE = 46.0


def register(router: Router[Call]) -> None:
    router.add("GET", r"/sobjects", get_global)
    router.add("GET", r"/sobjects/(?P<sobject>\w+)/describe", get_describe)
    router.add("GET", r"/sobjects/(?P<sobject>\w+)", get_basic_info)
    router.add("POST", r"/sobjects/(?P<sobject>\w+)", post_create)
    router.add("POST", r"/sobjects/(?P<sobject>\w+)/(?P<field>Id)", post_create)
    router.add("GET", r"/sobjects/(?P<sobject>\w+)/(?P<id>[^/]+)", get_record)
    router.add("PATCH", r"/sobjects/(?P<sobject>\w+)/(?P<id>[^/]+)", patch_record)
    router.add("DELETE", r"/sobjects/(?P<sobject>\w+)/(?P<id>[^/]+)", delete_record)
    by_external_id = r"/sobjects/(?P<sobject>\w+)/(?P<field>\w+)/(?P<value>[^/]+)"
    router.add("GET", by_external_id, get_by_external_id)
    router.add("PATCH", by_external_id, upsert)
    router.add("DELETE", by_external_id, delete_by_external_id)


def get_global(call: Call, params: dict[str, str]) -> ApiResponse:
    return json_response(200, describe.describe_global(call))


def get_describe(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.readable(call.sobject(params["sobject"]).name)
    return json_response(200, describe.describe_sobject(call, obj))


def get_basic_info(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.readable(call.sobject(params["sobject"]).name)
    return json_response(
        200, {"objectDescribe": describe.object_summary(call, obj), "recentItems": []}
    )


def post_create(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.sobject(params["sobject"])
    record_id = call.dml().create(obj, call.request.json())
    body: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
    if params.get("field"):
        # POST /sobjects/T/Id creates, treating Id as a null external id (API-FACTS §2.6).
        body["created"] = True
    return json_response(201, body, {"Location": call.record_url(obj.name, record_id)})


def get_record(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.readable(call.sobject(params["sobject"]).name)
    record = _load(call, obj, params["id"])
    return json_response(200, call.to_wire(obj, record, _selected_fields(call, obj)))


def patch_record(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.sobject(params["sobject"])
    _check_id_shape(params["id"])
    call.dml().update(obj, params["id"], call.request.json())
    return no_content()


def delete_record(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.sobject(params["sobject"])
    _check_id_shape(params["id"])
    call.dml().delete(obj, params["id"])
    return no_content()


def get_by_external_id(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.readable(call.sobject(params["sobject"]).name)
    ids = _external_matches(call, obj, params["field"], params["value"])
    if len(ids) > 1:
        return _multiple_choices(call, obj, ids)
    record = call.org.records.get(ids[0])
    assert record is not None
    return json_response(200, call.to_wire(obj, record, _selected_fields(call, obj)))


def upsert(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.sobject(params["sobject"])
    dml = call.dml()
    if call.request.query.get("updateOnly", "").lower() == "true":
        _external_matches(call, obj, params["field"], params["value"])
    try:
        record_id, created = dml.upsert(obj, params["field"], params["value"], call.request.json())
    except MultipleMatches as several:
        return _multiple_choices(call, obj, several.ids)
    body = {"id": record_id, "success": True, "errors": [], "created": created}
    if created:
        return json_response(201, body, {"Location": call.record_url(obj.name, record_id)})
    if float(call.version) >= UPSERT_200_SINCE:
        return json_response(200, body)
    return no_content()


def delete_by_external_id(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.sobject(params["sobject"])
    ids = _external_matches(call, obj, params["field"], params["value"])
    if len(ids) > 1:
        return _multiple_choices(call, obj, ids)
    call.dml().delete(obj, ids[0])
    return no_content()


# helpers


def _external_matches(call: Call, obj: SObjectDef, field_name: str, value: str) -> list[str]:
    """Live records matching an external id; 404 NOT_FOUND when none (or no such field)."""
    definition = obj.field(field_name)
    if (
        definition is None
        or not (definition.external_id or definition.name == "Id")
        or not call.access.field_visible(obj.name, definition)
    ):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {field_name}",
        )
    ids = call.dml().find_by_external_id(obj, definition, value)
    if not ids:
        raise errors.not_found()
    return ids


def _multiple_choices(call: Call, obj: SObjectDef, ids: list[str]) -> ApiResponse:
    # API-FACTS §2.6: several matches -> 300 with the list of matching records.
    return json_response(300, [call.record_url(obj.name, record_id) for record_id in ids])


def _check_id_shape(raw_id: str) -> None:
    """A segment that can't be an id names no resource (Salesforce reads it as a field)."""
    if len(raw_id) not in (15, 18):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {raw_id}",
        )


def _load(call: Call, obj: SObjectDef, raw_id: str) -> Record:
    _check_id_shape(raw_id)
    return call.dml().load(obj, raw_id)


def _selected_fields(call: Call, obj: SObjectDef) -> list[FieldDef]:
    """``?fields=`` narrows GET; a hidden or unknown name is a 400 (API-FACTS §2.2)."""
    visible = call.visible_fields(obj)
    raw = call.request.query.get("fields")
    if not raw:
        return visible
    by_name = {f.name.lower(): f for f in visible}
    chosen: list[FieldDef] = []
    for name in (n.strip() for n in raw.split(",") if n.strip()):
        definition = by_name.get(name.lower())
        if definition is None:
            raise errors.no_such_column_on_entity(name, obj.name)
        chosen.append(definition)
    if all(f.name != "Id" for f in chosen):
        chosen.append(by_name["id"])
    return chosen
