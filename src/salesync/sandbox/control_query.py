"""``GET /__sandbox__/query?q=SOQL[&asUser=username]``: SOQL as a user, without counting an API
call, the way Salesforce's own pages read records (they do not use the caller's API budget).

The org's web pages read through this route; tests may too. Answers like ``/query`` (wire
values, ``totalSize``), all rows in one page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesync.sandbox import soql
from salesync.sandbox.http import ApiResponse, Router, json_response
from salesync.sandbox.query_source import OrgQuerySource

if TYPE_CHECKING:
    from salesync.sandbox.control import ControlCall

#: The API version the pages read with (field names do not vary between recent versions).
PAGES_API_VERSION = "59.0"


def register(router: Router[ControlCall], prefix: str) -> None:
    router.add("GET", prefix + r"/query", query)


def query(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    params = call.request.query
    text = params.get("q", "")
    if not text:
        raise ValueError("q must hold a SOQL query")
    org = call.org
    username = params.get("asUser")
    user_id = org.user_id(username) if username else org.admin_user_id
    try:
        result = soql.execute(
            soql.parse(text),
            OrgQuerySource(org, user_id),
            now=org.clock.now(),
            version=PAGES_API_VERSION,
        )
    except soql.SoqlError as exc:
        return json_response(400, {"error": exc.message, "errorCode": exc.error_code})
    return json_response(200, {"totalSize": result.total_size, "records": result.records})
