"""sObject Collections: `/composite/sobjects` create, update, delete, get, upsert (§2.4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from salesync.sandbox import errors
from salesync.sandbox.call import Call
from salesync.sandbox.dml import MultipleMatches
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiResponse, Router, json_response
from salesync.sandbox.ids import normalize_id
from salesync.sandbox.schema import SObjectDef

#: API-FACTS §2.4: at most 200 records and 10 type chunks per call; 2,000 ids per GET.
MAX_RECORDS, MAX_CHUNKS, MAX_RETRIEVE_IDS = 200, 10, 2000
ROLLED_BACK = ApiError(
    400,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
    [],
)

ItemResult = dict[str, Any]


def register(router: Router[Call]) -> None:
    router.add("POST", r"/composite/sobjects", create_many)
    router.add("PATCH", r"/composite/sobjects", update_many)
    router.add("DELETE", r"/composite/sobjects", delete_many)
    router.add("GET POST", r"/composite/sobjects/(?P<sobject>\w+)", retrieve_many)
    router.add("PATCH", r"/composite/sobjects/(?P<sobject>\w+)/(?P<field>\w+)", upsert_many)


def _too_many(limit: int) -> ApiError:
    return ApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {limit} records into this call",
    )


def _payload(call: Call) -> tuple[list[Any], bool]:
    """The records and allOrNone flag of a collection body; a malformed body is a 400."""
    body = call.request.json()
    if not isinstance(body, Mapping) or not isinstance(body.get("records"), list):
        raise errors.json_parser_error("The request body must be an object with a records array")
    records = body["records"]
    if len(records) > MAX_RECORDS:
        raise _too_many(MAX_RECORDS)
    types = [_declared_type(r) for r in records]
    chunks = sum(1 for i, t in enumerate(types) if i == 0 or t != types[i - 1])
    if chunks > MAX_CHUNKS:
        raise ApiError(
            400,
            "INVALID_BATCH_REQUEST",
            f"Cannot have more than {MAX_CHUNKS} chunks in a single operation. Please rearrange "
            "the data to reduce chunking.",
        )
    return records, bool(body.get("allOrNone", False))


def _declared_type(record: Any) -> str | None:
    attributes = record.get("attributes") if isinstance(record, Mapping) else None
    value = attributes.get("type") if isinstance(attributes, Mapping) else None
    return value if isinstance(value, str) else None


def _object_of(call: Call, record: Any) -> SObjectDef:
    declared = _declared_type(record)
    if declared is None:
        raise ApiError(400, "INVALID_TYPE", "Must specify the sObject type in attributes.type", [])
    obj = call.org.sobject(declared)
    if obj is None:
        raise errors.invalid_type(declared)
    return obj


def run_items(
    call: Call, items: list[Any], all_or_none: bool, operation: Callable[[Any], ItemResult]
) -> list[ItemResult]:
    """Apply ``operation`` to each item in order, isolating failures (API-FACTS §2.4)."""
    journal = call.org.journal
    start = journal.savepoint()
    results: list[ItemResult] = []
    for item in items:
        savepoint = journal.savepoint()
        try:
            results.append({**operation(item), "success": True, "errors": []})
        except ApiError as exc:
            journal.rollback_to(savepoint)
            results.append({"success": False, "errors": [exc.item()]})
    if all_or_none and not all(r["success"] for r in results):
        journal.rollback_to(start)
        return [
            r if not r["success"] else {"success": False, "errors": [ROLLED_BACK.item()]}
            for r in results
        ]
    return results


def create_many(call: Call, params: dict[str, str]) -> ApiResponse:
    records, all_or_none = _payload(call)

    def create(record: Any) -> ItemResult:
        obj = _object_of(call, record)
        if any(key.lower() == "id" for key in record):
            raise ApiError(400, "INVALID_FIELD", "Cannot specify Id in an insert call", [])
        return {"id": call.dml().create(obj, record)}

    return json_response(200, run_items(call, records, all_or_none, create))


def update_many(call: Call, params: dict[str, str]) -> ApiResponse:
    records, all_or_none = _payload(call)

    def update(record: Any) -> ItemResult:
        obj = _object_of(call, record)
        record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
        if not isinstance(record_id, str) or not record_id:
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
        call.dml().update(obj, record_id, record)
        return {"id": normalize_id(record_id)}

    return json_response(200, run_items(call, records, all_or_none, update))


def delete_many(call: Call, params: dict[str, str]) -> ApiResponse:
    query = call.request.query
    ids = [i for i in query.get("ids", "").split(",") if i]
    if len(ids) > MAX_RECORDS:
        raise _too_many(MAX_RECORDS)
    all_or_none = query.get("allOrNone", "false").lower() == "true"

    def delete(raw_id: Any) -> ItemResult:
        normalized = normalize_id(raw_id)
        sobject = call.org.records.sobject_of(normalized) if normalized else None
        if normalized is None:
            raise errors.malformed_id("Record ID", raw_id)
        if sobject is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist", [])
        call.dml().delete(call.sobject(sobject), normalized)
        return {"id": normalized}

    return json_response(200, run_items(call, ids, all_or_none, delete))


def retrieve_many(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.readable(call.sobject(params["sobject"]).name)
    ids, names = _retrieve_arguments(call)
    visible = {f.name.lower(): f for f in call.visible_fields(obj)}
    fields = []
    for name in names:
        if name.lower() not in visible:
            raise errors.no_such_column_on_entity(name, obj.name)
        fields.append(visible[name.lower()])
    if all(f.name != "Id" for f in fields):
        fields.append(visible["id"])
    found: list[dict[str, Any] | None] = []
    for raw_id in ids:
        normalized = normalize_id(raw_id)
        record = call.org.records.get(normalized) if normalized else None
        if (
            record is None
            or record["IsDeleted"]
            or call.org.records.sobject_of(normalized or "") != obj.name
        ):
            found.append(None)
        else:
            found.append(call.to_wire(obj, record, fields))
    return json_response(200, found)


def _retrieve_arguments(call: Call) -> tuple[list[str], list[str]]:
    if call.request.method == "POST":
        body = call.request.json()
        ids = list(body.get("ids", [])) if isinstance(body, Mapping) else []
        names = list(body.get("fields", [])) if isinstance(body, Mapping) else []
    else:
        ids = [i for i in call.request.query.get("ids", "").split(",") if i]
        names = [f.strip() for f in call.request.query.get("fields", "").split(",") if f.strip()]
    if not names:
        raise ApiError(400, "MISSING_ARGUMENT", "fields must be specified")
    if len(ids) > MAX_RETRIEVE_IDS:
        raise _too_many(MAX_RETRIEVE_IDS)
    return ids, names


def upsert_many(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.sobject(params["sobject"])
    field_name = params["field"]
    records, all_or_none = _payload(call)
    values = [_external_value(r, field_name) for r in records]
    repeated = {v.lower() for v, n in Counter(v.lower() for v in values if v).items() if n > 1}

    def upsert(indexed: tuple[int, Any]) -> ItemResult:
        position, record = indexed
        if _object_of(call, record).name != obj.name:
            raise ApiError(400, "INVALID_TYPE", f"Every record must be of type {obj.name}", [])
        value = values[position]
        if not value:
            raise ApiError(400, "MISSING_ARGUMENT", f"{field_name} not specified", [field_name])
        if value.lower() in repeated:
            raise ApiError(
                400, "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", []
            )
        try:
            record_id, created = call.dml().upsert(obj, field_name, value, record)
        except MultipleMatches as several:
            raise ApiError(
                400,
                "DUPLICATE_EXTERNAL_ID",
                f"{field_name}: more than one record found for external id field: {several.ids}",
                [],
            ) from several
        return {"id": record_id, "created": created}

    results = run_items(call, list(enumerate(records)), all_or_none, upsert)
    return json_response(200, results)


def _external_value(record: Any, field_name: str) -> str:
    if not isinstance(record, Mapping):
        return ""
    value = next((v for k, v in record.items() if k.lower() == field_name.lower()), None)
    return "" if value is None else str(value)
