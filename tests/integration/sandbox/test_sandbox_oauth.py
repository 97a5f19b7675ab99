"""OAuth: authorize with consent or unattended, PKCE, grants, rotation, revoke (API-FACTS §3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from salesync.sandbox.seed import ADMIN_USERNAME, PASSWORD
from tests.integration.sandbox.sandbox_support import API, Sandbox

CALLBACK = "http://localhost:8000/oauth/callback"
AUTHORIZE = "/services/oauth2/authorize"
TOKEN = "/services/oauth2/token"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(**extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "salesync",
        "redirect_uri": CALLBACK,
        "state": "xyz",
        **extra,
    }


def callback_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def unattended_code(client: httpx.Client, username: str = ADMIN_USERNAME, **extra: str) -> str:
    params = authorize_params(login_hint=username, prompt="none", **extra)
    query = callback_query(client.get(AUTHORIZE, params=params))
    assert query["state"] == "xyz"
    return query["code"]


def exchange(client: httpx.Client, code: str, **extra: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "salesync",
        "client_secret": "salesync-secret",
        "redirect_uri": CALLBACK,
        **extra,
    }
    return client.post(TOKEN, data=form)


def oauth_error(response: httpx.Response, error: str) -> str:
    assert response.status_code == 400, response.text
    body: dict[str, str] = response.json()
    assert body["error"] == error, body
    return body["error_description"]


@pytest.fixture
def web(sandbox: Sandbox) -> httpx.Client:
    return sandbox.control()


def test_consent_page_then_allow_redirects_with_code_and_state(
    sandbox: Sandbox, web: httpx.Client
) -> None:
    page = web.get(AUTHORIZE, params=authorize_params())
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert ADMIN_USERNAME in page.text and 'value="allow"' in page.text
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    form = {**hidden, "user_id": sandbox.org.admin_user_id, "decision": "allow"}
    query = callback_query(web.post(AUTHORIZE, data=form))
    assert query["state"] == "xyz" and query["code"]
    assert exchange(web, query["code"]).status_code == 200


def test_deny_redirects_with_access_denied(sandbox: Sandbox, web: httpx.Client) -> None:
    form = {**authorize_params(), "user_id": sandbox.org.admin_user_id, "decision": "deny"}
    query = callback_query(web.post(AUTHORIZE, data=form))
    assert query["error"] == "access_denied"


def test_prompt_none_without_a_known_user_is_login_required(web: httpx.Client) -> None:
    params = authorize_params(prompt="none", login_hint="nobody@example.test")
    assert callback_query(web.get(AUTHORIZE, params=params))["error"] == "login_required"


def test_unknown_client_and_unregistered_callback_are_not_redirected(web: httpx.Client) -> None:
    unknown = web.get(AUTHORIZE, params=authorize_params(client_id="nope"))
    assert unknown.status_code == 400 and "invalid_client_id" in unknown.text
    elsewhere = web.get(AUTHORIZE, params=authorize_params(redirect_uri="https://evil.test/cb"))
    assert elsewhere.status_code == 400 and "redirect_uri_mismatch" in elsewhere.text


def test_token_response_shape_and_signature(sandbox: Sandbox, web: httpx.Client) -> None:
    body: dict[str, Any] = exchange(web, unattended_code(web)).json()
    assert set(body) == {
        "access_token", "refresh_token", "signature", "scope", "instance_url", "id",
        "token_type", "issued_at",
    }  # fmt: skip
    assert "expires_in" not in body and body["token_type"] == "Bearer"
    assert body["instance_url"] == sandbox.base_url
    assert body["id"] == f"{sandbox.base_url}/id/{sandbox.org.org_id}/{sandbox.org.admin_user_id}"
    assert body["issued_at"].isdigit() and len(body["issued_at"]) == 13
    expected = hmac.new(
        b"salesync-secret", (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(body["signature"]) == expected
    api = httpx.get(
        f"{body['instance_url']}{API}/limits",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert api.status_code == 200


def test_codes_are_single_use_and_need_the_same_redirect_uri(web: httpx.Client) -> None:
    code = unattended_code(web)
    mismatch = exchange(web, code, redirect_uri="http://localhost:9/other")
    assert oauth_error(mismatch, "redirect_uri_mismatch")
    assert oauth_error(exchange(web, code), "invalid_grant")


def test_pkce_verifier_is_checked(web: httpx.Client) -> None:
    verifier, challenge = pkce_pair()
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
    good = exchange(web, unattended_code(web, **extra), code_verifier=verifier)
    assert good.status_code == 200
    wrong = exchange(web, unattended_code(web, **extra), code_verifier="not-the-verifier")
    oauth_error(wrong, "invalid_request")
    missing = exchange(web, unattended_code(web, **extra))
    oauth_error(missing, "invalid_grant")


def test_scope_without_refresh_token_issues_none(web: httpx.Client) -> None:
    body = exchange(web, unattended_code(web, scope="api")).json()
    assert "refresh_token" not in body and body["scope"] == "api"


def refresh(client: httpx.Client, token: str, client_id: str = "salesync") -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
    return client.post(TOKEN, data=form)


def test_refresh_grant_returns_a_new_access_token_only(web: httpx.Client) -> None:
    first = exchange(web, unattended_code(web)).json()
    renewed = refresh(web, first["refresh_token"])
    assert renewed.status_code == 200
    body = renewed.json()
    assert body["access_token"] != first["access_token"] and "refresh_token" not in body
    assert refresh(web, first["refresh_token"]).status_code == 200


def test_revoked_or_unknown_refresh_token_is_invalid_grant(web: httpx.Client) -> None:
    tokens = exchange(web, unattended_code(web)).json()
    assert (
        web.post("/services/oauth2/revoke", data={"token": tokens["refresh_token"]}).status_code
        == 200
    )
    description = oauth_error(refresh(web, tokens["refresh_token"]), "invalid_grant")
    assert description == "expired access/refresh token"
    session = httpx.get(
        f"{tokens['instance_url']}{API}/limits",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert session.status_code == 401  # revoking a refresh token ends its sessions
    oauth_error(refresh(web, "5Aep861unknown"), "invalid_grant")
    unknown = web.post("/services/oauth2/revoke", data={"token": "nope"})
    assert oauth_error(unknown, "invalid_token")


def test_rotation_replaces_the_refresh_token(sandbox: Sandbox, web: httpx.Client) -> None:
    web.patch("/__sandbox__/connected-apps/salesync", json={"rotateRefreshTokens": True})
    old = exchange(web, unattended_code(web)).json()["refresh_token"]
    rotated = refresh(web, old).json()
    assert rotated["refresh_token"] != old
    oauth_error(refresh(web, old), "invalid_grant")
    assert refresh(web, rotated["refresh_token"]).status_code == 200


def test_control_plane_revokes_a_users_refresh_tokens(web: httpx.Client) -> None:
    tokens = exchange(web, unattended_code(web)).json()
    revoked = web.post(f"/__sandbox__/users/{ADMIN_USERNAME}/revoke-refresh-tokens").json()
    assert revoked == {"revoked": 1}
    oauth_error(refresh(web, tokens["refresh_token"]), "invalid_grant")


def test_inactive_user_and_inactive_org(sandbox: Sandbox, web: httpx.Client) -> None:
    tokens = exchange(web, unattended_code(web)).json()
    web.put(f"/__sandbox__/users/{ADMIN_USERNAME}/permissions", json={"active": False})
    assert oauth_error(refresh(web, tokens["refresh_token"]), "invalid_grant") == "inactive user"
    web.put(f"/__sandbox__/users/{ADMIN_USERNAME}/permissions", json={"active": True})
    web.put("/__sandbox__/org", json={"active": False})
    description = oauth_error(refresh(web, tokens["refresh_token"]), "invalid_grant")
    assert description == "inactive organization"


def test_password_grant(sandbox: Sandbox, web: httpx.Client) -> None:
    form = {
        "grant_type": "password",
        "client_id": "salesync",
        "client_secret": "salesync-secret",
        "username": ADMIN_USERNAME,
        "password": PASSWORD,
    }
    body = web.post(TOKEN, data=form).json()
    assert body["instance_url"] == sandbox.base_url and "refresh_token" not in body
    wrong = web.post(TOKEN, data={**form, "password": "nope"})
    assert oauth_error(wrong, "invalid_grant") == "authentication failure"
    bad_secret = web.post(TOKEN, data={**form, "client_secret": "nope"})
    oauth_error(bad_secret, "invalid_client")


def test_client_credentials_with_basic_auth(sandbox: Sandbox, web: httpx.Client) -> None:
    response = web.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=("salesync", "salesync-secret")
    )
    assert response.status_code == 200
    assert response.json()["id"].endswith(sandbox.org.admin_user_id)


def test_unknown_client_and_grant_type(web: httpx.Client) -> None:
    oauth_error(
        web.post(TOKEN, data={"grant_type": "password", "client_id": "nope"}), "invalid_client_id"
    )
    oauth_error(web.post(TOKEN, data={"grant_type": "magic"}), "unsupported_grant_type")


def test_identity_url_and_userinfo(sandbox: Sandbox, web: httpx.Client) -> None:
    tokens = exchange(web, unattended_code(web)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    identity = httpx.get(tokens["id"], headers=auth).json()
    assert identity["user_id"] == sandbox.org.admin_user_id
    assert identity["organization_id"] == sandbox.org.org_id
    assert identity["username"] == ADMIN_USERNAME
    assert identity["email"] == "admin@salesync.test" and identity["display_name"] == "Ada Admin"
    assert identity["urls"]["rest"] == f"{sandbox.base_url}/services/data/v{{version}}/"
    userinfo = web.get("/services/oauth2/userinfo", headers=auth).json()
    assert userinfo["preferred_username"] == ADMIN_USERNAME
    bad = web.get("/services/oauth2/userinfo", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 403 and bad.text == "Bad_OAuth_Token"
