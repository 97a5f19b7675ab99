"""OAuth helpers against a fake token endpoint that answers the documented shapes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from salesync.salesforce import oauth
from salesync.salesforce.errors import (
    AuthenticationError,
    NetworkError,
    OtherError,
    RefreshTokenRevoked,
    RevocationReason,
    SessionExpired,
)
from salesync.salesforce.oauth import OAuthClientConfig, TokenSet

LOGIN = "https://login.example.com"
INSTANCE = "https://acme.my.example.com"
ID_URL = f"{LOGIN}/id/00D000000000001EAA/005000000000001AAA"
CONFIG = OAuthClientConfig(
    client_id="consumer-key",
    client_secret="consumer-secret",
    login_url=LOGIN,
    redirect_uri="https://salesync.example.com/oauth/callback",
)


def signed(body: dict[str, str], secret: str = "consumer-secret") -> dict[str, str]:
    # Written from API-FACTS §3, not from the code under test.
    mac = hmac.new(secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256)
    return {**body, "signature": base64.b64encode(mac.digest()).decode()}


def token_body(access: str = "AT-1", refresh: str | None = "RT-1") -> dict[str, str]:
    body = {
        "access_token": access,
        "instance_url": INSTANCE,
        "id": ID_URL,
        "token_type": "Bearer",
        "issued_at": "1704067200000",
        "scope": "api refresh_token",
    }
    if refresh:
        body["refresh_token"] = refresh
    return signed(body)


class TokenEndpoint:
    """Records forms posted to /services/oauth2/token and answers with ``respond``."""

    def __init__(self, respond: Callable[[dict[str, str]], httpx.Response]) -> None:
        self.forms: list[dict[str, str]] = []
        self.respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url == LOGIN + "/services/oauth2/token"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = dict(urllib.parse.parse_qsl(request.content.decode()))
        self.forms.append(form)
        return self.respond(form)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def test_pkce_pair_is_s256_of_the_verifier() -> None:
    pair = oauth.new_pkce_pair()
    digest = hashlib.sha256(pair.verifier.encode()).digest()
    assert pair.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(pair.verifier) <= 128
    assert oauth.new_pkce_pair().verifier != pair.verifier
    assert pair.verifier not in repr(pair)


def test_authorize_url_carries_every_parameter() -> None:
    url = oauth.authorize_url(
        CONFIG, "state-1", "challenge-1", login_hint="rep@acme.com", prompt="login"
    )
    parsed = urllib.parse.urlsplit(url)
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == LOGIN + "/services/oauth2/authorize"
    assert dict(urllib.parse.parse_qsl(parsed.query)) == {
        "response_type": "code",
        "client_id": "consumer-key",
        "redirect_uri": "https://salesync.example.com/oauth/callback",
        "scope": "api refresh_token",
        "state": "state-1",
        "code_challenge": "challenge-1",
        "code_challenge_method": "S256",
        "login_hint": "rep@acme.com",
        "prompt": "login",
    }


def test_authorize_url_leaves_out_unset_options() -> None:
    query = urllib.parse.urlsplit(oauth.authorize_url(CONFIG, "s", "c")).query
    assert "login_hint" not in query and "prompt" not in query


def test_exchange_code_posts_the_verifier_and_reads_the_token_answer() -> None:
    endpoint = TokenEndpoint(lambda form: httpx.Response(200, json=token_body()))
    with endpoint.client() as http:
        tokens = oauth.exchange_code(CONFIG, "the-code", "the-verifier", http=http)
    assert endpoint.forms == [
        {
            "grant_type": "authorization_code",
            "code": "the-code",
            "client_id": "consumer-key",
            "client_secret": "consumer-secret",
            "redirect_uri": "https://salesync.example.com/oauth/callback",
            "code_verifier": "the-verifier",
        }
    ]
    assert tokens.access_token == "AT-1"
    assert tokens.refresh_token == "RT-1"
    assert tokens.instance_url == INSTANCE
    assert tokens.id_url == ID_URL
    assert tokens.issued_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert tokens.scope == "api refresh_token"


def test_a_token_answer_with_a_wrong_signature_is_refused() -> None:
    forged = {**token_body(), "signature": signed(token_body(), "another-secret")["signature"]}
    endpoint = TokenEndpoint(lambda form: httpx.Response(200, json=forged))
    with endpoint.client() as http, pytest.raises(AuthenticationError) as caught:
        oauth.exchange_code(CONFIG, "code", "verifier", http=http)
    assert caught.value.error_code == "TOKEN_SIGNATURE_MISMATCH"


def test_a_token_answer_with_a_tampered_id_is_refused() -> None:
    tampered = {**token_body(), "id": f"{LOGIN}/id/00D000000000002EAA/005000000000009AAA"}
    endpoint = TokenEndpoint(lambda form: httpx.Response(200, json=tampered))
    with endpoint.client() as http, pytest.raises(AuthenticationError):
        oauth.exchange_code(CONFIG, "code", "verifier", http=http)


def test_a_token_answer_missing_fields_is_an_other_error() -> None:
    body = signed({"id": ID_URL, "issued_at": "1704067200000"})
    endpoint = TokenEndpoint(lambda form: httpx.Response(200, json=body))
    with endpoint.client() as http, pytest.raises(OtherError):
        oauth.exchange_code(CONFIG, "code", "verifier", http=http)


def test_refresh_without_rotation_keeps_the_old_refresh_token() -> None:
    endpoint = TokenEndpoint(lambda form: httpx.Response(200, json=token_body("AT-2", None)))
    with endpoint.client() as http:
        tokens = oauth.refresh(CONFIG, "RT-1", http=http)
    assert endpoint.forms[0]["grant_type"] == "refresh_token"
    assert endpoint.forms[0]["refresh_token"] == "RT-1"
    assert (tokens.access_token, tokens.refresh_token) == ("AT-2", "RT-1")


def test_refresh_with_rotation_returns_the_new_refresh_token() -> None:
    endpoint = TokenEndpoint(lambda form: httpx.Response(200, json=token_body("AT-2", "RT-2")))
    with endpoint.client() as http:
        tokens = oauth.refresh(CONFIG, "RT-1", http=http)
    assert (tokens.access_token, tokens.refresh_token) == ("AT-2", "RT-2")


def test_refresh_answered_invalid_grant_raises_refresh_token_revoked() -> None:
    body = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    endpoint = TokenEndpoint(lambda form: httpx.Response(400, json=body))
    with endpoint.client() as http, pytest.raises(RefreshTokenRevoked) as caught:
        oauth.refresh(CONFIG, "RT-dead", http=http)
    assert caught.value.reason is RevocationReason.EXPIRED
    assert caught.value.status == 400


def test_password_login_appends_the_security_token() -> None:
    endpoint = TokenEndpoint(lambda form: httpx.Response(200, json=token_body(refresh=None)))
    with endpoint.client() as http:
        tokens = oauth.password_login(
            CONFIG, "bench@acme.com", "pw", http=http, security_token="XY"
        )
    assert endpoint.forms[0]["grant_type"] == "password"
    assert endpoint.forms[0]["password"] == "pwXY"
    assert tokens.refresh_token is None


def test_token_endpoint_unreachable_is_a_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(NetworkError):
            oauth.refresh(CONFIG, "RT-1", http=http)


@pytest.mark.parametrize(
    ("status", "body", "revoked"),
    [(200, None, True), (400, {"error": "invalid_token", "error_description": "x"}, False)],
)
def test_revoke_posts_the_token(status: int, body: object, revoked: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body) if body else httpx.Response(status)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        assert oauth.revoke(INSTANCE + "/", "RT-1", http=http) is revoked
    assert seen[0].url == INSTANCE + "/services/oauth2/revoke"
    assert urllib.parse.parse_qs(seen[0].content.decode()) == {"token": ["RT-1"]}


def test_revoke_raises_on_other_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "unsupported_token_type", "error_description": ""}
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(OtherError):
            oauth.revoke(INSTANCE, "RT-1", http=http)


def make_tokens(access: str = "AT-1", refresh: str | None = "RT-1") -> TokenSet:
    return TokenSet(access, refresh, INSTANCE, ID_URL, datetime(2024, 1, 1, tzinfo=UTC), "api")


def test_fetch_identity_uses_the_id_url_with_the_access_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == ID_URL
        assert request.headers["authorization"] == "Bearer AT-1"
        return httpx.Response(
            200,
            json={
                "organization_id": "00D000000000001EAA",
                "user_id": "005000000000001AAA",
                "username": "rep@acme.com",
                "email": "rep@acme.com",
                "display_name": "Rita Rep",
                "urls": {},
            },
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        identity = oauth.fetch_identity(make_tokens(), http=http)
    assert identity == oauth.Identity(
        "00D000000000001EAA", "005000000000001AAA", "rep@acme.com", "rep@acme.com", "Rita Rep"
    )


def test_fetch_identity_with_an_expired_token_raises_session_expired() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]
        return httpx.Response(401, json=body)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SessionExpired):
            oauth.fetch_identity(make_tokens(), http=http)


def test_token_set_repr_never_shows_tokens() -> None:
    tokens = make_tokens("SECRET-ACCESS", "SECRET-REFRESH")
    for text in (repr(tokens), str(tokens), f"{tokens}", repr([tokens])):
        assert "SECRET" not in text
        assert INSTANCE in text
    assert "consumer-secret" not in repr(CONFIG)


def test_token_set_round_trips_through_a_dict() -> None:
    tokens = make_tokens()
    assert TokenSet.from_dict(tokens.to_dict()) == tokens
    assert TokenSet.from_dict(make_tokens(refresh=None).to_dict()).refresh_token is None
