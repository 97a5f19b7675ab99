"""Versions, ids, sessions, API permissions and the limits header (API-FACTS items 1-3, 12)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from salesync.sandbox.ids import checksum_suffix, normalize_id
from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error


def test_id_checksum_matches_the_published_test_vector() -> None:
    assert checksum_suffix("a0BA0000000L2ZC") == "MA0"
    assert normalize_id("a0BA0000000L2ZC") == "a0BA0000000L2ZCMA0"


def test_eighteen_character_ids_are_case_insensitive() -> None:
    assert normalize_id("A0BA0000000L2ZCMA0".lower()) == "a0BA0000000L2ZCMA0"
    assert normalize_id("a0BA0000000L2ZCMA1") is None
    assert normalize_id("a0BA0000000L2Z") is None
    assert normalize_id("a0BA0000000L2Z-") is None


def test_versions_list_needs_no_auth_and_has_no_limit_header(sandbox: Sandbox) -> None:
    response = sandbox.control().get("/services/data/")
    assert response.status_code == 200
    versions = [v["version"] for v in response.json()]
    assert versions[0] == "40.0" and versions[-1] == "67.0"
    assert response.json()[-1] == {
        "label": "Summer '26",
        "url": "/services/data/v67.0",
        "version": "67.0",
    }
    assert "sforce-limit-info" not in response.headers


def test_resources_list_and_unknown_version(admin: httpx.Client) -> None:
    resources = admin.get(f"{API}/").json()
    assert resources["sobjects"] == f"{API}/sobjects"
    assert_error(admin.get("/services/data/v99.0/sobjects"), 404, "NOT_FOUND")


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
def test_missing_or_unknown_token_is_invalid_session(
    sandbox: Sandbox, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = sandbox.control().get(f"{API}/limits", headers=headers)
    entry = assert_error(response, 401, "INVALID_SESSION_ID")
    assert entry["message"] == "Session expired or invalid"
    assert response.headers["www-authenticate"] == "Token"


def test_tokens_expire_on_the_sandbox_clock(sandbox: Sandbox, admin: httpx.Client) -> None:
    assert admin.get(f"{API}/limits").status_code == 200
    sandbox.org.clock.advance(timedelta(seconds=sandbox.org.settings.session_seconds + 1))
    assert_error(admin.get(f"{API}/limits"), 401, "INVALID_SESSION_ID")


def test_user_without_api_enabled_is_refused(sandbox: Sandbox) -> None:
    user_id = sandbox.org.add_user(
        "noapi@example.test", first_name="No", last_name="Api", email="noapi@example.test"
    )
    sandbox.org.access_of(user_id).api_enabled = False
    response = sandbox.client("noapi@example.test").get(f"{API}/sobjects")
    assert_error(response, 403, "API_CURRENTLY_DISABLED")


def test_org_without_api_access_is_refused(sandbox: Sandbox, admin: httpx.Client) -> None:
    sandbox.control().put("/__sandbox__/org", json={"apiEnabled": False})
    assert_error(admin.get(f"{API}/sobjects"), 403, "API_DISABLED_FOR_ORG")


def test_every_call_reports_usage_and_limits_agree(admin: httpx.Client) -> None:
    first = admin.get(f"{API}/sobjects/Task/describe")
    second = admin.get(f"{API}/sobjects/Task/does-not-exist")
    assert first.headers["sforce-limit-info"] == "api-usage=1/100000"
    assert second.headers["sforce-limit-info"] == "api-usage=2/100000"
    limits = admin.get(f"{API}/limits").json()
    assert limits["DailyApiRequests"] == {"Max": 100000, "Remaining": 99997}


def test_daily_cap_refuses_calls_until_the_window_moves(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    sandbox.control().put("/__sandbox__/limits", json={"dailyApiRequests": 2})
    assert admin.get(f"{API}/limits").status_code == 200
    assert admin.get(f"{API}/limits").status_code == 200
    refused = admin.get(f"{API}/limits")
    entry = assert_error(refused, 403, "REQUEST_LIMIT_EXCEEDED")
    assert entry["message"] == "TotalRequests Limit exceeded."
    assert refused.headers["sforce-limit-info"] == "api-usage=2/2"
    sandbox.org.clock.advance(timedelta(hours=24, minutes=2))
    # The old session has expired by now too, so a fresh one makes the call.
    assert sandbox.client().get(f"{API}/limits").status_code == 200


def test_unknown_sobject_and_method(admin: httpx.Client) -> None:
    assert_error(admin.get(f"{API}/sobjects/Nope__c/describe"), 404, "NOT_FOUND")
    assert_error(admin.put(f"{API}/sobjects/Task", json={}), 405, "METHOD_NOT_ALLOWED")


def test_a_uri_over_16384_bytes_is_414_and_uri_plus_headers_over_it_431(
    admin: httpx.Client,
) -> None:
    """API-FACTS §2.10: the edge refuses before the API runs; a long SOQL statement has to go
    in a composite body instead."""
    names = ",".join(f"'n{n:05d}'" for n in range(1900))
    soql = f"SELECT Id FROM Contact WHERE LastName IN ({names})"
    too_long = admin.get(f"{API}/query/", params={"q": soql})
    assert too_long.status_code == 414
    fits = admin.get(f"{API}/query/", params={"q": "SELECT Id FROM Contact LIMIT 1"})
    assert fits.status_code == 200
    padded = admin.get(
        f"{API}/query/",
        params={"q": "SELECT Id FROM Contact LIMIT 1"},
        headers={"X-Padding": "x" * 16_400},
    )
    assert padded.status_code == 431
