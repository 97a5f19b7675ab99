"""getUpdated and getDeleted: `/sobjects/T/updated` and `/sobjects/T/deleted` (API-FACTS §2.8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from salesync.sandbox.call import Call
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiResponse, Router, json_response
from salesync.sandbox.timefmt import format_datetime, parse_datetime, truncate_seconds

#: getUpdated covers the 30 days before now (API-FACTS §2.8).
REPLICATION_DAYS = 30


def register(router: Router[Call]) -> None:
    router.add("GET", r"/sobjects/(?P<sobject>\w+)/updated", get_updated)
    router.add("GET", r"/sobjects/(?P<sobject>\w+)/deleted", get_deleted)


@dataclass(frozen=True)
class Window:
    start: datetime
    #: The end actually covered: the requested end, but never past now (both minute-truncated).
    covered_end: datetime


def _replication_error(message: str) -> ApiError:
    return ApiError(400, "INVALID_REPLICATION_DATE", message)


def _parse_param(call: Call, name: str) -> datetime:
    raw = call.request.query.get(name)
    if raw is None:
        raise ApiError(400, "MISSING_ARGUMENT", f"{name} must be specified")
    # API-FACTS §2.8: ISO-8601 in UTC; a value without an offset is refused.
    parsed = parse_datetime(raw, assume_utc=False)
    if parsed is None:
        raise _replication_error(f"{name}: invalid date format, expected ISO-8601 with an offset")
    return parsed


def window(call: Call) -> Window:
    """The validated window; seconds are truncated (API-FACTS §2.8)."""
    start = truncate_seconds(_parse_param(call, "start"))
    end = truncate_seconds(_parse_param(call, "end"))
    now = call.org.clock.now()
    if start < truncate_seconds(now - timedelta(days=REPLICATION_DAYS)):
        raise _replication_error(f"startDate cannot be more than {REPLICATION_DAYS} days ago")
    if end - start < timedelta(minutes=1):
        raise _replication_error("EndDate must be at least one minute greater than startDate")
    # A window reaching past now covers only up to now; the client continues from there.
    return Window(start, max(start, min(end, truncate_seconds(now))))


def _check_id_limit(call: Call, count: int) -> None:
    limit = call.org.settings.replication_id_limit
    if count > limit:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {limit} records into this call",
        )


def get_updated(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.readable(call.sobject(params["sobject"]).name)
    span = window(call)
    # Driven by SystemModstamp, so automation's changes show up too (API-FACTS §2.8).
    rows = [
        r
        for r in call.org.records.rows(obj.name)
        if not r["IsDeleted"] and span.start <= r["SystemModstamp"] < span.covered_end
    ]
    rows.sort(key=lambda r: (r["SystemModstamp"], r["Id"]))
    _check_id_limit(call, len(rows))
    return json_response(
        200,
        {"ids": [r["Id"] for r in rows], "latestDateCovered": format_datetime(span.covered_end)},
    )


def get_deleted(call: Call, params: dict[str, str]) -> ApiResponse:
    obj = call.readable(call.sobject(params["sobject"]).name)
    span = window(call)
    deletions = call.org.deletes.select(obj.name, span.start, span.covered_end)
    _check_id_limit(call, len(deletions))
    earliest = truncate_seconds(call.org.earliest_date_available())
    return json_response(
        200,
        {
            "deletedRecords": [
                {"id": d.record_id, "deletedDate": format_datetime(d.deleted_at)} for d in deletions
            ],
            "earliestDateAvailable": format_datetime(earliest),
            "latestDateCovered": format_datetime(span.covered_end),
        },
    )
