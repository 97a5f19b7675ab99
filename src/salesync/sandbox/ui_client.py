"""The org's web pages talk to the org only through its control plane, as an HTTP client would:
each call is a request to ``/__sandbox__/...`` handed to the same handler that serves HTTP.

Reads use ``/__sandbox__/query`` (SOQL, no API call counted: Salesforce's own pages do not
spend the API budget); writes use ``/__sandbox__/records/<id>``, made as the org's admin user
in the UI's write mode, so salesync sees them as edits made in Salesforce by someone else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from salesync.sandbox.control import PREFIX, ControlPlane
from salesync.sandbox.http import ApiRequest


class OrgRefused(Exception):
    """The org refused a change; the message is the org's own (e.g. a validation rule)."""


@dataclass
class OrgConsole:
    control: ControlPlane
    base_url: str = "http://localhost"

    def _call(
        self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        request = ApiRequest(
            method=method,
            path=PREFIX + path,
            query_string=urlencode(query or {}),
            headers={"content-type": "application/json"},
            body=json.dumps(body).encode() if body is not None else b"",
            base_url=self.base_url,
        )
        response = self.control.handle(request)
        payload = json.loads(response.encoded() or b"null")
        if response.status >= 400:
            raise OrgRefused(_message(payload))
        return payload

    def query(self, soql: str) -> list[dict[str, Any]]:
        return list(self._call("GET", "/query", {"q": soql})["records"])

    def count(self, soql: str) -> int:
        return int(self._call("GET", "/query", {"q": soql})["totalSize"])

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        return str(
            self._call("POST", "/records", body={"sobject": sobject, "fields": fields})["id"]
        )

    def update(self, record_id: str, fields: dict[str, Any]) -> None:
        self._call("PATCH", f"/records/{record_id}", body={"fields": fields})

    def delete(self, record_id: str) -> None:
        self._call("DELETE", f"/records/{record_id}")

    def summary(self) -> dict[str, Any]:
        return dict(self._call("GET", ""))

    def api_calls(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api-calls"))

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults"))

    def add_fault(self, fault: dict[str, Any]) -> None:
        self._call("POST", "/faults", body=fault)

    def remove_fault(self, fault_id: int) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")


def _message(payload: Any) -> str:
    """The org's error message: REST errors are a list of {message, errorCode, fields}."""
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        return "; ".join(str(error.get("message", "")) for error in payload)
    if isinstance(payload, dict) and "error" in payload:
        return str(payload["error"])
    return "the org refused the change"
