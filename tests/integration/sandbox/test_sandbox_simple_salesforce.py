"""simple-salesforce, the field's standard client, works against the sandbox unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from salesync.sandbox.objects import CustomFieldSpec
from salesync.sandbox.seed import ADMIN_USERNAME
from tests.integration.sandbox.sandbox_support import Sandbox


class PlainHttpAdapter(HTTPAdapter):
    """simple-salesforce always builds https:// URLs; the test server speaks plain HTTP."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.url = request.url.replace("https://", "http://", 1)
        return super().send(request, *args, **kwargs)


@pytest.fixture
def sf(sandbox: Sandbox) -> Salesforce:
    sandbox.org.add_custom_field(
        CustomFieldSpec("Task", "Ext__c", "text", external_id=True, unique=True)
    )
    session = requests.Session()
    session.mount("https://", PlainHttpAdapter())
    token = sandbox.org.issue_token(ADMIN_USERNAME).access_token
    return Salesforce(
        instance_url=sandbox.base_url, session_id=token, session=session, version="59.0"
    )


def test_record_round_trip(sandbox: Sandbox, sf: Salesforce) -> None:
    created = sf.Task.create({"Subject": "from simple-salesforce"})
    assert created["success"] is True
    assert sf.Task.update(created["id"], {"Status": "Completed"}) == 204
    assert sf.Task.get(created["id"])["IsClosed"] is True
    assert sf.Task.upsert("Ext__c/e-1", {"Subject": "a"}) == 201
    assert sf.Task.upsert("Ext__c/e-1", {"Subject": "b"}) == 200
    assert sf.Task.get_by_custom_id("Ext__c", "e-1")["Subject"] == "b"
    assert sf.query_all("SELECT Id FROM Task")["totalSize"] == 2
    assert sf.Task.delete(created["id"]) == 204
    assert sf.api_usage["api-usage"].total == 100000
    assert sandbox.control().get("/__sandbox__/api-calls").json()["total"] == 8


def test_replication_helpers_and_errors(sandbox: Sandbox, sf: Salesforce) -> None:
    now = datetime.now(UTC)
    created = sf.Task.create({})
    sandbox.org.clock.advance(timedelta(minutes=2))
    ids = sf.Task.updated(now - timedelta(hours=1), now + timedelta(minutes=5))["ids"]
    assert ids == [created["id"]]
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.Task.create({"Nope__c": 1})
    assert malformed.value.content[0]["errorCode"] == "INVALID_FIELD"
    sandbox.org.tokens.expire_access(sandbox.org.clock.now())
    with pytest.raises(SalesforceExpiredSession):
        sf.Task.describe()
