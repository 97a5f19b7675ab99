"""The control plane under `/__sandbox__/`: a path no real org serves, for tests and demos."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from salesync.sandbox import (
    control_access,
    control_cdc,
    control_e2s,
    control_pubsub,
    control_query,
    control_records,
)
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiRequest, ApiResponse, Router, error_response, json_response
from salesync.sandbox.org import Org
from salesync.sandbox.timefmt import format_datetime, parse_datetime

PREFIX = "/__sandbox__"


@dataclass
class ControlCall:
    org: Org
    request: ApiRequest

    def body(self) -> Mapping[str, Any]:
        body = self.request.json()
        if body is None:
            return {}
        if not isinstance(body, Mapping):
            raise ControlError("the body must be a JSON object")
        return body


class ControlError(Exception):
    """A bad control-plane request (answered 400 with ``{"error": message}``)."""


def build_router() -> Router[ControlCall]:
    router: Router[ControlCall] = Router()
    router.add("GET", PREFIX, get_summary)
    router.add("POST", PREFIX + r"/(?:reset|seed)", post_reset)
    router.add("GET POST", PREFIX + r"/clock", clock)
    router.add("GET POST DELETE", PREFIX + r"/faults", faults)
    router.add("DELETE", PREFIX + r"/faults/(?P<fault_id>\d+)", delete_fault)
    router.add("GET PUT", PREFIX + r"/limits", limits)
    router.add("GET PUT", PREFIX + r"/org", org_flags)
    router.add("GET DELETE", PREFIX + r"/api-calls", api_calls)
    router.add("GET", PREFIX + r"/changes", changes)
    router.add("POST", PREFIX + r"/delete-log/purge", purge_delete_log)
    control_records.register(router, PREFIX)
    control_access.register(router, PREFIX)
    control_e2s.register(router, PREFIX)
    control_cdc.register(router, PREFIX)
    control_query.register(router, PREFIX)
    control_pubsub.register(router, PREFIX)
    return router


class ControlPlane:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.router = build_router()

    def handle(self, request: ApiRequest) -> ApiResponse:
        call = ControlCall(self.org, request)
        try:
            with self.org.batch():
                return self.router.dispatch(call, request.method, request.path.rstrip("/"))
        except ApiError as exc:
            return error_response(exc)
        except (ControlError, KeyError, ValueError, TypeError) as exc:
            return json_response(400, {"error": str(exc)})


def clock_state(org: Org) -> dict[str, Any]:
    return {"now": format_datetime(org.clock.now()), "frozen": org.clock.frozen}


def get_summary(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    org = call.org
    counts = {name: org.records.count(name) for name in org.schema.objects}
    users = [
        {"id": u["Id"], "username": u["Username"], "email": u["Email"], "active": u["IsActive"]}
        for u in org.records.rows("User")
    ]
    return json_response(
        200,
        {
            "orgId": org.org_id,
            "seed": org.seed_name,
            "clock": clock_state(org),
            "recordCounts": counts,
            "users": users,
            "connectedApps": sorted(org.tokens.apps),
        },
    )


def post_reset(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    seed = body.get("seed") or body.get("name")
    call.org.reset(str(seed) if seed else None)
    return json_response(200, {"seed": call.org.seed_name, "orgId": call.org.org_id})


def _datetime(value: Any, name: str) -> Any:
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ControlError(f"{name} must be an ISO-8601 datetime")
    return parsed


def clock(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    if call.request.method == "POST":
        body = call.body()
        if "now" in body:
            call.org.clock.set(_datetime(body["now"], "now"))
        if "advanceSeconds" in body:
            call.org.clock.advance(timedelta(seconds=float(body["advanceSeconds"])))
        if body.get("frozen") is True:
            call.org.clock.freeze()
        elif body.get("frozen") is False:
            call.org.clock.unfreeze()
    return json_response(200, clock_state(call.org))


_FAULT_KEYS = {
    "method": "method",
    "path": "path",
    "status": "status",
    "errorCode": "error_code",
    "message": "message",
    "latencyMs": "latency_ms",
    "dropAfterCommit": "drop_after_commit",
    "times": "times",
    "skip": "skip",
}


def faults(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    book = call.org.faults
    if call.request.method == "DELETE":
        book.clear()
    elif call.request.method == "POST":
        body = call.body()
        unknown = set(body) - set(_FAULT_KEYS)
        if unknown:
            raise ControlError(f"unknown fault keys: {sorted(unknown)}")
        fault = book.add(**{_FAULT_KEYS[k]: v for k, v in body.items()})
        return json_response(201, fault.to_json())
    return json_response(200, [f.to_json() for f in book.faults])


def delete_fault(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    if not call.org.faults.remove(int(params["fault_id"])):
        raise ControlError(f"no fault {params['fault_id']}")
    return ApiResponse(204)


def limits(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    org = call.org
    if call.request.method == "PUT":
        body = call.body()
        if "dailyApiRequests" in body:
            org.usage.daily_cap = int(body["dailyApiRequests"])
        if "replicationIdLimit" in body:
            org.settings.replication_id_limit = int(body["replicationIdLimit"])
        if "sessionSeconds" in body:
            org.settings.session_seconds = int(body["sessionSeconds"])
        if "queryLocatorMinutes" in body:
            org.cursors.ttl = timedelta(minutes=float(body["queryLocatorMinutes"]))
    return json_response(
        200,
        {
            "dailyApiRequests": org.usage.daily_cap,
            "replicationIdLimit": org.settings.replication_id_limit,
            "sessionSeconds": org.settings.session_seconds,
            "queryLocatorMinutes": org.cursors.ttl.total_seconds() / 60,
        },
    )


def org_flags(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    settings = call.org.settings
    if call.request.method == "PUT":
        body = call.body()
        settings.api_enabled = bool(body.get("apiEnabled", settings.api_enabled))
        settings.active = bool(body.get("active", settings.active))
        answer = str(body.get("wrongIdAnswer", settings.wrong_id_answer))
        if answer not in ("NOT_FOUND", "MALFORMED_ID"):
            raise ValueError("wrongIdAnswer is NOT_FOUND or MALFORMED_ID")
        settings.wrong_id_answer = answer
    return json_response(
        200,
        {
            "apiEnabled": settings.api_enabled,
            "active": settings.active,
            "wrongIdAnswer": settings.wrong_id_answer,
        },
    )


def api_calls(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    if call.request.method == "DELETE":
        call.org.usage.reset()
    return json_response(200, call.org.usage.report(call.org.clock.now()))


def changes(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    query = call.request.query
    selected = call.org.changes.select(query.get("recordId"), int(query.get("sinceSeq", "0")))
    return json_response(200, [c.to_json() for c in selected])


def purge_delete_log(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    before = _datetime(body["before"], "before") if body.get("before") else None
    purged = call.org.purge_delete_log(before)
    earliest = format_datetime(call.org.earliest_date_available())
    return json_response(200, {"purged": purged, "earliestDateAvailable": earliest})
