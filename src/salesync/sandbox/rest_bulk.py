"""Bulk API 2.0 query job resources under ``/jobs/query`` (API-FACTS §9)."""

from __future__ import annotations

import re
from typing import Any

from salesync.sandbox import soql
from salesync.sandbox.bulk_query import (
    DEFAULT_MAX_RECORDS,
    DELIMITERS,
    LINE_ENDINGS,
    OPERATIONS,
    BulkQueryJob,
    decode_locator,
    flatten,
)
from salesync.sandbox.call import Call
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiResponse, Router, json_response, no_content
from salesync.sandbox.query_source import OrgQuerySource
from salesync.sandbox.soql_syntax import Count, FieldPath, Subquery
from salesync.sandbox.timefmt import format_datetime

_JOB = r"/jobs/query/(?P<job_id>\w+)"
_TYPEOF = re.compile(r"\bTYPEOF\b|\bGROUP\s+BY\b|\bFIELDS\s*\(", re.IGNORECASE)


def register(router: Router[Call]) -> None:
    router.add("POST GET", r"/jobs/query", jobs)
    router.add("GET PATCH DELETE", _JOB, job)
    router.add("GET", _JOB + r"/results", results)


def _error(status: int, code: str, message: str) -> ApiError:
    return ApiError(status, code, message)


def jobs(call: Call, _: dict[str, str]) -> ApiResponse:
    book = call.org.bulk
    book.expire(call.org.clock.now())
    if call.request.method == "GET":
        records = [j.info(format_datetime) for j in book.jobs.values()]
        return json_response(200, {"done": True, "records": records, "nextRecordsUrl": None})
    return json_response(200, _create(call).info(format_datetime))


def _create(call: Call) -> BulkQueryJob:
    body = call.request.json()
    if not isinstance(body, dict):
        raise _error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object.")
    operation = body.get("operation")
    if operation not in OPERATIONS:
        raise _error(400, "INVALIDJOB", f"Invalid operation: {operation!r}; use query or queryAll")
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise _error(400, "INVALIDJOB", "A query is required.")
    if body.get("contentType", "CSV") != "CSV":
        raise _error(400, "INVALIDJOB", "contentType must be CSV")
    delimiter = body.get("columnDelimiter", "COMMA")
    if delimiter not in DELIMITERS:
        raise _error(400, "INVALIDJOB", f"Invalid columnDelimiter: {delimiter!r}")
    line_ending = body.get("lineEnding", "LF")
    if line_ending not in LINE_ENDINGS:
        raise _error(400, "INVALIDJOB", f"Invalid lineEnding: {line_ending!r}")
    query = _parse(text)
    obj = call.sobject(query.sobject)
    job = BulkQueryJob(
        id=call.org.ids.new_id("750"),
        operation=operation,
        object=obj.name,
        query=text,
        created_by=call.user_id,
        created_at=call.org.clock.now(),
        api_version=call.version,
        column_delimiter=delimiter,
        line_ending=line_ending,
    )
    call.org.bulk.add(job)
    return job


def _parse(text: str) -> Any:
    """Parse the SOQL and refuse what Bulk API 2.0 query does not support (API-FACTS §9.1)."""
    if _TYPEOF.search(text):
        raise _error(
            400,
            "API_ERROR",
            "TYPEOF, GROUP BY and FIELDS() are not supported by Bulk API 2.0 query",
        )
    try:
        query = soql.parse(text)
    except soql.SoqlError as exc:
        raise _error(400, exc.error_code, exc.message) from exc
    if query.offset is not None:
        raise _error(400, "API_ERROR", "OFFSET is not supported by Bulk API 2.0 query")
    for item in query.select:
        if isinstance(item, Count):
            raise _error(
                400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0 query"
            )
        if isinstance(item, Subquery):
            raise _error(
                400,
                "API_ERROR",
                "Parent-to-child subqueries are not supported by Bulk API 2.0 query",
            )
    return query


def _job(call: Call, job_id: str) -> BulkQueryJob:
    call.org.bulk.expire(call.org.clock.now())
    found = call.org.bulk.jobs.get(job_id)
    if found is None:
        raise _error(404, "NOT_FOUND", "The requested resource does not exist")
    return found


def job(call: Call, params: dict[str, str]) -> ApiResponse:
    found = _job(call, params["job_id"])
    if call.request.method == "DELETE":
        del call.org.bulk.jobs[found.id]
        return no_content()
    if call.request.method == "PATCH":
        body = call.request.json()
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise _error(
                400, "INVALIDJOBSTATE", "Only the state Aborted can be set on a query job."
            )
        if found.state not in ("UploadComplete", "InProgress"):
            raise _error(400, "INVALIDJOBSTATE", f"A job in state {found.state} can't be aborted.")
        found.state = "Aborted"
        found.finished_at = call.org.clock.now()
        return json_response(200, found.info(format_datetime))
    _advance(call, found)
    return json_response(200, found.info(format_datetime))


def _advance(call: Call, found: BulkQueryJob) -> None:
    """Move the job along on the sandbox clock; the query runs when it is due."""
    now = call.org.clock.now()
    if found.state == "UploadComplete":
        found.state = "InProgress"
    if found.state != "InProgress" or (found.ready_at is not None and now < found.ready_at):
        return
    query = _parse(found.query)
    try:
        result = soql.execute(
            query,
            OrgQuerySource(call.org, found.created_by),
            now=now,
            version=found.api_version,
            include_deleted=found.operation == "queryAll",
        )
    except soql.SoqlError as exc:
        found.state, found.error_message = "Failed", exc.message
        found.finished_at = now
        return
    # API-FACTS §9.3: v50.0+ keeps the SELECT order, with dotted relationship names.
    found.columns = [item.text for item in query.select if isinstance(item, FieldPath)]
    found.rows = [flatten(record, found.columns) for record in result.records]
    found.state = "JobComplete"
    found.finished_at = now


def results(call: Call, params: dict[str, str]) -> ApiResponse:
    found = _job(call, params["job_id"])
    if found.api_version != call.version:
        raise _error(
            409,
            "API_ERROR",
            f"This job was created with API version {found.api_version}; "
            "read its results with the same version.",
        )
    if found.state != "JobComplete":
        raise _error(
            412, "API_ERROR", "Only results of successfully completed jobs can be downloaded."
        )
    query = call.request.query
    offset = 0
    if query.get("locator"):
        decoded = decode_locator(query["locator"])
        if decoded is None or decoded > len(found.rows):
            raise _error(400, "INVALID_LOCATOR", f"Invalid locator: {query['locator']}")
        offset = decoded
    raw_max = query.get("maxRecords") or str(DEFAULT_MAX_RECORDS)
    if not raw_max.isdigit() or int(raw_max) <= 0:
        raise _error(400, "INVALIDREQUEST", "maxRecords must be a positive number")
    body, count, locator = found.page(offset, int(raw_max))
    headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)}
    return ApiResponse(200, headers=headers, raw=body, content_type="text/csv; charset=UTF-8")
