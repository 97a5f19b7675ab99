"""Composite: up to 25 subrequests with `@{ref.path}` references, one API call (API-FACTS §2.5)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from salesync.sandbox import errors
from salesync.sandbox.call import Call, call_options_client
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiResponse, Router, error_response, json_response
from salesync.sandbox.rest_misc import SUPPORTED_VERSIONS

MAX_SUBREQUESTS, MAX_QUERY_OR_COLLECTION = 25, 5
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_SUB_URL = re.compile(r"^/services/data/v(\d+\.\d)(/[^?]*)?(?:\?(.*))?$")
_HEAVY_PATH = re.compile(r"^/(query|queryAll|composite/sobjects)(/|$)")
ROLLED_BACK_MESSAGE = (
    "The transaction was rolled back since another operation in the same transaction failed."
)


class UnresolvedReference(Exception):
    """A reference names no earlier successful subrequest or no value in its result."""


def register(router: Router[Call]) -> None:
    def post_composite(call: Call, params: dict[str, str]) -> ApiResponse:
        return _run(call, router)

    router.add("POST", r"/composite", post_composite)


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "INVALID_BATCH_REQUEST", message)


def _validate(call: Call) -> tuple[list[Mapping[str, Any]], bool]:
    if call.in_composite:
        raise _bad_request("A composite request can't contain another composite request")
    body = call.request.json()
    subrequests = body.get("compositeRequest") if isinstance(body, Mapping) else None
    if not isinstance(subrequests, list) or not all(isinstance(s, Mapping) for s in subrequests):
        raise errors.json_parser_error("compositeRequest must be an array of subrequests")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise _bad_request(f"A composite request can have at most {MAX_SUBREQUESTS} subrequests")
    heavy = sum(1 for s in subrequests if _HEAVY_PATH.match(_relative_path(str(s.get("url", "")))))
    if heavy > MAX_QUERY_OR_COLLECTION:
        raise _bad_request(
            f"A composite request can have at most {MAX_QUERY_OR_COLLECTION} query or "
            "sObject Collections subrequests"
        )
    seen: set[str] = set()
    for sub in subrequests:
        reference = sub.get("referenceId")
        if not isinstance(reference, str) or not re.fullmatch(r"[A-Za-z0-9_]+", reference):
            raise _bad_request("Every subrequest needs a referenceId of letters, digits or _")
        if reference in seen:
            raise _bad_request(f"Duplicate referenceId provided in the request: {reference}")
        if not isinstance(sub.get("method"), str) or not isinstance(sub.get("url"), str):
            raise _bad_request(f"Subrequest {reference} needs a method and a url")
        seen.add(reference)
    return subrequests, bool(body.get("allOrNone", False))


def _relative_path(url: str) -> str:
    match = _SUB_URL.match(url)
    return (match.group(2) or "") if match else ""


def _run(call: Call, router: Router[Call]) -> ApiResponse:
    subrequests, all_or_none = _validate(call)
    start = call.org.journal.savepoint()
    results: dict[str, Any] = {}
    responses: list[dict[str, Any]] = []
    failed_at: int | None = None
    for position, sub in enumerate(subrequests):
        if failed_at is not None:
            responses.append(_halted(sub))
            continue
        response = _run_one(call, router, sub, results)
        responses.append(_entry(sub, response))
        if response.status < 400:
            results[sub["referenceId"]] = response.body
        elif all_or_none:
            failed_at = position
            call.org.journal.rollback_to(start)
    if failed_at is not None:
        # allOrNone: everything rolled back; the others say PROCESSING_HALTED (API-FACTS §2.5).
        responses = [
            r if i == failed_at else _halted(subrequests[i]) for i, r in enumerate(responses)
        ]
    return json_response(200, {"compositeResponse": responses})


def _run_one(
    call: Call, router: Router[Call], sub: Mapping[str, Any], results: dict[str, Any]
) -> ApiResponse:
    try:
        url = _substitute_text(str(sub["url"]), results)
        body = _substitute(sub.get("body"), results)
    except UnresolvedReference as exc:
        return error_response(ApiError(400, "PROCESSING_HALTED", str(exc)))
    match = _SUB_URL.match(url)
    if match is None or match.group(1) not in SUPPORTED_VERSIONS:
        return error_response(errors.not_found())
    headers = {**call.request.headers}
    headers.update({str(k).lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()})
    request = replace(
        call.request,
        method=str(sub["method"]).upper(),
        path=match.group(2) or "",
        query_string=match.group(3) or "",
        headers=headers,
        body=b"" if body is None else json.dumps(body).encode(),
    )
    sub_call = replace(
        call,
        request=request,
        version=match.group(1),
        client=call_options_client(headers.get("sforce-call-options")),
        in_composite=True,
    )
    savepoint = call.org.journal.savepoint()
    try:
        return router.dispatch(sub_call, request.method, request.path.rstrip("/"))
    except ApiError as exc:
        call.org.journal.rollback_to(savepoint)
        return error_response(exc)


def _entry(sub: Mapping[str, Any], response: ApiResponse) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k == "Location"}
    return {
        "body": response.body,
        "httpHeaders": headers,
        "httpStatusCode": response.status,
        "referenceId": sub["referenceId"],
    }


def _halted(sub: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": ROLLED_BACK_MESSAGE}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": sub["referenceId"],
    }


def _resolve(match: re.Match[str], results: dict[str, Any]) -> Any:
    reference, path = match.group(1), match.group(2)
    if reference not in results:
        raise UnresolvedReference(
            f"Invalid reference specified. No value for {reference}{path} found in {reference}."
        )
    value = results[reference]
    for step in _STEP.finditer(path):
        key, index = step.group(1), step.group(2)
        try:
            value = value[key] if key is not None else value[int(index)]
        except (KeyError, IndexError, TypeError) as exc:
            raise UnresolvedReference(
                f"Invalid reference specified. No value for {reference}{path} found in {reference}."
            ) from exc
    return value


def _substitute_text(text: str, results: dict[str, Any]) -> str:
    return _REFERENCE.sub(lambda m: str(_resolve(m, results)), text)


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    """Replace references inside a JSON body; a string that is one reference keeps its type."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        return _resolve(whole, results) if whole else _substitute_text(value, results)
    if isinstance(value, list):
        return [_substitute(item, results) for item in value]
    if isinstance(value, Mapping):
        return {key: _substitute(item, results) for key, item in value.items()}
    return value
