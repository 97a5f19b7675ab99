"""OAuth 2.0 with Salesforce: web-server flow with PKCE, refresh, revoke, identity, password grant.

Endpoints and response shapes follow API-FACTS §3: the token answer has ``access_token``,
``refresh_token`` (only with the ``refresh_token`` scope), ``instance_url``, ``id`` (identity
URL), ``issued_at`` (epoch milliseconds as a string), ``signature`` and ``scope``, and no
``expires_in``: an access token is good until a call answers 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from salesync.domain import error_catalog
from salesync.salesforce.errors import (
    AuthenticationError,
    OtherError,
    error_from_response,
    translate_transport_errors,
)

#: Production login host; sandboxes use ``https://test.salesforce.com`` (msia-rules SBX-1).
PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_LOGIN_URL = "https://test.salesforce.com"

_AUTHORIZE_PATH = "/services/oauth2/authorize"
_TOKEN_PATH = "/services/oauth2/token"
_REVOKE_PATH = "/services/oauth2/revoke"


@dataclass(frozen=True)
class OAuthClientConfig:
    """The connected app salesync signs in through."""

    #: Consumer key.
    client_id: str
    #: Consumer secret; also the key of the token signature.
    client_secret: str = field(repr=False)
    #: ``https://login.salesforce.com``, ``https://test.salesforce.com`` or a My Domain URL.
    login_url: str = PRODUCTION_LOGIN_URL
    #: Where Salesforce sends the browser back with ``code`` and ``state``.
    redirect_uri: str = ""
    #: Requested scopes; ``refresh_token`` is needed to get a refresh token at all.
    scopes: tuple[str, ...] = ("api", "refresh_token")

    def endpoint(self, path: str) -> str:
        return self.login_url.rstrip("/") + path


@dataclass(frozen=True)
class PkcePair:
    """A PKCE verifier (kept server-side) and its S256 challenge (sent in the browser)."""

    verifier: str = field(repr=False)
    challenge: str


@dataclass(frozen=True)
class TokenSet:
    """Tokens and where to use them. ``repr`` never shows a token."""

    access_token: str
    refresh_token: str | None
    #: Base URL for REST calls; always use the one returned (API-FACTS Pitfalls: Token handling).
    instance_url: str
    #: Identity URL ``.../id/{orgId}/{userId}``.
    id_url: str
    issued_at: datetime
    scope: str = ""

    def __repr__(self) -> str:
        return (
            f"TokenSet(instance_url={self.instance_url!r}, id_url={self.id_url!r}, "
            f"issued_at={self.issued_at.isoformat()!r}, scope={self.scope!r}, "
            f"access_token=<hidden>, refresh_token={'<hidden>' if self.refresh_token else None})"
        )

    __str__ = __repr__

    def with_access_token(self, access_token: str) -> TokenSet:
        """A copy with another access token (tests and token stores)."""
        return TokenSet(
            access_token,
            self.refresh_token,
            self.instance_url,
            self.id_url,
            self.issued_at,
            self.scope,
        )

    def to_dict(self) -> dict[str, str | None]:
        """Plain values for a token store (which must encrypt them at rest)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "instance_url": self.instance_url,
            "id_url": self.id_url,
            "issued_at": self.issued_at.isoformat(),
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token") or None,
            instance_url=str(data["instance_url"]),
            id_url=str(data["id_url"]),
            issued_at=datetime.fromisoformat(str(data["issued_at"])),
            scope=str(data.get("scope") or ""),
        )


@dataclass(frozen=True)
class Identity:
    """Who connected: the answer of the identity URL."""

    org_id: str
    user_id: str
    username: str
    email: str
    display_name: str


def new_pkce_pair() -> PkcePair:
    """Make a fresh PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return PkcePair(verifier, challenge)


def new_state() -> str:
    """An unguessable ``state`` value that ties the callback to the browser session."""
    return secrets.token_urlsafe(32)


def authorize_url(
    config: OAuthClientConfig,
    state: str,
    code_challenge: str,
    login_hint: str | None = None,
    prompt: str | None = None,
) -> str:
    """The URL to send the browser to (API-FACTS §3, Authorize).

    Parameters
    ----------
    login_hint:
        Pre-fills the username.
    prompt:
        e.g. ``login`` to force a fresh sign-in, ``consent`` to show the approval again.
    """
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "scope": " ".join(config.scopes),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        params["login_hint"] = login_hint
    if prompt:
        params["prompt"] = prompt
    return config.endpoint(_AUTHORIZE_PATH) + "?" + urllib.parse.urlencode(params)


def exchange_code(
    config: OAuthClientConfig, code: str, code_verifier: str, *, http: httpx.Client
) -> TokenSet:
    """Trade the callback's ``code`` for tokens (authorization_code grant with PKCE)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "redirect_uri": config.redirect_uri,
        "code_verifier": code_verifier,
    }
    return _token_request(config, form, http=http)


def refresh(config: OAuthClientConfig, refresh_token: str, *, http: httpx.Client) -> TokenSet:
    """Get a new access token.

    The answer carries a new refresh token only when the app rotates them; otherwise the old
    one stays valid and is kept in the result (API-FACTS §3, Refresh).

    Raises
    ------
    RefreshTokenRevoked
        Salesforce answered ``invalid_grant``: the rep must connect again.
    """
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "format": "json",
    }
    return _token_request(config, form, http=http, refreshing=True, old_refresh=refresh_token)


def password_login(
    config: OAuthClientConfig,
    username: str,
    password: str,
    *,
    http: httpx.Client,
    security_token: str = "",
) -> TokenSet:
    """Username-password grant, for scripts and benchmarks only (no refresh token)."""
    form = {
        "grant_type": "password",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "username": username,
        "password": password + security_token,
    }
    return _token_request(config, form, http=http)


def revoke(login_or_instance_url: str, token: str, *, http: httpx.Client) -> bool:
    """Revoke a token; revoking a refresh token also revokes its access tokens.

    Returns
    -------
    bool
        True when Salesforce revoked it, False when it answered ``invalid_token`` (the token
        was already dead), which is what a disconnect wants either way.
    """
    url = login_or_instance_url.rstrip("/") + _REVOKE_PATH
    with translate_transport_errors():
        response = http.post(url, data={"token": token})
    if response.status_code == 200:
        return True
    error = error_from_response(response)
    if error.error_code == "INVALID_TOKEN":
        return False
    raise error


def fetch_identity(token_set: TokenSet, *, http: httpx.Client) -> Identity:
    """Read the identity URL to learn the org and user behind the tokens."""
    headers = {"Authorization": f"Bearer {token_set.access_token}", "Accept": "application/json"}
    with translate_transport_errors():
        response = http.get(token_set.id_url, headers=headers)
    if response.status_code != 200:
        raise error_from_response(response)
    body = response.json()
    return Identity(
        org_id=str(body["organization_id"]),
        user_id=str(body["user_id"]),
        username=str(body.get("username") or ""),
        email=str(body.get("email") or ""),
        display_name=str(body.get("display_name") or ""),
    )


def _token_request(
    config: OAuthClientConfig,
    form: dict[str, str],
    *,
    http: httpx.Client,
    refreshing: bool = False,
    old_refresh: str | None = None,
) -> TokenSet:
    with translate_transport_errors():
        response = http.post(
            config.endpoint(_TOKEN_PATH), data=form, headers={"Accept": "application/json"}
        )
    if response.status_code != 200:
        raise error_from_response(response, refreshing=refreshing)
    try:
        body = response.json()
    except ValueError as exc:
        raise OtherError("the token endpoint did not answer JSON", raw=response.text) from exc
    _verify_signature(config, body)
    return _token_set(body, old_refresh)


def signature_for(client_secret: str, id_url: str, issued_at: str) -> str:
    """Base64 HMAC-SHA256 of ``id + issued_at`` keyed by the client secret (API-FACTS §3)."""
    mac = hmac.new(client_secret.encode(), (id_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _verify_signature(config: OAuthClientConfig, body: Mapping[str, Any]) -> None:
    if not config.client_secret:
        return  # a public client has no key to check against
    expected = signature_for(
        config.client_secret, str(body.get("id", "")), str(body.get("issued_at", ""))
    )
    if not hmac.compare_digest(expected, str(body.get("signature", ""))):
        raise AuthenticationError(
            "The token answer's signature does not match the client secret.",
            error_code=error_catalog.TOKEN_SIGNATURE_MISMATCH,
        )


def _token_set(body: Mapping[str, Any], old_refresh: str | None) -> TokenSet:
    try:
        issued_ms = int(str(body["issued_at"]))
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token") or old_refresh,
            instance_url=str(body["instance_url"]).rstrip("/"),
            id_url=str(body["id"]),
            issued_at=datetime.fromtimestamp(issued_ms / 1000, tz=UTC),
            scope=str(body.get("scope") or ""),
        )
    except (KeyError, ValueError) as exc:
        raise OtherError(f"the token answer lacks or garbles {exc}") from exc
