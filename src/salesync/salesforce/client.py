"""SalesforceClient: the one piece of salesync that speaks HTTP to a Salesforce org's REST API.

Why httpx, used synchronously, and not simple-salesforce:

- simple-salesforce has no composite or sObject Collections helpers, no refresh_token grant
  (a client built from a web-server-flow token can't refresh), maps errors by HTTP status
  instead of ``errorCode``, and keeps two copies of its send path that have drifted apart
  (API-FACTS §7; STYLE §4).
- httpx gives a pluggable transport (``MockTransport`` in unit tests, a real server in
  integration tests), an ``Auth`` generator flow for refresh-once, and strict typing.
- One concurrency model: sync calls from worker threads. An ``httpx.Client`` is thread-safe and
  pools connections; no async twin doubles the code.

Every request goes through :meth:`SalesforceClient._send`, the only place that calls the
transport: auth (``RefreshingAuth`` flow) -> single request -> limits bookkeeping -> errors.
Every request carries ``Sforce-Call-Options: client=salesync`` so our own writes can be told
apart in change feeds (API-FACTS §2.14, Pitfalls: Loop and echo suppression).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from salesync.salesforce import datetimes, limits
from salesync.salesforce.composite import (
    CompositeSubrequest,
    CompositeSubresponse,
    validate_subrequests,
)
from salesync.salesforce.describe import SObjectDescribe
from salesync.salesforce.errors import (
    OtherError,
    SalesforceError,
    error_from_response,
    translate_transport_errors,
)
from salesync.salesforce.results import (
    CollectionItemResult,
    DeletedRecords,
    OrgLimit,
    Record,
    UpdatedRecords,
    UpsertResult,
)

#: simple-salesforce's default too (API-FACTS §2.1).
DEFAULT_API_VERSION = "v59.0"
#: Connect quickly, but let slow orgs (triggers) answer; REST calls time out at 10 min server-side.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: sObject Collections take at most 200 records per call (API-FACTS §2.4).
COLLECTION_CHUNK_SIZE = 200
#: Sforce-Query-Options batchSize range (API-FACTS §2.7).
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 200, 2000
#: Rows per Bulk API 2.0 results page: big enough for a handful of calls, small enough that
#: one page (a few MB of CSV) is all that is held at once.
BULK_PAGE_ROWS = 10_000
#: Seconds between polls of a Bulk API 2.0 job: doubling from the first to the last
#: (API-FACTS §9.5: keep polls few with a backoff).
BULK_POLL_SECONDS = (0.5, 10.0)
#: Above this many rows, :meth:`SalesforceClient.query_all_large` reads through Bulk API 2.0.
BULK_ABOVE_ROWS = 10_000
#: The longest percent-encoded statement sent in a query URL; a longer one goes in a
#: composite body (URI plus headers must stay under 16,384 bytes, API-FACTS §2.10; the rest
#: of the URL and proxies' 8 KiB request lines need room too).
QUERY_IN_URL_CHARS = 7_700

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_VERSION = re.compile(r"v?(\d+\.\d)")


class SalesforceClient:
    """Typed REST calls against one org, as one user.

    Parameters
    ----------
    instance_url:
        The org's base URL from the token answer (``https://acme.my.salesforce.com``).
    auth:
        Normally a :class:`~salesync.salesforce.auth.RefreshingAuth`.
    api_version:
        ``v59.0`` or ``59.0``.
    http:
        A client to share (tests pass one over ``MockTransport``); otherwise one is made and
        closed by :meth:`close`.
    limits_sink:
        Receives ``Sforce-Limit-Info`` from every answer that has it.
    call_options_client:
        The ``client=`` value of ``Sforce-Call-Options`` on every request.
    """

    def __init__(
        self,
        instance_url: str,
        auth: httpx.Auth,
        *,
        api_version: str = DEFAULT_API_VERSION,
        http: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        limits_sink: limits.LimitsSink | None = None,
        call_options_client: str = "salesync",
        request_slots: threading.Semaphore | None = None,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.api_version = _normalize_version(api_version)
        self._auth = auth
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._limits_sink = limits_sink
        #: Held while a request is on the wire: clients sharing it (one org's users in one
        #: worker) have at most so many requests at Salesforce at once.
        self._request_slots = request_slots
        self._headers = {
            "Accept": "application/json",
            "Sforce-Call-Options": f"client={call_options_client}",
        }
        self._lock = threading.Lock()
        self._calls = 0
        self._describes: dict[str, SObjectDescribe] = {}

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def version_path(self) -> str:
        """``/services/data/v59.0``."""
        return f"/services/data/{self.api_version}"

    @property
    def api_calls_made(self) -> int:
        """Requests sent to the org so far (a resend after a token refresh counts too)."""
        return self._calls

    # --- records ---------------------------------------------------------------------------

    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create a record; returns its id (201, API-FACTS §2.2)."""
        body = self._send("POST", f"sobjects/{_name(sobject)}/", json=dict(fields))
        return str(_object(body)["id"])

    def get(self, sobject: str, record_id: str, fields: Sequence[str] | None = None) -> Record:
        """Read a record, all visible fields or only ``fields``."""
        params = {"fields": ",".join(fields)} if fields else None
        return _object(self._send("GET", _record_path(sobject, record_id), params=params))

    def update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Change the given fields (204); ``None`` clears a field."""
        self._send("PATCH", _record_path(sobject, record_id), json=dict(fields))

    def delete(self, sobject: str, record_id: str) -> None:
        """Delete a record (to the Recycle Bin)."""
        self._send("DELETE", _record_path(sobject, record_id))

    def upsert(
        self, sobject: str, ext_field: str, value: str, fields: Mapping[str, Any]
    ) -> UpsertResult:
        """Create or update the record whose ``ext_field`` equals ``value`` (API-FACTS §2.6).

        Raises an ``AccessOrValidationError`` (code ``HTTP_300``) when several records match.
        """
        path = f"sobjects/{_name(sobject)}/{_name(ext_field)}/{_segment(value)}"
        response = self._send_raw("PATCH", path, json=dict(fields))
        if response.status_code == 204:  # before v46.0 an update answered 204 with no body
            return UpsertResult(id=None, created=False)
        body = _object(_json(response))
        return UpsertResult(id=str(body["id"]), created=bool(body.get("created")))

    def get_by_external_id(
        self, sobject: str, ext_field: str, value: str, fields: Sequence[str] | None = None
    ) -> Record:
        """Read the record whose ``ext_field`` equals ``value``."""
        path = f"sobjects/{_name(sobject)}/{_name(ext_field)}/{_segment(value)}"
        params = {"fields": ",".join(fields)} if fields else None
        return _object(self._send("GET", path, params=params))

    # --- queries ---------------------------------------------------------------------------

    def query(self, soql: str, *, batch_size: int | None = None) -> Iterator[Record]:
        """Iterate over a query's records, fetching pages lazily via ``nextRecordsUrl``.

        Nothing is sent until the first record is asked for. ``batch_size`` (200-2000) is a
        hint Salesforce may ignore (API-FACTS §2.7).
        """
        return self._pages("query", soql, _batch_header(batch_size))

    def query_all(self, soql: str, *, batch_size: int | None = None) -> Iterator[Record]:
        """Like :meth:`query`, including deleted and archived rows (queryAll)."""
        return self._pages("queryAll", soql, _batch_header(batch_size))

    def query_more_all(self, next_records_url: str) -> list[Record]:
        """Every record after a first page that came from elsewhere (e.g. a composite step)."""
        records: list[Record] = []
        next_url: str | None = next_records_url
        while next_url:
            page = _object(self._send("GET", next_url))
            records.extend(page.get("records") or [])
            next_url = None if page.get("done", True) else page.get("nextRecordsUrl")
        return records

    def _pages(self, resource: str, soql: str, headers: dict[str, str] | None) -> Iterator[Record]:
        page = _object(self._send("GET", f"{resource}/", params={"q": soql}, headers=headers))
        yield from self._pages_from(page, headers)

    def _pages_from(self, page: dict[str, Any], headers: dict[str, str] | None) -> Iterator[Record]:
        while True:
            yield from page.get("records") or []
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            # queryAll's continuation URL says /query/ but continues queryAll (API-FACTS §2.7).
            page = _object(self._send("GET", str(next_url), headers=headers))

    def query_all_large(
        self,
        soql: str,
        *,
        bulk_above: int = BULK_ABOVE_ROWS,
        booleans: frozenset[str] = frozenset(),
    ) -> Iterator[Record]:
        """queryAll, read through a Bulk API 2.0 job when it has more than ``bulk_above`` rows.

        A statement longer than a query URL may be is sent inside a composite request (one
        call either way), so a long ``IN`` list needs no splitting into several queries.

        The first queryAll page tells the size (one call); a big read then costs a handful
        of calls (create, polls, one per ``BULK_PAGE_ROWS`` rows) instead of one per 2,000
        rows. Bulk rows come from CSV: ``booleans`` names the fields to read as booleans.
        """
        if len(urllib.parse.quote_plus(soql)) > QUERY_IN_URL_CHARS:
            # Too long for a URL (API-FACTS §2.10): sent in a composite body, still one call.
            [answer] = self.composite([CompositeSubrequest.query(soql, "q", include_deleted=True)])
            error = answer.error()
            if error is not None:
                raise error
            page = _object(answer.body)
        else:
            page = _object(self._send("GET", "queryAll/", params={"q": soql}))
        if int(page.get("totalSize") or 0) > bulk_above:
            return self.bulk_query(soql, include_deleted=True, booleans=booleans)
        return self._pages_from(page, None)

    def bulk_query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        max_records: int = BULK_PAGE_ROWS,
        booleans: frozenset[str] = frozenset(),
        poll_seconds: tuple[float, float] = BULK_POLL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[Record]:
        """Run a Bulk API 2.0 query job and yield its rows, one results page at a time.

        Create (``query`` or ``queryAll``), poll until ``JobComplete`` with a doubling wait,
        then read the CSV pages by ``Sforce-Locator`` (API-FACTS §9); the job is deleted at
        the end. A null is ``None``; every other value is text (``booleans`` excepted).
        Raises ``OtherError`` when the job fails or is aborted.
        """
        body = {
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        job = _object(self._send("POST", "jobs/query", json=body))
        path = f"jobs/query/{_segment(str(job['id']))}"
        wait, longest = poll_seconds
        while job.get("state") != "JobComplete":
            if job.get("state") in ("Failed", "Aborted"):
                raise OtherError(
                    f"The Bulk API query job ended {job.get('state')}: "
                    f"{job.get('errorMessage') or 'no reason given'}",
                    raw=job,
                )
            sleep(wait)
            wait = min(wait * 2, longest)
            job = _object(self._send("GET", path))
        return self._bulk_results(path, max_records, booleans)

    def _bulk_results(
        self, path: str, max_records: int, booleans: frozenset[str]
    ) -> Iterator[Record]:
        locator = ""
        while True:
            params = {"maxRecords": str(max_records)}
            if locator:
                params["locator"] = locator
            response = self._send_raw(
                "GET", f"{path}/results", params=params, headers={"Accept": "text/csv"}
            )
            yield from _csv_records(response.text, booleans)
            locator = response.headers.get("Sforce-Locator", "null")
            del response
            if not locator or locator == "null":
                break
        self._send_raw("DELETE", path)

    def get_updated(self, sobject: str, start: datetime, end: datetime) -> UpdatedRecords:
        """Ids changed (by SystemModstamp) between ``start`` and ``end`` (API-FACTS §2.8)."""
        return UpdatedRecords.from_json(_object(self._replication("updated", sobject, start, end)))

    def get_deleted(self, sobject: str, start: datetime, end: datetime) -> DeletedRecords:
        """Records deleted between ``start`` and ``end``; check ``lost_deletes_since``."""
        return DeletedRecords.from_json(_object(self._replication("deleted", sobject, start, end)))

    def _replication(self, kind: str, sobject: str, start: datetime, end: datetime) -> Any:
        # UTC ISO-8601, URL-encoded by httpx; Salesforce truncates seconds (API-FACTS §2.8).
        params = {"start": datetimes.format_utc(start), "end": datetimes.format_utc(end)}
        return self._send("GET", f"sobjects/{_name(sobject)}/{kind}/", params=params)

    # --- sObject Collections ---------------------------------------------------------------

    def create_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[CollectionItemResult]:
        """Create records in calls of 200; results match ``records`` by position."""
        payloads = [_typed(sobject, record) for record in records]
        return self._collection("POST", "composite/sobjects", payloads)

    def update_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[CollectionItemResult]:
        """Update records (each with ``Id``) in calls of 200; results by position."""
        for record in records:
            if not (record.get("Id") or record.get("id")):
                raise ValueError("every record of update_many needs an Id")
        payloads = [_typed(sobject, record) for record in records]
        return self._collection("PATCH", "composite/sobjects", payloads)

    def upsert_many(
        self, sobject: str, ext_field: str, records: Sequence[Mapping[str, Any]]
    ) -> list[CollectionItemResult]:
        """Upsert records on ``ext_field`` in calls of 200; ``created`` says which were new."""
        for record in records:
            if record.get(ext_field) in (None, ""):
                raise ValueError(f"every record of upsert_many needs {ext_field}")
        payloads = [_typed(sobject, record) for record in records]
        path = f"composite/sobjects/{_name(sobject)}/{_name(ext_field)}"
        return self._collection("PATCH", path, payloads)

    def delete_many(self, record_ids: Sequence[str]) -> list[CollectionItemResult]:
        """Delete records by id in calls of 200; results by position."""
        results: list[CollectionItemResult] = []
        for chunk in _chunks(list(record_ids), COLLECTION_CHUNK_SIZE):
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            results.extend(
                self._collection_call("DELETE", "composite/sobjects", chunk, results, params=params)
            )
        return results

    def _collection(
        self, method: str, path: str, payloads: list[dict[str, Any]]
    ) -> list[CollectionItemResult]:
        results: list[CollectionItemResult] = []
        for chunk in _chunks(payloads, COLLECTION_CHUNK_SIZE):
            # allOrNone false: one bad record must not block the others (API-FACTS §2.4).
            body = {"allOrNone": False, "records": chunk}
            results.extend(self._collection_call(method, path, chunk, results, json=body))
        return results

    def _collection_call(
        self,
        method: str,
        path: str,
        chunk: Sequence[object],
        done: list[CollectionItemResult],
        **kwargs: Any,
    ) -> list[CollectionItemResult]:
        try:
            items = self._send(method, path, **kwargs)
        except SalesforceError as exc:
            exc.partial_results = tuple(done)
            raise
        if not isinstance(items, list) or len(items) != len(chunk):
            raise OtherError(
                "sObject Collections answered a different number of results", raw=items
            )
        return [CollectionItemResult.from_json(item) for item in items]

    # --- composite, describe, limits -------------------------------------------------------

    def composite(
        self,
        subrequests: Sequence[CompositeSubrequest],
        *,
        all_or_none: bool = False,
        collate_subrequests: bool = False,
    ) -> list[CompositeSubresponse]:
        """Send up to 25 subrequests as one API call (API-FACTS §2.5).

        Raises ``ValueError`` before sending when Salesforce's limits would be broken.
        A failed step does not raise: check ``ok``/``error()`` on each answer.
        """
        validate_subrequests(subrequests)
        body = {
            "allOrNone": all_or_none,
            "collateSubrequests": collate_subrequests,
            "compositeRequest": [sub.to_json(self.version_path) for sub in subrequests],
        }
        answer = _object(self._send("POST", "composite", json=body))
        return [CompositeSubresponse.from_json(item) for item in answer["compositeResponse"]]

    def describe(self, sobject: str, *, refresh: bool = False) -> SObjectDescribe:
        """Describe an sObject for this user; cached per client until ``refresh=True``."""
        name = _name(sobject)
        with self._lock:
            cached = self._describes.get(name.lower())
        if cached is not None and not refresh:
            return cached
        described = SObjectDescribe.from_json(
            _object(self._send("GET", f"sobjects/{name}/describe/"))
        )
        self.remember_describe(described)
        return described

    def remember_describe(self, described: SObjectDescribe) -> None:
        """Put a describe fetched elsewhere (e.g. inside a composite) into the cache."""
        with self._lock:
            self._describes[described.name.lower()] = described

    def limits(self) -> dict[str, OrgLimit]:
        """The org's limits by name, e.g. ``DailyApiRequests`` (API-FACTS §2.9)."""
        body = _object(self._send("GET", "limits/"))
        return {
            str(name): OrgLimit(int(entry.get("Max", 0)), int(entry.get("Remaining", 0)))
            for name, entry in body.items()
            if isinstance(entry, Mapping)
        }

    # --- the one send path -----------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send and return the decoded JSON body (None when there is none)."""
        return _json(self._send_raw(method, path, **kwargs))

    def _send_raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The single place that calls the transport: auth -> request -> limits -> errors."""
        request = self._http.build_request(
            method,
            self._url(path),
            params=params,
            json=json,
            headers={**self._headers, **(headers or {})},
        )
        with translate_transport_errors(), self._request_slots or contextlib.nullcontext():
            response = self._http.send(request, auth=self._auth)
        self._count(response)
        self._record_limits(response)
        if response.status_code >= 300:
            raise error_from_response(response)
        return response

    def _url(self, path: str) -> str:
        if path.startswith("/"):
            return self.instance_url + path  # nextRecordsUrl and other server-given paths
        return f"{self.instance_url}{self.version_path}/{path}"

    def _count(self, response: httpx.Response) -> None:
        with self._lock:
            self._calls += 1 + len(response.history)

    def _record_limits(self, response: httpx.Response) -> None:
        header = response.headers.get(limits.LIMIT_INFO_HEADER)
        if header and self._limits_sink is not None:
            self._limits_sink.record(limits.parse_limit_info(header))


def _normalize_version(api_version: str) -> str:
    match = _VERSION.fullmatch(api_version.strip())
    if match is None:
        raise ValueError(f"API version {api_version!r}: expected like v59.0")
    return f"v{match.group(1)}"


def _name(name: str) -> str:
    """An sObject or field API name, checked so it can't bend the URL."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not an API name: {name!r}")
    return name


def _segment(value: str) -> str:
    """One URL path segment; ``/`` and everything else reserved is escaped."""
    if not value:
        raise ValueError("an empty value can't be used in a URL path")
    return urllib.parse.quote(value, safe="")


def _record_path(sobject: str, record_id: str) -> str:
    return f"sobjects/{_name(sobject)}/{_segment(record_id)}"


def _typed(sobject: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {"attributes": {"type": _name(sobject)}, **record}


def _batch_header(batch_size: int | None) -> dict[str, str] | None:
    if batch_size is None:
        return None
    if not MIN_BATCH_SIZE <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be {MIN_BATCH_SIZE}..{MAX_BATCH_SIZE}")
    return {"Sforce-Query-Options": f"batchSize={batch_size}"}


def _csv_records(text: str, booleans: frozenset[str]) -> Iterator[Record]:
    """Rows of one Bulk API 2.0 results page (each page starts with the header row)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    for row in reader:
        record: Record = {}
        for name, value in zip(header, row, strict=False):
            if value == "":
                record[name] = None
            elif name in booleans:
                record[name] = value == "true"
            else:
                record[name] = value
        yield record


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise OtherError(
            "Salesforce answered something that is not JSON", raw=response.text
        ) from exc


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise OtherError("Salesforce answered an unexpected shape", raw=body)
    return body
