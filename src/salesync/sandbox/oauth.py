"""OAuth 2.0 endpoints: authorize (with PKCE), token grants and revoke (API-FACTS §3).

Unattended approval: ``GET /services/oauth2/authorize?...&login_hint=<username>&prompt=none``
redirects straight back with a code for that user, so an HTTP client can follow redirects.
Without a usable login_hint, ``prompt=none`` redirects with ``error=login_required``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from salesync.sandbox import oauth_jwt, oauth_pages
from salesync.sandbox.errors import OAuthError
from salesync.sandbox.http import (
    ApiRequest,
    ApiResponse,
    Router,
    html_response,
    json_response,
    oauth_error_response,
    redirect,
)
from salesync.sandbox.org import Org
from salesync.sandbox.tokens import AccessToken, ConnectedApp, RefreshToken

CODE_LIFETIME = timedelta(minutes=15)
_EXPIRED_GRANT = ("invalid_grant", "expired access/refresh token")


@dataclass
class OAuthCall:
    org: Org
    request: ApiRequest


class AuthorizeFailure(Exception):
    """An authorize error sent back to the client's redirect_uri."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def register(router: Router[OAuthCall]) -> None:
    router.add("GET", r"/services/oauth2/authorize", get_authorize)
    router.add("POST", r"/services/oauth2/authorize", post_authorize)
    router.add("POST", r"/services/oauth2/token", post_token)
    router.add("GET POST", r"/services/oauth2/revoke", revoke)


# authorize


def _client_and_callback(call: OAuthCall, params: dict[str, str]) -> ConnectedApp:
    app = call.org.tokens.apps.get(params.get("client_id", ""))
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not app.accepts_callback(params.get("redirect_uri", "")):
        raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
    return app


def _back_to_client(params: dict[str, str], values: dict[str, str]) -> ApiResponse:
    if params.get("state"):
        values["state"] = params["state"]
    separator = "&" if "?" in params["redirect_uri"] else "?"
    return redirect(params["redirect_uri"] + separator + urlencode(values))


def get_authorize(call: OAuthCall, _: dict[str, str]) -> ApiResponse:
    params = call.request.query
    try:
        app = _client_and_callback(call, params)
    except OAuthError as exc:
        return html_response(400, oauth_pages.error_page(exc.error, exc.description))
    try:
        _granted_scope(app, params)
        _check_request(params)
        if params.get("prompt") == "none":
            return _unattended(call, app, params)
    except AuthorizeFailure as exc:
        return _back_to_client(params, {"error": exc.error, "error_description": exc.description})
    users = [u for u in call.org.records.rows("User") if u["IsActive"]]
    keys = (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    )
    hidden = {k: params[k] for k in keys if k in params}
    page = oauth_pages.consent_page(
        app.name or app.client_id, users, hidden, params.get("login_hint")
    )
    return html_response(200, page)


def _check_request(params: dict[str, str]) -> None:
    if params.get("response_type") != "code":
        raise AuthorizeFailure("unsupported_response_type", "response type not supported")
    method = params.get("code_challenge_method")
    if params.get("code_challenge") and method not in (None, "S256"):
        raise AuthorizeFailure("invalid_request", "code_challenge_method must be S256")


def _unattended(call: OAuthCall, app: ConnectedApp, params: dict[str, str]) -> ApiResponse:
    user = call.org.user_by_username(params.get("login_hint", ""))
    if user is None or not user["IsActive"]:
        raise AuthorizeFailure("login_required", "user is not logged in")
    return _issue_code(call, app, params, str(user["Id"]))


def post_authorize(call: OAuthCall, _: dict[str, str]) -> ApiResponse:
    params = call.request.form()
    try:
        app = _client_and_callback(call, params)
    except OAuthError as exc:
        return html_response(400, oauth_pages.error_page(exc.error, exc.description))
    try:
        _check_request(params)
        if params.get("decision") != "allow":
            raise AuthorizeFailure("access_denied", "end-user denied authorization")
        user = call.org.user(params.get("user_id", ""))
        if user is None or not user["IsActive"]:
            raise AuthorizeFailure("access_denied", "no active user chosen")
        return _issue_code(call, app, params, str(user["Id"]))
    except AuthorizeFailure as exc:
        return _back_to_client(params, {"error": exc.error, "error_description": exc.description})


def _issue_code(
    call: OAuthCall, app: ConnectedApp, params: dict[str, str], user_id: str
) -> ApiResponse:
    with call.org.batch():
        code = call.org.tokens.new_code(
            client_id=app.client_id,
            user_id=user_id,
            redirect_uri=params["redirect_uri"],
            scope=_granted_scope(app, params),
            expires_at=call.org.clock.now() + CODE_LIFETIME,
            code_challenge=params.get("code_challenge") or None,
            code_challenge_method=params.get("code_challenge_method") or None,
        )
    return _back_to_client(params, {"code": code.code})


def _granted_scope(app: ConnectedApp, params: dict[str, str]) -> tuple[str, ...]:
    requested = params.get("scope", "").split()
    if not requested or "full" in requested:
        return app.scopes
    refused = [s for s in requested if s not in app.scopes]
    if refused:
        raise AuthorizeFailure("invalid_scope", "the requested scope is not allowed")
    return tuple(dict.fromkeys(requested))


# token


def post_token(call: OAuthCall, _: dict[str, str]) -> ApiResponse:
    params = call.request.form()
    _basic_credentials(call.request, params)
    grants = {
        "authorization_code": _grant_code,
        "refresh_token": _grant_refresh,
        "password": _grant_password,
        "client_credentials": _grant_client_credentials,
        oauth_jwt.GRANT_TYPE: _grant_jwt_bearer,
    }
    grant = grants.get(params.get("grant_type", ""))
    try:
        if grant is None:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        with call.org.batch():
            return grant(call, params)
    except OAuthError as exc:
        return oauth_error_response(exc)


def _basic_credentials(request: ApiRequest, params: dict[str, str]) -> None:
    """Client id and secret may come as HTTP Basic credentials (client credentials flow)."""
    header = request.header("authorization") or ""
    if header.lower().startswith("basic "):
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8", "replace")
        client_id, _, secret = decoded.partition(":")
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", secret)


def _app(call: OAuthCall, params: dict[str, str], *, secret_required: bool) -> ConnectedApp:
    app = call.org.tokens.apps.get(params.get("client_id", ""))
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    secret = params.get("client_secret")
    if (secret is None and secret_required) or (
        secret is not None and not hmac.compare_digest(secret, app.client_secret)
    ):
        raise OAuthError("invalid_client", "invalid client credentials")
    return app


def _check_user_and_org(call: OAuthCall, user_id: str) -> None:
    if not call.org.settings.active:
        raise OAuthError("invalid_grant", "inactive organization")
    user = call.org.user(user_id)
    if user is None or not user["IsActive"]:
        raise OAuthError("invalid_grant", "inactive user")


def _grant_code(call: OAuthCall, params: dict[str, str]) -> ApiResponse:
    provisional = call.org.tokens.apps.get(params.get("client_id", ""))
    app = _app(call, params, secret_required=provisional is not None and provisional.require_secret)
    code = call.org.tokens.take_code(params.get("code", ""), call.org.clock.now())
    if code is None or code.client_id != app.client_id:
        raise OAuthError("invalid_grant", "invalid authorization code")
    if params.get("redirect_uri") != code.redirect_uri:
        raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
    _check_pkce(code.code_challenge, params.get("code_verifier"))
    _check_user_and_org(call, code.user_id)
    refresh = None
    if "refresh_token" in code.scope or "offline_access" in code.scope:
        refresh = call.org.tokens.new_refresh(code.user_id, app.client_id, code.scope)
    access = call.org.new_access_token(
        code.user_id, app.client_id, code.scope, refresh.token if refresh else None
    )
    return _token_response(call, app, access, refresh)


def _check_pkce(challenge: str | None, verifier: str | None) -> None:
    """API-FACTS §3: a challenge without verifier is invalid_grant, a mismatch invalid_request."""
    if challenge is None:
        return
    if not verifier:
        raise OAuthError("invalid_grant", "invalid code verifier")
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if not hmac.compare_digest(expected, challenge):
        raise OAuthError("invalid_request", "invalid code verifier")


def _grant_refresh(call: OAuthCall, params: dict[str, str]) -> ApiResponse:
    app = _app(call, params, secret_required=False)
    refresh = call.org.tokens.refresh.get(params.get("refresh_token", ""))
    if refresh is None or refresh.revoked or refresh.client_id != app.client_id:
        raise OAuthError(*_EXPIRED_GRANT)
    _check_user_and_org(call, refresh.user_id)
    new_refresh = None
    if app.rotate_refresh_tokens:
        # Rotation: a new refresh token each time; the old one stops working (API-FACTS §3).
        call.org.tokens.retire_refresh(refresh.token)
        new_refresh = call.org.tokens.new_refresh(refresh.user_id, app.client_id, refresh.scope)
    current = new_refresh or refresh
    access = call.org.new_access_token(refresh.user_id, app.client_id, refresh.scope, current.token)
    return _token_response(call, app, access, new_refresh)


def _grant_password(call: OAuthCall, params: dict[str, str]) -> ApiResponse:
    app = _app(call, params, secret_required=True)
    user = call.org.user_by_username(params.get("username", ""))
    password = params.get("password", "")
    if user is None or not secrets.compare_digest(
        call.org.access_of(str(user["Id"])).password, password
    ):
        raise OAuthError("invalid_grant", "authentication failure")
    _check_user_and_org(call, str(user["Id"]))
    scope = tuple(s for s in app.scopes if s != "refresh_token")
    access = call.org.new_access_token(str(user["Id"]), app.client_id, scope, None)
    return _token_response(call, app, access, None)


def _grant_client_credentials(call: OAuthCall, params: dict[str, str]) -> ApiResponse:
    app = _app(call, params, secret_required=True)
    user = call.org.user_by_username(app.run_as_username or "")
    if user is None:
        raise OAuthError("invalid_grant", "no client credentials user enabled")
    _check_user_and_org(call, str(user["Id"]))
    scope = tuple(s for s in app.scopes if s != "refresh_token")
    access = call.org.new_access_token(str(user["Id"]), app.client_id, scope, None)
    return _token_response(call, app, access, None)


def _grant_jwt_bearer(call: OAuthCall, params: dict[str, str]) -> ApiResponse:
    app, username = oauth_jwt.verify_assertion(
        params.get("assertion", ""),
        call.org.tokens.apps.get,
        now=call.org.clock.now(),
        own_audience=call.request.base_url,
    )
    user = call.org.user_by_username(username)
    if user is None:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    _check_user_and_org(call, str(user["Id"]))
    # API-FACTS §3: the JWT bearer flow issues no refresh token; mint a new assertion instead.
    scope = tuple(s for s in app.scopes if s != "refresh_token")
    access = call.org.new_access_token(str(user["Id"]), app.client_id, scope, None)
    return _token_response(call, app, access, None)


def identity_url(call: OAuthCall, user_id: str) -> str:
    return f"{call.request.base_url}/id/{call.org.org_id}/{user_id}"


def _token_response(
    call: OAuthCall, app: ConnectedApp, access: AccessToken, refresh: RefreshToken | None
) -> ApiResponse:
    """API-FACTS §3: issued_at in ms as a string, an HMAC signature, and no expires_in."""
    issued_at = str(int(call.org.clock.now().timestamp() * 1000))
    id_url = identity_url(call, access.user_id)
    mac = hmac.new(app.client_secret.encode(), (id_url + issued_at).encode(), hashlib.sha256)
    body = {
        "access_token": access.token,
        "signature": base64.b64encode(mac.digest()).decode(),
        "scope": " ".join(access.scope),
        "instance_url": call.request.base_url,
        "id": id_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }
    if refresh is not None:
        body["refresh_token"] = refresh.token
    return json_response(200, body)


# revoke


def revoke(call: OAuthCall, _: dict[str, str]) -> ApiResponse:
    token = call.request.form().get("token", "")
    with call.org.batch():
        # Revoking a refresh token also ends the sessions it minted (API-FACTS §3).
        if call.org.tokens.revoke_refresh(token) or call.org.tokens.revoke_access(token):
            return json_response(200, None)
    return oauth_error_response(OAuthError("invalid_token", "invalid token"))
