"""The admin's roll-up field map is checked against the org before it is saved."""

from __future__ import annotations

import pytest

from salesync.errors import InvalidInput, PermissionDenied
from salesync.runtime import Runtime
from salesync.sandbox.objects import CustomFieldSpec
from salesync.services import engagement, rollups
from salesync.store.tables import User
from tests.fixtures_sandbox import Sandbox, add_user, connect


@pytest.fixture
def admin(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "admin@example.com", admin=True)
    connect(runtime, sandbox, user, "rep1")
    return user


def test_the_default_map_fits_the_demo_org(runtime: Runtime, admin: User) -> None:
    before = engagement.get_options(runtime, admin).rollup_fields
    assert rollups.check_against_org(runtime, admin, before) == {}
    assert before["last_replied"] == "Salesync_Last_Replied__c"


def test_a_field_the_org_lacks_is_refused_with_its_name(
    runtime: Runtime, sandbox: Sandbox, admin: User
) -> None:
    with pytest.raises(InvalidInput, match="Lead has no field Nope__c") as raised:
        rollups.save_rollup_fields(runtime, admin, {"last_replied": "Nope__c"})
    assert raised.value.field == "Lead.last_replied"
    sandbox.org.add_custom_field(CustomFieldSpec("Lead", "Text_Reply__c", "text"))
    with pytest.raises(InvalidInput, match="is a string field; last_replied needs datetime"):
        rollups.save_rollup_fields(runtime, admin, {"last_replied": "Text_Reply__c"})
    assert engagement.get_options(runtime, admin).rollup_fields["last_replied"] == (
        "Salesync_Last_Replied__c"
    )


def test_a_field_on_every_object_is_saved(runtime: Runtime, sandbox: Sandbox, admin: User) -> None:
    for sobject in ("Lead", "Contact", "Account", "Opportunity"):
        sandbox.org.add_custom_field(CustomFieldSpec(sobject, "Our_Replied__c", "datetime"))
    saved = rollups.save_rollup_fields(runtime, admin, {"last_replied": "Our_Replied__c"})
    assert saved["last_replied"] == "Our_Replied__c"
    assert engagement.get_options(runtime, admin).rollup_fields["last_replied"] == (
        "Our_Replied__c"
    )


def test_reps_cannot_change_the_map(runtime: Runtime, sandbox: Sandbox) -> None:
    rep = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, rep, "rep1")
    with pytest.raises(PermissionDenied):
        rollups.save_rollup_fields(runtime, rep, {"last_replied": "X__c"})
