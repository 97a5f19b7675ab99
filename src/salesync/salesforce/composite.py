"""Composite requests: typed subrequests and answers, and the limits checked before sending.

One ``POST /composite`` carries up to 25 subrequests, at most 5 of them queries or sObject
Collections calls, and counts as one API call; later subrequests can use earlier results as
``@{referenceId.field}`` (API-FACTS §2.5).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from salesync.salesforce.errors import SalesforceError, error_from_details
from salesync.salesforce.results import Record, error_details

#: API-FACTS §2.5.
MAX_SUBREQUESTS = 25
#: API-FACTS §2.5: query/queryAll and sObject Collections subrequests.
MAX_QUERY_OR_COLLECTION_SUBREQUESTS = 5

_REFERENCE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_QUERY_PATH = re.compile(r"/(query|queryAll)(/|$)")


@dataclass(frozen=True)
class CompositeSubrequest:
    """One step of a composite request."""

    method: str
    #: ``sobjects/Task`` (relative to the API version) or a full ``/services/data/...`` path.
    url: str
    #: Name later steps use in ``@{referenceId.field}``.
    reference_id: str
    body: Mapping[str, Any] | None = None
    http_headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def query(
        cls, soql: str, reference_id: str, *, include_deleted: bool = False
    ) -> CompositeSubrequest:
        """A query step; its first page is the answer (continue with ``query_more_all``)."""
        resource = "queryAll" if include_deleted else "query"
        return cls("GET", f"{resource}/?q={urllib.parse.quote_plus(soql)}", reference_id)

    def is_query_or_collection(self) -> bool:
        path = self.url.split("?", 1)[0]
        return bool(_QUERY_PATH.search("/" + path.lstrip("/"))) or "composite/sobjects" in path

    def to_json(self, version_path: str) -> dict[str, Any]:
        url = self.url if self.url.startswith("/") else f"{version_path}/{self.url}"
        item: dict[str, Any] = {
            "method": self.method.upper(),
            "url": url,
            "referenceId": self.reference_id,
        }
        if self.body is not None:
            item["body"] = dict(self.body)
        if self.http_headers:
            item["httpHeaders"] = dict(self.http_headers)
        return item


@dataclass(frozen=True)
class CompositeSubresponse:
    """The answer to one subrequest."""

    reference_id: str
    status: int
    #: The subrequest's body: a record, a query page, a save result or an error array.
    body: Any
    headers: dict[str, str]

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> CompositeSubresponse:
        return cls(
            reference_id=str(item.get("referenceId") or ""),
            status=int(item.get("httpStatusCode") or 0),
            body=item.get("body"),
            headers={str(k): str(v) for k, v in (item.get("httpHeaders") or {}).items()},
        )

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> SalesforceError | None:
        """The typed error of a failed step (PROCESSING_HALTED when halted), else None."""
        if self.ok:
            return None
        details = error_details(self.body) if isinstance(self.body, list) else ()
        return error_from_details(details, self.status, raw=self.body)

    def raise_for_error(self) -> None:
        error = self.error()
        if error is not None:
            raise error

    @property
    def records(self) -> list[Record]:
        """The records of a successful query step (first page only)."""
        self.raise_for_error()
        if not isinstance(self.body, Mapping):
            return []
        return list(self.body.get("records") or [])


def validate_subrequests(subrequests: Sequence[CompositeSubrequest]) -> None:
    """Refuse a composite request Salesforce would refuse, before it costs an API call.

    Raises
    ------
    ValueError
        When empty, over 25 steps, over 5 query/collection steps, or a reference id is
        malformed or repeated.
    """
    if not subrequests:
        raise ValueError("a composite request needs at least one subrequest")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise ValueError(
            f"{len(subrequests)} subrequests: a composite request allows {MAX_SUBREQUESTS}"
        )
    heavy = sum(1 for sub in subrequests if sub.is_query_or_collection())
    if heavy > MAX_QUERY_OR_COLLECTION_SUBREQUESTS:
        raise ValueError(
            f"{heavy} query/collection subrequests: a composite request allows "
            f"{MAX_QUERY_OR_COLLECTION_SUBREQUESTS}"
        )
    seen: set[str] = set()
    for sub in subrequests:
        if not _REFERENCE_ID.fullmatch(sub.reference_id):
            raise ValueError(f"reference id {sub.reference_id!r}: letters, digits, _; letter first")
        if sub.reference_id in seen:
            raise ValueError(f"reference id {sub.reference_id!r} is used twice")
        seen.add(sub.reference_id)
