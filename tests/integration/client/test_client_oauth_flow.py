"""OAuth against the sandbox over HTTP: redirect flow, refresh on expiry, rotation, revocation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from salesync.salesforce import oauth
from salesync.salesforce.auth import MemoryTokenStore, OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.errors import (
    AuthenticationError,
    OtherError,
    RefreshTokenRevoked,
    RevocationReason,
)
from salesync.salesforce.oauth import OAuthClientConfig, TokenSet
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import serve_in_thread

ADMIN = "admin@sandbox.salesync.test"


@dataclass
class Callback:
    """The app's redirect target: remembers the query of every visit."""

    url: str
    visits: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Sandbox:
    org: Org
    url: str
    callback: Callback
    http: httpx.Client

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox__{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def config(
        self, client_id: str = "salesync", secret: str = "salesync-secret"
    ) -> OAuthClientConfig:
        return OAuthClientConfig(
            client_id, secret, login_url=self.url, redirect_uri=self.callback.url
        )


def callback_app(callback: Callback) -> Starlette:
    async def receive(request: Request) -> PlainTextResponse:
        callback.visits.append(dict(request.query_params))
        return PlainTextResponse("connected")

    return Starlette(routes=[Route("/salesforce/callback", receive)])


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    org = Org("empty")
    callback = Callback("")
    with (
        serve_in_thread(create_sandbox_app(org)) as server,
        serve_in_thread(callback_app(callback)) as app,
    ):
        callback.url = f"{app.base_url}/salesforce/callback"
        with httpx.Client(timeout=10) as http:
            yield Sandbox(org, server.base_url, callback, http)


def connect(sandbox: Sandbox, config: OAuthClientConfig, username: str = ADMIN) -> TokenSet:
    """The whole web-server flow, with the browser played by httpx following redirects."""
    pkce, state = oauth.new_pkce_pair(), oauth.new_state()
    url = oauth.authorize_url(config, state, pkce.challenge, login_hint=username, prompt="none")
    landing = sandbox.http.get(url, follow_redirects=True)
    assert landing.status_code == 200 and landing.text == "connected"
    visit = sandbox.callback.visits[-1]
    assert visit["state"] == state
    return oauth.exchange_code(config, visit["code"], pkce.verifier, http=sandbox.http)


def client_for(
    sandbox: Sandbox, tokens: TokenSet, config: OAuthClientConfig
) -> tuple[SalesforceClient, MemoryTokenStore, RefreshingAuth]:
    store = MemoryTokenStore(tokens)
    auth = RefreshingAuth(store, OAuthRefresher(config, sandbox.http))
    return SalesforceClient(tokens.instance_url, auth, http=sandbox.http), store, auth


def test_full_redirect_flow_gives_working_tokens_and_the_identity(sandbox: Sandbox) -> None:
    config = sandbox.config()
    tokens = connect(sandbox, config)
    assert tokens.instance_url == sandbox.url
    assert tokens.refresh_token
    assert "refresh_token" in tokens.scope.split()
    identity = oauth.fetch_identity(tokens, http=sandbox.http)
    assert identity.username == ADMIN
    assert identity.org_id == sandbox.org.org_id
    assert identity.user_id == sandbox.org.user_id(ADMIN)
    client, _, _ = client_for(sandbox, tokens, config)
    assert client.limits()["DailyApiRequests"].max > 0


def test_a_code_is_single_use(sandbox: Sandbox) -> None:
    config = sandbox.config()
    connect(sandbox, config)
    code = sandbox.callback.visits[-1]["code"]
    with pytest.raises(AuthenticationError) as caught:
        oauth.exchange_code(
            config, code, "any-verifier-any-verifier-any-verifier-12345", http=sandbox.http
        )
    assert "invalid authorization code" in caught.value.message


def test_a_wrong_pkce_verifier_is_refused(sandbox: Sandbox) -> None:
    config = sandbox.config()
    pkce, state = oauth.new_pkce_pair(), oauth.new_state()
    url = oauth.authorize_url(config, state, pkce.challenge, login_hint=ADMIN, prompt="none")
    sandbox.http.get(url, follow_redirects=True)
    code = sandbox.callback.visits[-1]["code"]
    with pytest.raises(OtherError) as caught:
        oauth.exchange_code(config, code, oauth.new_pkce_pair().verifier, http=sandbox.http)
    assert caught.value.error_code == "INVALID_REQUEST"


def test_a_wrong_client_secret_is_an_authentication_error(sandbox: Sandbox) -> None:
    with pytest.raises(AuthenticationError) as caught:
        connect(sandbox, sandbox.config("salesync", "guessed-secret"))
    assert caught.value.error_code == "INVALID_CLIENT"
    assert "client secret" in caught.value.diagnostic.fix


def test_an_expired_session_is_refreshed_once_and_the_call_succeeds(sandbox: Sandbox) -> None:
    config = sandbox.config()
    tokens = connect(sandbox, config)
    client, store, auth = client_for(sandbox, tokens, config)
    client.limits()
    assert sandbox.control("POST", "/tokens/expire", {"username": ADMIN})["expired"] >= 1
    assert client.limits()["DailyApiRequests"].max > 0
    assert auth.refreshes == 1
    assert store.load().access_token != tokens.access_token
    assert store.load().refresh_token == tokens.refresh_token  # no rotation on this app


def test_a_rotated_refresh_token_is_stored_and_the_old_one_dies(sandbox: Sandbox) -> None:
    sandbox.control(
        "POST",
        "/connected-apps",
        {
            "clientId": "rotating",
            "clientSecret": "rotating-secret",
            "name": "Rotating",
            "allowAnyLocalhost": True,
            "rotateRefreshTokens": True,
        },
    )
    config = sandbox.config("rotating", "rotating-secret")
    tokens = connect(sandbox, config)
    client, store, _ = client_for(sandbox, tokens, config)
    sandbox.control("POST", "/tokens/expire", {"username": ADMIN})
    client.limits()
    rotated = store.load()
    assert rotated.refresh_token and rotated.refresh_token != tokens.refresh_token
    assert tokens.refresh_token
    with pytest.raises(RefreshTokenRevoked):
        oauth.refresh(config, tokens.refresh_token, http=sandbox.http)
    sandbox.control("POST", "/tokens/expire", {"username": ADMIN})
    client.limits()  # the stored, rotated token keeps working
    assert store.load().refresh_token != rotated.refresh_token


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [
        (
            lambda s: s.control("POST", f"/users/{ADMIN}/revoke-refresh-tokens"),
            RevocationReason.EXPIRED,
        ),
        (
            lambda s: s.control("PUT", f"/users/{ADMIN}/permissions", {"active": False}),
            RevocationReason.INACTIVE_USER,
        ),
        (lambda s: s.control("PUT", "/org", {"active": False}), RevocationReason.INACTIVE_ORG),
    ],
)
def test_a_dead_refresh_token_raises_refresh_token_revoked_with_the_reason(
    sandbox: Sandbox, break_it: Any, reason: RevocationReason
) -> None:
    config = sandbox.config()
    tokens = connect(sandbox, config)
    client, store, _ = client_for(sandbox, tokens, config)
    break_it(sandbox)
    with pytest.raises(RefreshTokenRevoked) as caught:
        client.limits()
    assert caught.value.reason is reason
    assert store.load() == tokens


def test_revoke_ends_the_refresh_token_and_its_sessions(sandbox: Sandbox) -> None:
    config = sandbox.config()
    tokens = connect(sandbox, config)
    assert tokens.refresh_token
    client, _, _ = client_for(sandbox, tokens, config)
    assert oauth.revoke(tokens.instance_url, tokens.refresh_token, http=sandbox.http) is True
    assert oauth.revoke(tokens.instance_url, tokens.refresh_token, http=sandbox.http) is False
    with pytest.raises(RefreshTokenRevoked):
        client.limits()


def test_password_grant_for_scripts(sandbox: Sandbox) -> None:
    tokens = oauth.password_login(sandbox.config(), ADMIN, "sandbox", http=sandbox.http)
    identity = oauth.fetch_identity(tokens, http=sandbox.http)
    assert identity.username == ADMIN
    with pytest.raises(AuthenticationError):
        oauth.password_login(sandbox.config(), ADMIN, "wrong", http=sandbox.http)
