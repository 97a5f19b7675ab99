"""RefreshingAuth: refresh once on INVALID_SESSION_ID, resend once, save rotated tokens first."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import httpx
import pytest

from salesync.salesforce.auth import MemoryTokenStore, OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.errors import (
    AuthenticationError,
    RefreshTokenRevoked,
    RevocationReason,
    SessionExpired,
)
from salesync.salesforce.oauth import OAuthClientConfig, TokenSet

INSTANCE = "https://acme.my.example.com"
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
NOT_FOR_REST = [
    {
        "message": "This session is not valid for use with the REST API",
        "errorCode": "INVALID_SESSION_ID",
    }
]
ACCOUNT = {"attributes": {"type": "Account"}, "Id": "001000000000001AAA", "Name": "Acme"}


def tokens(access: str, refresh: str | None = "RT-1") -> TokenSet:
    return TokenSet(
        access, refresh, INSTANCE, f"{INSTANCE}/id/00D/005", datetime(2024, 1, 1, tzinfo=UTC)
    )


class Org:
    """A data API that accepts only the bearer tokens in ``valid``."""

    def __init__(self, *valid: str, unauthorized_body: object = EXPIRED) -> None:
        self.valid = set(valid)
        self.unauthorized_body = unauthorized_body
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        with self.lock:
            self.seen.append(token)
        if token not in self.valid:
            return httpx.Response(
                401, json=self.unauthorized_body, headers={"WWW-Authenticate": "Token"}
            )
        return httpx.Response(200, json=ACCOUNT)


class FakeRefresher:
    """Hands out the next token set; records what it was asked to refresh."""

    def __init__(self, *results: TokenSet) -> None:
        self.results = list(results)
        self.asked: list[TokenSet] = []

    def __call__(self, token_set: TokenSet) -> TokenSet:
        self.asked.append(token_set)
        return self.results.pop(0)


def client_for(org: Org, auth: httpx.Auth) -> SalesforceClient:
    http = httpx.Client(transport=httpx.MockTransport(org))
    return SalesforceClient(INSTANCE, auth, http=http)


def test_a_valid_token_is_sent_as_bearer_without_refreshing() -> None:
    org = Org("AT-1")
    refresher = FakeRefresher()
    auth = RefreshingAuth(MemoryTokenStore(tokens("AT-1")), refresher)
    assert client_for(org, auth).get("Account", "001000000000001AAA")["Name"] == "Acme"
    assert org.seen == ["AT-1"]
    assert refresher.asked == []


def test_an_expired_session_is_refreshed_once_and_the_request_resent_once() -> None:
    org = Org("AT-2")
    store = MemoryTokenStore(tokens("AT-1"))
    refresher = FakeRefresher(tokens("AT-2"))
    auth = RefreshingAuth(store, refresher)
    client = client_for(org, auth)
    assert client.get("Account", "001000000000001AAA")["Name"] == "Acme"
    assert org.seen == ["AT-1", "AT-2"]
    assert [t.access_token for t in refresher.asked] == ["AT-1"]
    assert store.load().access_token == "AT-2"
    assert auth.refreshes == 1
    assert client.api_calls_made == 2
    # The next call uses the stored fresh token straight away.
    client.get("Account", "001000000000001AAA")
    assert org.seen[-1] == "AT-2"


def test_a_refreshed_token_that_still_fails_raises_instead_of_looping() -> None:
    org = Org()  # accepts nothing
    refresher = FakeRefresher(tokens("AT-2"), tokens("AT-3"))
    client = client_for(org, RefreshingAuth(MemoryTokenStore(tokens("AT-1")), refresher))
    with pytest.raises(SessionExpired):
        client.get("Account", "001000000000001AAA")
    assert org.seen == ["AT-1", "AT-2"]
    assert len(refresher.asked) == 1


def test_the_not_valid_for_rest_variant_is_not_refreshed() -> None:
    org = Org(unauthorized_body=NOT_FOR_REST)
    refresher = FakeRefresher(tokens("AT-2"))
    client = client_for(org, RefreshingAuth(MemoryTokenStore(tokens("AT-1")), refresher))
    with pytest.raises(AuthenticationError) as caught:
        client.get("Account", "001000000000001AAA")
    assert not isinstance(caught.value, SessionExpired)
    assert refresher.asked == []
    assert org.seen == ["AT-1"]


def test_a_401_without_invalid_session_id_is_not_refreshed() -> None:
    org = Org(unauthorized_body=[{"errorCode": "SOMETHING_ELSE", "message": "no"}])
    refresher = FakeRefresher(tokens("AT-2"))
    client = client_for(org, RefreshingAuth(MemoryTokenStore(tokens("AT-1")), refresher))
    with pytest.raises(AuthenticationError):
        client.get("Account", "001000000000001AAA")
    assert refresher.asked == []


class RecordingStore(MemoryTokenStore):
    def __init__(self, token_set: TokenSet, events: list[str]) -> None:
        super().__init__(token_set)
        self.events = events

    def save(self, token_set: TokenSet) -> None:
        self.events.append(f"save {token_set.access_token} {token_set.refresh_token}")
        super().save(token_set)


def test_a_rotated_refresh_token_is_saved_before_the_new_access_token_is_used() -> None:
    events: list[str] = []
    org = Org("AT-2")
    original = org.__call__

    def recording_org(request: httpx.Request) -> httpx.Response:
        events.append("request " + request.headers["authorization"].removeprefix("Bearer "))
        return original(request)

    store = RecordingStore(tokens("AT-1", "RT-1"), events)
    auth = RefreshingAuth(store, FakeRefresher(tokens("AT-2", "RT-2")))
    http = httpx.Client(transport=httpx.MockTransport(recording_org))
    SalesforceClient(INSTANCE, auth, http=http).get("Account", "001000000000001AAA")
    assert events == ["request AT-1", "save AT-2 RT-2", "request AT-2"]
    assert store.load().refresh_token == "RT-2"


def test_a_revoked_refresh_token_raises_with_its_reason() -> None:
    def login(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "invalid_grant", "error_description": "inactive user"}
        )

    config = OAuthClientConfig("key", "secret", login_url="https://login.example.com")
    refresher = OAuthRefresher(config, httpx.Client(transport=httpx.MockTransport(login)))
    store = MemoryTokenStore(tokens("AT-1"))
    client = client_for(Org(), RefreshingAuth(store, refresher))
    with pytest.raises(RefreshTokenRevoked) as caught:
        client.get("Account", "001000000000001AAA")
    assert caught.value.reason is RevocationReason.INACTIVE_USER
    assert store.load().access_token == "AT-1"


def test_without_a_refresh_token_the_refresher_says_reconnect() -> None:
    config = OAuthClientConfig("key", "secret")
    refresher = OAuthRefresher(
        config, httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    )
    with pytest.raises(AuthenticationError, match="connect again"):
        refresher(tokens("AT-1", refresh=None))


def test_threads_hitting_the_same_expired_token_refresh_only_once() -> None:
    workers = 6
    barrier = threading.Barrier(workers)
    org = Org("AT-2")
    original = org.__call__

    def org_where_everyone_fails_together(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if response.status_code == 401:
            barrier.wait(timeout=10)  # every thread holds a 401 before anyone refreshes
        return response

    refresher = FakeRefresher(*(tokens(f"AT-{n}") for n in range(2, 2 + workers)))
    auth = RefreshingAuth(MemoryTokenStore(tokens("AT-1")), refresher)
    http = httpx.Client(transport=httpx.MockTransport(org_where_everyone_fails_together))
    client = SalesforceClient(INSTANCE, auth, http=http)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            client.get("Account", "001000000000001AAA")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(refresher.asked) == 1
    assert org.seen.count("AT-2") == workers
