"""The data API pipeline: version, auth, faults, limits, then the resource handler.

Order per request to `/services/data/vNN.N/...`:
faults (latency) -> session -> API permissions -> injected error -> daily cap -> count the call
-> handler inside one org batch (rolled back on error) -> Sforce-Limit-Info on the response.
"""

from __future__ import annotations

import re
import time

from salesync.sandbox import (
    errors,
    rest_bulk,
    rest_collections,
    rest_composite,
    rest_misc,
    rest_query,
    rest_replication,
    rest_sobjects,
)
from salesync.sandbox.call import Call, call_options_client
from salesync.sandbox.errors import ApiError
from salesync.sandbox.faults import Fault
from salesync.sandbox.http import ApiRequest, ApiResponse, Router, error_response, json_response
from salesync.sandbox.org import Org

_VERSIONED = re.compile(r"^/services/data/v(?P<version>\d+\.\d)(?P<rest>/.*)?$")


def build_router() -> Router[Call]:
    router: Router[Call] = Router()
    rest_misc.register(router)
    rest_replication.register(router)
    rest_sobjects.register(router)
    rest_query.register(router)
    rest_collections.register(router)
    rest_composite.register(router)
    rest_bulk.register(router)
    return router


class DataApi:
    """Serves `/services/data/...` for one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.router = build_router()

    def handle(self, request: ApiRequest) -> ApiResponse:
        if request.path.rstrip("/") == "/services/data":
            # No auth and no Sforce-Limit-Info here (API-FACTS §2.1).
            return json_response(200, rest_misc.versions_body())
        method = _effective_method(request)
        with self.org.lock.api_hold():
            fault = self.org.faults.take(method, request.path.rstrip("/"))
        if fault is not None and fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        with self.org.api_call():
            response = self._handle_locked(request, method, fault)
            response.headers["Sforce-Limit-Info"] = self.org.usage.header(self.org.clock.now())
        if fault is not None and fault.drop_after_commit:
            response.drop_connection = True
        return response

    def _handle_locked(self, request: ApiRequest, method: str, fault: Fault | None) -> ApiResponse:
        self.org.maintain()
        try:
            call = self._admit(request, method)
            if fault is not None and fault.status is not None:
                return _fault_response(fault)
            self._count(call, method)
            with self.org.batch(save=False):
                return self.router.dispatch(call, method, call.request.path)
        except ApiError as exc:
            return error_response(exc)

    def _admit(self, request: ApiRequest, method: str) -> Call:
        """Check the session, the version and API permissions; build the call context."""
        user_id = self.org.authenticate(_bearer(request))
        if user_id is None:
            raise errors.invalid_session()
        match = _VERSIONED.match(request.path)
        if match is None or match["version"] not in rest_misc.SUPPORTED_VERSIONS:
            raise errors.not_found()
        if not self.org.settings.api_enabled:
            raise ApiError(
                403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner"
            )
        if not self.org.access_of(user_id).api_enabled:
            # msia-rules 1.13 API_CURRENTLY_DISABLED: the profile lacks "API Enabled".
            raise ApiError(403, "API_CURRENTLY_DISABLED", "API is disabled for this User")
        relative = request.with_path(match["rest"] or "", method)
        client = call_options_client(request.header("sforce-call-options"))
        return Call(self.org, relative, user_id, match["version"], client)

    def _count(self, call: Call, method: str) -> None:
        now = self.org.clock.now()
        if self.org.usage.exhausted(now):
            # API-FACTS §2.3 / item 12: the daily cap answers 403 REQUEST_LIMIT_EXCEEDED.
            raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        user = self.org.user(call.user_id) or {}
        username = str(user.get("Username", call.user_id))
        self.org.usage.record(now, username, method, call.request.path, call.client)


def _bearer(request: ApiRequest) -> str:
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") else ""


def _effective_method(request: ApiRequest) -> str:
    """``POST ...?_HttpMethod=PATCH`` stands for PATCH (API-FACTS §2.2)."""
    override = request.query.get("_HttpMethod")
    if request.method == "POST" and override:
        return override.upper()
    return request.method


def _fault_response(fault: Fault) -> ApiResponse:
    error = ApiError(fault.status or 500, fault.error_code, fault.message)
    if fault.status == 401:
        error.headers["WWW-Authenticate"] = "Token"
    return error_response(error)
