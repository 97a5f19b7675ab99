"""Helpers for the sandbox's HTTP tests: the switchable app, the Sandbox handle, assertions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from salesync.sandbox.org import Org
from salesync.sandbox.seed import ADMIN_USERNAME

API = "/services/data/v59.0"


class SwitchableApp:
    """An ASGI app that forwards to whichever sandbox app the current test installed."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self.app(scope, receive, send)


@dataclass
class Sandbox:
    """The org under test, its URL, and HTTP clients for its users."""

    org: Org
    base_url: str
    _clients: list[httpx.Client]

    def client(self, username: str | None = ADMIN_USERNAME, **headers: str) -> httpx.Client:
        """A client; with a username it carries a fresh bearer token for that user."""
        all_headers = dict(headers)
        if username:
            token = self.org.issue_token(username).access_token
            all_headers["Authorization"] = f"Bearer {token}"
        client = httpx.Client(base_url=self.base_url, headers=all_headers, timeout=10)
        self._clients.append(client)
        return client

    def control(self) -> httpx.Client:
        return self.client(None)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The single error of a top-level error array, after checking status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    assert body[0]["errorCode"] == code, body
    entry: dict[str, Any] = body[0]
    return entry
