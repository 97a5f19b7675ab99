"""query and queryAll with server-side paging and expiring locators (API-FACTS §2.7)."""

from __future__ import annotations

from typing import Any

from salesync.sandbox import soql
from salesync.sandbox.call import Call
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiResponse, Router, json_response
from salesync.sandbox.query_source import OrgQuerySource

#: Page size bounds: 2,000 by default, Sforce-Query-Options batchSize between 200 and 2,000.
DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000


def register(router: Router[Call]) -> None:
    router.add("GET", r"/query", get_query)
    router.add("GET", r"/queryAll", get_query_all)
    router.add("GET", r"/(?:query|queryAll)/(?P<locator>\w+)-(?P<offset>\d+)", get_more)


def batch_size(call: Call) -> int:
    """The page size, honouring ``Sforce-Query-Options: batchSize=N`` as a hint."""
    options = call.request.header("sforce-query-options") or ""
    for part in options.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(MAX_BATCH, int(value)))
    return DEFAULT_BATCH


def run_query(call: Call, text: str | None, include_deleted: bool) -> soql.QueryResult:
    """Parse and run SOQL as the caller; SOQL errors become 400s with their codes."""
    if not text:
        raise ApiError(400, "MALFORMED_QUERY", "A query string must be provided in the q parameter")
    try:
        query = soql.parse(text)
        return soql.execute(
            query,
            OrgQuerySource(call.org, call.user_id),
            now=call.org.clock.now(),
            version=call.version,
            include_deleted=include_deleted,
        )
    except soql.SoqlError as exc:
        raise ApiError(400, exc.error_code, exc.message) from exc


def get_query(call: Call, params: dict[str, str]) -> ApiResponse:
    return _first_page(call, include_deleted=False)


def get_query_all(call: Call, params: dict[str, str]) -> ApiResponse:
    # queryAll also returns IsDeleted rows (API-FACTS §2.7).
    return _first_page(call, include_deleted=True)


def query_body(call: Call, text: str | None, include_deleted: bool) -> dict[str, Any]:
    """The first page of a query as JSON (also used by composite subrequests)."""
    result = run_query(call, text, include_deleted)
    size = batch_size(call)
    records = result.records
    body: dict[str, Any] = {"totalSize": result.total_size, "done": len(records) <= size}
    if len(records) > size:
        locator = call.org.cursors.open(call.user_id, records, size, call.org.clock.now(), size)
        body["nextRecordsUrl"] = _next_url(call, locator, size)
    body["records"] = records[:size]
    return body


def _next_url(call: Call, locator: str, offset: int) -> str:
    # The continuation always says /query/, even for queryAll (API-FACTS §2.7).
    return call.url(f"/query/{locator}-{offset}")


def _first_page(call: Call, include_deleted: bool) -> ApiResponse:
    return json_response(200, query_body(call, call.request.query.get("q"), include_deleted))


def get_more(call: Call, params: dict[str, str]) -> ApiResponse:
    cursor = call.org.cursors.get(params["locator"], call.user_id, call.org.clock.now())
    offset = int(params["offset"])
    if cursor is None or not cursor.start <= offset <= cursor.total:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    end = offset + cursor.batch_size
    body: dict[str, Any] = {"totalSize": cursor.total, "done": end >= cursor.total}
    if end < cursor.total:
        body["nextRecordsUrl"] = _next_url(call, cursor.locator, end)
    body["records"] = cursor.rows(offset, cursor.batch_size)
    return json_response(200, body)
