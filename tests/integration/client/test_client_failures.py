"""Every error class of the client, provoked in the sandbox and read back over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from salesync.domain.categories import ErrorCategory
from salesync.salesforce.auth import MemoryTokenStore, OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.errors import (
    AccessOrValidationError,
    ApiDisabled,
    AuthenticationError,
    IntermittentError,
    NetworkError,
    OtherError,
    RequestLimitExceeded,
    SessionExpired,
)
from salesync.salesforce.oauth import OAuthClientConfig, TokenSet
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import serve_in_thread

ADMIN = "admin@sandbox.salesync.test"


@dataclass
class Sandbox:
    org: Org
    url: str
    http: httpx.Client
    opened: list[SalesforceClient] = field(default_factory=list)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox__{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def fault(self, **fault: Any) -> None:
        self.control("POST", "/faults", fault)

    def client(
        self, username: str = ADMIN, *, timeout: float = 30
    ) -> tuple[SalesforceClient, RefreshingAuth]:
        issued = self.org.issue_token(username)
        tokens = TokenSet(
            issued.access_token,
            issued.refresh_token,
            self.url,
            f"{self.url}/id/x/y",
            datetime.now(UTC),
        )
        config = OAuthClientConfig("salesync", "salesync-secret", login_url=self.url)
        auth = RefreshingAuth(MemoryTokenStore(tokens), OAuthRefresher(config, self.http))
        client = SalesforceClient(self.url, auth, timeout=timeout)
        self.opened.append(client)
        return client, auth


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    org = Org("empty")
    with serve_in_thread(create_sandbox_app(org)) as server, httpx.Client(timeout=30) as http:
        running = Sandbox(org, server.base_url, http)
        yield running
        for client in running.opened:
            client.close()


def test_a_row_lock_is_intermittent_and_the_retry_works(sandbox: Sandbox) -> None:
    sandbox.fault(
        method="POST",
        path="/sobjects/Task",
        status=400,
        errorCode="UNABLE_TO_LOCK_ROW",
        message="unable to obtain exclusive access to this record",
        times=1,
    )
    client, _ = sandbox.client()
    with pytest.raises(IntermittentError) as caught:
        client.create("Task", {"Subject": "locked"})
    assert caught.value.error_code == "UNABLE_TO_LOCK_ROW"
    assert caught.value.status == 400
    assert caught.value.category is ErrorCategory.INTERMITTENT
    assert client.create("Task", {"Subject": "locked"})


def test_server_unavailable_is_intermittent(sandbox: Sandbox) -> None:
    sandbox.fault(
        path="/limits",
        status=503,
        errorCode="SERVER_UNAVAILABLE",
        message="server too busy",
        times=1,
    )
    client, _ = sandbox.client()
    with pytest.raises(IntermittentError) as caught:
        client.limits()
    assert caught.value.status == 503


def test_a_lost_response_after_commit_is_a_network_error_and_the_record_exists(
    sandbox: Sandbox,
) -> None:
    sandbox.fault(method="POST", path="/sobjects/Task", dropAfterCommit=True, times=1)
    client, _ = sandbox.client()
    with pytest.raises(NetworkError) as caught:
        client.create("Task", {"Subject": "saved but unanswered"})
    assert caught.value.error_code == "NETWORK_ERROR"
    assert isinstance(caught.value.__cause__, httpx.HTTPError)
    subjects = [r["Subject"] for r in client.query("SELECT Subject FROM Task")]
    assert subjects == ["saved but unanswered"]


def test_a_slow_answer_is_a_network_timeout(sandbox: Sandbox) -> None:
    sandbox.fault(path="/limits", latencyMs=1500, times=1)
    client, _ = sandbox.client(timeout=0.3)
    with pytest.raises(NetworkError) as caught:
        client.limits()
    assert caught.value.error_code == "NETWORK_TIMEOUT"


def test_the_daily_cap_raises_request_limit_exceeded(sandbox: Sandbox) -> None:
    client, _ = sandbox.client()
    client.limits()
    sandbox.control("PUT", "/limits", {"dailyApiRequests": 1})
    with pytest.raises(RequestLimitExceeded) as caught:
        client.limits()
    assert caught.value.status == 403
    assert caught.value.message == "TotalRequests Limit exceeded."


def test_a_mid_stream_invalid_session_is_refreshed_transparently(sandbox: Sandbox) -> None:
    sandbox.fault(
        path="/limits",
        status=401,
        errorCode="INVALID_SESSION_ID",
        message="Session expired or invalid",
        times=1,
    )
    client, auth = sandbox.client()
    assert client.limits()
    assert auth.refreshes == 1


def test_a_session_that_stays_invalid_raises_session_expired_after_one_refresh(
    sandbox: Sandbox,
) -> None:
    sandbox.fault(
        path="/limits",
        status=401,
        errorCode="INVALID_SESSION_ID",
        message="Session expired or invalid",
        times=5,
    )
    client, auth = sandbox.client()
    with pytest.raises(SessionExpired):
        client.limits()
    assert auth.refreshes == 1
    assert sandbox.control("GET", "/faults")[0]["hits"] == 2


def test_the_rest_api_session_variant_is_an_authentication_error_without_refresh(
    sandbox: Sandbox,
) -> None:
    sandbox.fault(
        path="/limits",
        status=401,
        errorCode="INVALID_SESSION_ID",
        message="This session is not valid for use with the REST API",
        times=1,
    )
    client, auth = sandbox.client()
    with pytest.raises(AuthenticationError) as caught:
        client.limits()
    assert not isinstance(caught.value, SessionExpired)
    assert auth.refreshes == 0


def test_a_validation_rule_is_an_access_validation_error(sandbox: Sandbox) -> None:
    sandbox.control(
        "POST",
        "/validation-rules",
        {
            "sobject": "Task",
            "field": "Subject",
            "pattern": "^forbidden",
            "message": "Subjects may not start with forbidden",
        },
    )
    client, _ = sandbox.client()
    with pytest.raises(AccessOrValidationError) as caught:
        client.create("Task", {"Subject": "forbidden words"})
    assert caught.value.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert caught.value.message == "Subjects may not start with forbidden"
    assert caught.value.diagnostic.category is ErrorCategory.ACCESS_VALIDATION


def test_writing_a_field_read_only_under_fls_names_the_field(sandbox: Sandbox) -> None:
    sandbox.control(
        "POST", "/custom-fields", {"sobject": "Task", "name": "MSE_Replied__c", "kind": "checkbox"}
    )
    sandbox.control(
        "PUT", f"/users/{ADMIN}/permissions", {"fields": {"Task.MSE_Replied__c": "read"}}
    )
    client, _ = sandbox.client()
    with pytest.raises(AccessOrValidationError) as caught:
        client.create("Task", {"Subject": "x", "MSE_Replied__c": True})
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert caught.value.fields == ("MSE_Replied__c",)


def test_a_user_without_api_access_gets_api_disabled(sandbox: Sandbox) -> None:
    sandbox.control(
        "POST", "/users", {"username": "noapi@sandbox.salesync.test", "apiEnabled": False}
    )
    client, _ = sandbox.client("noapi@sandbox.salesync.test")
    with pytest.raises(ApiDisabled) as caught:
        client.limits()
    assert caught.value.error_code == "API_CURRENTLY_DISABLED"


def test_an_org_without_api_access_gets_api_disabled(sandbox: Sandbox) -> None:
    sandbox.control("PUT", "/org", {"apiEnabled": False})
    client, _ = sandbox.client()
    with pytest.raises(ApiDisabled) as caught:
        client.limits()
    assert caught.value.error_code == "API_DISABLED_FOR_ORG"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (
            lambda c: c.create("Task", {"Subject": "x", "ActivityDate": "next tuesday"}),
            "JSON_PARSER_ERROR",
        ),
        (lambda c: c.get("Task", "00TZZZZZZZZZZZZ!!!"), "MALFORMED_ID"),
        (
            lambda c: list(c.query("SELECT Id FROM Task WHERE Subject = 'unterminated")),
            "MALFORMED_QUERY",
        ),
    ],
)
def test_our_own_mistakes_are_other_errors(sandbox: Sandbox, call: Any, code: str) -> None:
    client, _ = sandbox.client()
    with pytest.raises(OtherError) as caught:
        call(client)
    assert caught.value.error_code == code
    assert caught.value.category is ErrorCategory.OTHER
