"""The sandbox's ASGI application: data API, OAuth, identity and the control plane."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.routing import Mount

from salesync.sandbox import errors, identity, oauth
from salesync.sandbox.control import PREFIX as CONTROL_PREFIX
from salesync.sandbox.control import ControlPlane
from salesync.sandbox.dataapi import DataApi
from salesync.sandbox.errors import ApiError
from salesync.sandbox.http import ApiRequest, ApiResponse, Router, error_response, html_response
from salesync.sandbox.oauth import OAuthCall
from salesync.sandbox.org import Org
from salesync.sandbox.record_page import RECORD_PATH, record_page
from salesync.sandbox.ui import PAGED_OBJECTS, OrgPages, is_page

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger(__name__)

#: A status line no server can render: uvicorn marks the response as started, fails before
#: writing a byte, and closes the socket, so the client sees the connection drop with no
#: response at all (the "lost response after commit" fault).
_UNRENDERABLE_STATUS = 999


class SandboxHandler:
    """Routes a framework-free request to the part of the org that serves it."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.data = DataApi(org)
        self.control = ControlPlane(org)
        self.pages = OrgPages(self.control)
        self.oauth: Router[OAuthCall] = Router()
        oauth.register(self.oauth)
        identity.register(self.oauth)

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            return self._route(request)
        except ApiError as exc:
            return error_response(exc)
        except Exception:
            logger.exception("sandbox request failed: %s %s", request.method, request.path)
            return error_response(
                ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
            )

    def _route(self, request: ApiRequest) -> ApiResponse:
        too_large = _oversized(request)
        if too_large is not None:
            return too_large
        path = request.path
        if path.startswith("/services/data"):
            return self.data.handle(request)
        if path.startswith(("/services/oauth2/", "/id/")):
            with self.org.lock:
                return self.oauth.dispatch(OAuthCall(self.org, request), request.method, path)
        if path.startswith(CONTROL_PREFIX):
            return self.control.handle(request)
        if is_page(path):
            return self.pages.handle(request)
        match = RECORD_PATH.match(path)
        page = (
            record_page(self.org, match.group(1), PAGED_OBJECTS)
            if match and request.method == "GET"
            else None
        )
        if page is not None:
            return page
        raise errors.not_found()


#: Salesforce's cap on a request's URI plus headers (API-FACTS §2.10, KB 000386264).
MAX_URI_AND_HEADER_BYTES = 16_384


def _oversized(request: ApiRequest) -> ApiResponse | None:
    """414 when the URI alone passes 16,384 bytes, 431 when URI and headers together do; the
    edge answers before any API code runs, so the body is a plain page, not an API error."""
    uri = len(request.path) + (len(request.query_string) + 1 if request.query_string else 0)
    headers = sum(len(name) + len(value) + 4 for name, value in request.headers.items())
    if uri > MAX_URI_AND_HEADER_BYTES:
        return html_response(414, "<html><body><h1>414 URI Too Long</h1></body></html>")
    if uri + headers > MAX_URI_AND_HEADER_BYTES:
        return html_response(
            431, "<html><body><h1>431 Request Header Fields Too Large</h1></body></html>"
        )
    return None


class SandboxAsgi:
    """A raw ASGI endpoint: full control of the socket is needed to drop a response."""

    def __init__(self, org: Org) -> None:
        self.handler = SandboxHandler(org)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = await _read_request(scope, receive)
        response = await anyio.to_thread.run_sync(self.handler.handle, request)
        if response.drop_connection:
            await _drop_connection(send)
            return
        await _send_response(send, response)


async def _read_request(scope: Scope, receive: Receive) -> ApiRequest:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    raw_path = scope.get("raw_path") or scope["path"].encode()
    host = headers.get("host") or "{}:{}".format(*scope.get("server", ("localhost", 80)))
    return ApiRequest(
        method=scope["method"].upper(),
        path=raw_path.decode("latin-1").split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"".join(chunks),
        base_url=f"{scope.get('scheme', 'http')}://{host}",
    )


async def _send_response(send: Send, response: ApiResponse) -> None:
    body = b"" if response.status in (204, 304) else response.encoded()
    headers = [(k.lower().encode(), v.encode()) for k, v in response.headers.items()]
    if response.status not in (204, 304):
        headers.append((b"content-type", response.content_type.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop_connection(send: Send) -> None:
    try:
        await send({"type": "http.response.start", "status": _UNRENDERABLE_STATUS, "headers": []})
    except (KeyError, ValueError, RuntimeError):
        return  # the server refused to render it and will close the connection


def create_sandbox_app(org: Org) -> Starlette:
    """The ASGI app serving ``org`` over HTTP (Salesforce paths plus `/__sandbox__/`)."""
    return Starlette(routes=[Mount("/", app=SandboxAsgi(org))])
