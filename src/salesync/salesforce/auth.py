"""Bearer auth that refreshes an expired Salesforce session once, as an ``httpx.Auth`` flow.

Salesforce gives no expiry with its tokens, so the only signal is a 401 ``INVALID_SESSION_ID``
(API-FACTS §3). :class:`RefreshingAuth` then refreshes once and resends once; it never loops.
The "not valid for use with the REST API" variant is not refreshable (API-FACTS §2.3). With
refresh-token rotation the new refresh token is saved before the new access token is used
(API-FACTS Pitfalls: Token handling), so a crash never leaves only a dead token on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Protocol

import httpx

from salesync.salesforce import oauth
from salesync.salesforce.errors import AuthenticationError, SessionExpired, error_from_response
from salesync.salesforce.oauth import OAuthClientConfig, TokenSet


class TokenStore(Protocol):
    """Where one connection's tokens live (the store encrypts them at rest)."""

    def load(self) -> TokenSet:
        """The current tokens."""
        ...

    def save(self, token_set: TokenSet) -> None:
        """Persist new tokens; must be durable when it returns."""
        ...


class Refresher(Protocol):
    """Trades a token set for a fresh one (normally :class:`OAuthRefresher`)."""

    def __call__(self, token_set: TokenSet) -> TokenSet: ...


class MemoryTokenStore:
    """Keeps tokens in memory (tests, scripts, the demo)."""

    def __init__(self, token_set: TokenSet) -> None:
        self._lock = threading.Lock()
        self._token_set = token_set

    def load(self) -> TokenSet:
        with self._lock:
            return self._token_set

    def save(self, token_set: TokenSet) -> None:
        with self._lock:
            self._token_set = token_set


class OAuthRefresher:
    """Refreshes through the token endpoint with the refresh_token grant."""

    def __init__(self, config: OAuthClientConfig, http: httpx.Client) -> None:
        self._config = config
        self._http = http

    def __call__(self, token_set: TokenSet) -> TokenSet:
        if not token_set.refresh_token:
            raise AuthenticationError(
                "No refresh token is stored for this connection; connect again.",
                error_code="EXPIRED_ACCESS",
            )
        return oauth.refresh(self._config, token_set.refresh_token, http=self._http)


class RefreshingAuth(httpx.Auth):
    """Adds ``Authorization: Bearer``; on a refreshable 401, refreshes once and resends once."""

    # The 401 body must be read to tell INVALID_SESSION_ID from its unrefreshable variant.
    requires_response_body = True

    def __init__(self, token_store: TokenStore, refresher: Refresher) -> None:
        self._store = token_store
        self._refresher = refresher
        self._lock = threading.Lock()
        #: How many refreshes this auth performed (for metrics and tests).
        self.refreshes = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token_set = self._store.load()
        _authorize(request, token_set)
        response = yield request
        if not _is_refreshable(response):
            return
        fresh = self._refresh_after(token_set)
        _authorize(request, fresh)
        yield request

    def _refresh_after(self, failed: TokenSet) -> TokenSet:
        """Refresh unless another thread already replaced the token that failed."""
        with self._lock:
            current = self._store.load()
            if current.access_token != failed.access_token:
                return current
            fresh = self._refresher(current)
            # Saved before use: with rotation the old refresh token is already dead.
            self._store.save(fresh)
            self.refreshes += 1
            return fresh


def _authorize(request: httpx.Request, token_set: TokenSet) -> None:
    request.headers["Authorization"] = f"Bearer {token_set.access_token}"


def _is_refreshable(response: httpx.Response) -> bool:
    if response.status_code != 401:
        return False
    return isinstance(error_from_response(response), SessionExpired)
