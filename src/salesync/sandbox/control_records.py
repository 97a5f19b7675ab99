"""Control-plane routes for data and schema: direct edits, automation bumps, picklists, fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesync.sandbox.dml import ValidationRule
from salesync.sandbox.http import ApiResponse, Router, json_response
from salesync.sandbox.objects import CustomFieldSpec
from salesync.sandbox.timefmt import format_datetime
from salesync.sandbox.values import to_wire

if TYPE_CHECKING:
    from salesync.sandbox.control import ControlCall


def register(router: Router[ControlCall], prefix: str) -> None:
    router.add("POST", prefix + r"/records", create_record)
    router.add("GET PATCH DELETE", prefix + r"/records/(?P<id>\w+)", record)
    router.add("POST", prefix + r"/records/(?P<id>\w+)/bump", bump)
    router.add("POST", prefix + r"/leads/(?P<id>\w+)/convert", convert)
    router.add("POST", prefix + r"/custom-fields", add_custom_field)
    router.add("PUT", prefix + r"/picklists/Task/Type", put_task_types)
    router.add("PUT", prefix + r"/(?P<table>task-statuses|task-priorities)", put_picklist_table)
    router.add("GET POST DELETE", prefix + r"/validation-rules", validation_rules)


def _writer_options(body: Any) -> dict[str, Any]:
    """``asUser`` (username), ``client`` and ``system`` (set read-only fields too)."""
    return {
        "as_user": body.get("asUser"),
        "client": str(body.get("client", "")),
        "mode": "system" if body.get("system") else "ui",
    }


def create_record(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    record_id = call.org.create_record(
        str(body["sobject"]), body.get("fields", {}), **_writer_options(body)
    )
    return json_response(201, {"id": record_id})


def raw_record(call: ControlCall, record_id: str) -> dict[str, Any]:
    """Every stored field of a record, hidden ones and deleted rows included."""
    stored = call.org.get_record(record_id)
    if stored is None:
        raise KeyError(f"no record {record_id}")
    sobject = call.org.records.sobject_of(stored["Id"]) or ""
    obj = call.org.schema.objects[sobject]
    values = {
        name: to_wire(obj.fields[name], value) if name in obj.fields else value
        for name, value in stored.items()
    }
    return {"attributes": {"type": sobject}, **values}


def record(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    record_id = params["id"]
    method = call.request.method
    if method == "PATCH":
        body = call.body()
        call.org.update_record(record_id, body.get("fields", {}), **_writer_options(body))
    elif method == "DELETE":
        call.org.delete_record(record_id, **_writer_options(call.request.query))
        return ApiResponse(204)
    return json_response(200, raw_record(call, record_id))


def bump(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    stamp = call.org.bump_system_modstamp(params["id"])
    return json_response(200, {"id": params["id"], "SystemModstamp": format_datetime(stamp)})


def convert(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    body = call.body()
    result = call.org.convert_lead(
        params["id"], create_opportunity=bool(body.get("createOpportunity"))
    )
    return json_response(200, result)


def add_custom_field(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    spec = CustomFieldSpec(
        sobject=str(body.get("sobject", "Task")),
        name=str(body["name"]),
        kind=str(body.get("kind", "text")),
        length=int(body.get("length", 255)),
        external_id=bool(body.get("externalId", False)),
        unique=bool(body.get("unique", False)),
        label=str(body.get("label", "")),
    )
    if spec.sobject not in call.org.schema.objects:
        raise KeyError(f"no sObject {spec.sobject}")
    call.org.add_custom_field(spec)
    return json_response(201, {"sobject": spec.sobject, "name": spec.name})


def put_task_types(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    values = [str(v) for v in body["values"]]
    default = body.get("default")
    call.org.set_task_types(values, str(default) if default else None)
    return json_response(200, {"values": values, "default": default})


def put_picklist_table(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    rows = call.request.json()
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "ApiName" in r for r in rows):
        raise ValueError("the body must be a list of objects with ApiName")
    table = "TaskStatus" if params["table"] == "task-statuses" else "TaskPriority"
    allowed = {
        "ApiName",
        "MasterLabel",
        "IsDefault",
        "IsClosed" if table == "TaskStatus" else "IsHighPriority",
    }
    for row in rows:
        if set(row) - allowed:
            raise ValueError(f"unknown keys {sorted(set(row) - allowed)} for {table}")
    call.org.set_picklist_table(table, rows)
    return json_response(200, [raw_record(call, r["Id"]) for r in call.org.picklist_rows(table)])


def validation_rules(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    org = call.org
    if call.request.method == "DELETE":
        org.validation_rules.clear()
    elif call.request.method == "POST":
        body = call.body()
        rule = ValidationRule(
            id=len(org.validation_rules) + 1,
            sobject=str(body.get("sobject", "Task")),
            field=str(body["field"]),
            pattern=str(body["pattern"]),
            message=str(body.get("message", "Validation rule failed")),
            error_field=body.get("errorField"),
        )
        org.validation_rules.append(rule)
        return json_response(201, vars(rule))
    return json_response(200, [vars(r) for r in org.validation_rules])
