"""Org discovery against the sandbox's demo users: FLS, object access, picklists, API access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from salesync.salesforce.auth import MemoryTokenStore, OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.discovery import CheckLevel, OrgProfile, discover_org
from salesync.salesforce.oauth import OAuthClientConfig, TokenSet
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import serve_in_thread

MSIA_TASK_FIELDS = ("MSE_Replied__c", "MSE_Viewed__c", "mktosales_call_outcome__c")


@dataclass
class Sandbox:
    org: Org
    url: str
    http: httpx.Client

    def discover(self, user: str) -> tuple[OrgProfile, SalesforceClient]:
        username = f"{user}@sandbox.salesync.test"
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
        client = SalesforceClient(self.url, auth, http=self.http)
        return discover_org(client), client


@contextmanager
def serve(seed: str) -> Iterator[Sandbox]:
    org = Org(seed)
    with serve_in_thread(create_sandbox_app(org)) as server, httpx.Client(timeout=30) as http:
        yield Sandbox(org, server.base_url, http)


@pytest.fixture(scope="module")
def demo() -> Iterator[Sandbox]:
    with serve("demo") as sandbox:
        yield sandbox


def levels(profile: OrgProfile) -> dict[str, CheckLevel]:
    return {check.key: check.level for check in profile.checks}


def test_a_fully_set_up_rep_passes_every_check_in_one_call(demo: Sandbox) -> None:
    profile, client = demo.discover("rep1")
    assert client.api_calls_made == 1
    assert set(levels(profile).values()) == {CheckLevel.OK}, profile.checks
    assert profile.external_id_ready
    assert {"Call", "Email", "Reply"} <= set(profile.task_types)
    assert profile.task_type_default is None
    assert profile.first_closed_status == "Completed"
    assert {"Task", "Email", "Call"} <= set(profile.task_subtypes)
    assert all(profile.can_create(name) and profile.can_update(name) for name in MSIA_TASK_FIELDS)
    assert profile.task_fields["Subject"].length == 255
    assert all(access.accessible for access in profile.objects.values())
    assert OrgProfile.from_json(profile.to_json()) == profile


def test_read_only_fields_under_fls_are_seen(demo: Sandbox) -> None:
    profile, _ = demo.discover("readonly")
    for name in MSIA_TASK_FIELDS:
        assert name in profile.task_fields
        assert not profile.can_create(name) and not profile.can_update(name)


def test_hidden_fields_under_fls_are_absent(demo: Sandbox) -> None:
    profile, _ = demo.discover("hidden")
    assert not set(MSIA_TASK_FIELDS) & set(profile.task_fields)
    assert "Subject" in profile.task_fields


def test_a_user_without_lead_access_gets_a_warning(demo: Sandbox) -> None:
    profile, _ = demo.discover("nolead")
    assert not profile.objects["Lead"].accessible
    assert "INVALID_TYPE" in profile.objects["Lead"].reason
    assert levels(profile)["object_lead"] is CheckLevel.WARNING
    assert profile.objects["Contact"].accessible


def test_a_user_without_api_access_is_told_plainly(demo: Sandbox) -> None:
    profile, _ = demo.discover("noapi")
    assert not profile.api_enabled
    (check,) = profile.checks
    assert check.level is CheckLevel.ERROR
    assert "API_CURRENTLY_DISABLED" in check.text and "API Enabled" in check.text


@pytest.mark.parametrize(
    ("seed", "says"),
    [
        ("demo-no-reply", "add Reply to the Task Type picklist"),
        ("demo-type-default", "remove the default Type value (Other)"),
    ],
)
def test_type_picklist_problems_are_warnings(seed: str, says: str) -> None:
    with serve(seed) as sandbox:
        profile, _ = sandbox.discover("rep1")
        check = next(c for c in profile.checks if c.key == "task_type")
        assert check.level is CheckLevel.WARNING
        assert says in check.text


def test_an_org_without_the_external_id_field_gets_the_fix() -> None:
    with serve("empty") as sandbox:
        profile, _ = sandbox.discover("admin")
        assert not profile.external_id_ready
        check = next(c for c in profile.checks if c.key == "external_id")
        assert check.level is CheckLevel.WARNING
        assert "Salesync_Activity_Id__c" in check.text
