"""The setup check names the Task fields a rep can't edit; the org profile stays current."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.sandbox.seed import username
from salesync.services import activities, org_setup
from salesync.services import diagnostics as diagnostics_service
from salesync.store.tables import OutboxItem, OutboxStatus, SalesforceConnection, User
from tests.fixtures_sandbox import Sandbox, add_person, add_user, connect
from tests.integration.logging.test_logging_api import contact, drain, send, tasks_for
from tests.support import FakeClock


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


def _fls(sandbox: Sandbox, **levels: str) -> None:
    fields = {f"Task.{name}": level for name, level in levels.items()}
    sandbox.control("PUT", f"users/{username('rep1')}/permissions", {"fields": fields})


def _connection_id(runtime: Runtime, rep: User) -> int:
    with runtime.sessions() as session:
        row = session.scalars(
            select(SalesforceConnection).where(SalesforceConnection.user_id == rep.id)
        ).one()
        return row.id


def _log_call(runtime: Runtime, rep: User, sandbox: Sandbox) -> str:
    target = contact(sandbox, 3)
    person = add_person(runtime, rep, None, sf_contact_id=str(target["Id"]))
    admin = add_user(runtime, "admin@salesync.test", admin=True)
    activities.set_call_choices(runtime, admin, "outcome", ["Connected"])
    draft = activities.CallDraft(person, runtime.clock.now(), 30, outcome="Connected")
    activities.log_call(runtime, rep, draft)
    return str(target["Id"])


def test_read_only_and_hidden_fields_are_named_before_any_email_is_sent(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    _fls(sandbox, mktosales_call_outcome__c="read", CallType="hidden")
    profile = org_setup.refresh_org_profile(runtime, _connection_id(runtime, rep))
    [check] = [c for c in profile.checks if c.key == "task_fields"]
    assert check.level == "error"
    assert "read-only for this user: mktosales_call_outcome__c" in check.text
    assert "hidden by field-level security: CallType" in check.text
    with runtime.sessions() as session:
        overview = diagnostics_service.overview(session, rep, now=runtime.clock.now())
    assert any("mktosales_call_outcome__c" in text for _, _, text in overview.setup_checks)
    with runtime.sessions() as session:
        assert session.query(OutboxItem).count() == 0  # nothing was sent to find out


def _profile_read_at(runtime: Runtime, rep: User) -> str:
    with runtime.sessions() as session:
        row = session.get(SalesforceConnection, _connection_id(runtime, rep))
        assert row is not None and row.org_profile is not None
        return str(row.org_profile["discovered_at"])


def test_the_profile_is_read_again_after_an_hour_not_before(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock
) -> None:
    before = sandbox.api_calls()
    send(runtime, rep, [contact(sandbox, 0)["Email"]])
    drain(runtime)
    # The org is read in the same composite call as the lookups: no call of its own.
    assert sandbox.api_calls() - before == 2
    first_read = _profile_read_at(runtime, rep)
    live_clock.advance(minutes=59)
    before = sandbox.api_calls()
    send(runtime, rep, [contact(sandbox, 1)["Email"]])
    drain(runtime)
    assert sandbox.api_calls() - before == 2  # lookup and create: the profile is fresh
    assert _profile_read_at(runtime, rep) == first_read
    live_clock.advance(minutes=2)
    before = sandbox.api_calls()
    send(runtime, rep, [contact(sandbox, 2)["Email"]])
    drain(runtime)
    assert sandbox.api_calls() - before == 2  # the hour is up: read again, with the lookups
    assert _profile_read_at(runtime, rep) > first_read
    assert len(tasks_for(sandbox, contact(sandbox, 2)["Id"])) == 1


def test_a_field_made_read_only_after_discovery_is_left_out_and_the_item_logs_by_itself(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    org_setup.refresh_org_profile(runtime, _connection_id(runtime, rep))
    _fls(sandbox, mktosales_call_outcome__c="read")  # the admin changes FLS afterwards
    who = _log_call(runtime, rep, sandbox)
    before = sandbox.api_calls()
    drain(runtime)
    # The create is refused for the field, the org is read again, the create goes through.
    assert sandbox.api_calls() - before == 3
    [task] = tasks_for(sandbox, who)
    assert task.get("mktosales_call_outcome__c") is None
    with runtime.sessions() as session:
        assert [i.status for i in session.scalars(select(OutboxItem))] == [OutboxStatus.DONE]
        row = session.get(SalesforceConnection, _connection_id(runtime, rep))
        assert row is not None and row.org_profile is not None
        [check] = [c for c in row.org_profile["checks"] if c["key"] == "task_fields"]
    assert "mktosales_call_outcome__c" in check["text"]
