"""Framework-free request and response values, so composite subrequests reuse the handlers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, unquote

from salesync.sandbox import errors
from salesync.sandbox.errors import ApiError, OAuthError

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request as the handlers see it."""

    method: str
    #: The raw (still percent-encoded) path, so an encoded "/" in an external id survives.
    path: str
    query_string: str = ""
    #: Lower-cased header names.
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: scheme://host[:port] as the caller addressed the server (instance_url comes from it).
    base_url: str = "http://localhost"

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The parsed JSON body; JSON_PARSER_ERROR when it is not JSON (API-FACTS item 4)."""
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.json_parser_error(f"Unexpected character: {exc}") from exc

    def form(self) -> dict[str, str]:
        """Form-encoded body fields merged over query parameters (the OAuth endpoints)."""
        values = self.query
        values.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return values

    def with_path(self, path: str, method: str | None = None) -> ApiRequest:
        return replace(self, path=path, method=method or self.method)


@dataclass
class ApiResponse:
    """A response: a JSON body, or raw bytes with their content type."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = JSON_TYPE
    #: Close the connection instead of answering (fault injection: lost response).
    drop_connection: bool = False

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, body, dict(headers or {}))


def no_content() -> ApiResponse:
    return ApiResponse(204)


def error_response(error: ApiError) -> ApiResponse:
    return ApiResponse(error.status, error.body(), dict(error.headers))


def oauth_error_response(error: OAuthError) -> ApiResponse:
    return ApiResponse(error.status, error.body())


def html_response(status: int, page: str) -> ApiResponse:
    return ApiResponse(status, raw=page.encode(), content_type="text/html;charset=UTF-8")


def redirect(location: str) -> ApiResponse:
    return ApiResponse(302, headers={"Location": location}, raw=b"")


C = TypeVar("C")
Handler = Callable[[C, dict[str, str]], ApiResponse]


@dataclass
class _Route(Generic[C]):
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler[C]


class Router(Generic[C]):
    """Regex routes over a path; captured groups arrive percent-decoded."""

    def __init__(self) -> None:
        self._routes: list[_Route[C]] = []

    def add(self, methods: str, pattern: str, handler: Handler[C]) -> None:
        self._routes.append(
            _Route(frozenset(methods.split()), re.compile(f"^{pattern}/?$"), handler)
        )

    def dispatch(self, context: C, method: str, path: str) -> ApiResponse:
        allowed: set[str] = set()
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if method in route.methods:
                params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                return route.handler(context, params)
            allowed |= route.methods
        if allowed:
            raise ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(sorted(allowed))}",
            )
        raise errors.not_found()
