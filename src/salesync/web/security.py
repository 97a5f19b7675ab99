"""Browser sessions, CSRF tokens and protective response headers for the web app."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesync.domain.wording import Translatable

SESSION_COOKIE = "salesync_session"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: The server-side session's token; the database holds only its hash and who it is.
_SESSION_KEY = "sid"
_CSRF_KEY = "csrf"
_FLASH_KEY = "flash"

#: Sent with every HTML page: no inline scripts, no framing, forms post only to us.
PAGE_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
_ALWAYS_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def session_signing_key(secret_key: bytes) -> str:
    """The cookie-signing key: derived, so the signature never reuses the secret box's key."""
    return hmac.new(secret_key, b"salesync-web-session-v1", hashlib.sha256).hexdigest()


class BrowserSession:
    """One browser's signed cookie: its server-side session token, CSRF token, one-time notes.

    Who is signed in is known only from the ``web_sessions`` table: a copied or replayed cookie
    is worthless once its session row is gone. The cookie is signed, not encrypted.
    """

    def __init__(self, data: MutableMapping[str, Any]) -> None:
        self._data = data

    @property
    def session_token(self) -> str | None:
        value = self._data.get(_SESSION_KEY)
        return value if isinstance(value, str) else None

    def csrf_token(self) -> str:
        """The session's CSRF token, created on first use."""
        token = self._data.get(_CSRF_KEY)
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            self._data[_CSRF_KEY] = token
        return token

    def csrf_matches(self, candidate: str | None) -> bool:
        expected = self._data.get(_CSRF_KEY)
        if not isinstance(expected, str) or not candidate:
            return False
        return hmac.compare_digest(expected.encode(), candidate.encode())

    def sign_in(self, session_token: str) -> None:
        """Hold a new session (a new token and CSRF token defeat session fixation)."""
        self._data.clear()
        self._data[_SESSION_KEY] = session_token
        self._data[_CSRF_KEY] = secrets.token_urlsafe(32)

    def sign_out(self) -> None:
        self._data.clear()

    def flash(self, message: str) -> None:
        """Keep a short note to show on the next page (e.g. "Person saved").

        A :class:`Translatable` keeps its id and values, so the next page shows it in the
        reader's language.
        """
        note = message.to_json() if isinstance(message, Translatable) else message
        self._data[_FLASH_KEY] = [*self._data.get(_FLASH_KEY, []), note]

    def pop_flashes(self) -> list[str]:
        if _FLASH_KEY not in self._data:
            return []
        return [
            Translatable.from_json(note) if isinstance(note, dict) else str(note)
            for note in self._data.pop(_FLASH_KEY)
        ]


class SecurityHeadersMiddleware:
    """Adds headers that stop MIME sniffing, framing and leaking URLs to other sites."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, whether announced or streamed.

    A declared ``Content-Length`` over the cap is refused before anything is read; a chunked
    body is counted as it arrives and refused once it passes the cap.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not refused:
                    # Answer now; the app sees a client that went away and its answer is dropped.
                    refused = True
                    if not started:
                        await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        limit = f"the request body is larger than {self.max_bytes} bytes"
        if str(scope.get("path", "")).startswith("/api/"):
            body = json.dumps({"detail": limit}).encode()
            content_type = b"application/json"
        else:
            body = f"413: {limit}\n".encode()
            content_type = b"text/plain; charset=utf-8"
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
