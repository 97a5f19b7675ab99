"""A rep's first batch of the hour reads the org in the same composite call as its lookups.

Reading the org (the Task describe, TaskStatus, the flags of Lead, Contact, Account and
Opportunity) is 6 subrequests and 1 query; a batch's lookups are a few queries. Sent together
they cost one API call instead of two. When the lookups leave no room (a composite call takes
5 queries and 25 subrequests), the org is read in a call of its own, as before.
"""

from __future__ import annotations

from sqlalchemy import select

from salesync.domain.activity_task import TaskConfig
from salesync.runtime import Runtime
from salesync.salesforce_access import open_client
from salesync.services import org_setup
from salesync.store.tables import OutboxItem, OutboxStatus
from salesync.sync.activity_lookup import lookup_subrequests
from tests.fixtures_sandbox import Sandbox, add_user, connect, connection_row
from tests.integration.logging.test_logging_api import contact, drain, send, tasks_for


def test_a_reps_first_batch_costs_a_lookup_call_and_a_create_call(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    rep = add_user(runtime, "rep1@salesync.test")
    connection_id = connect(runtime, sandbox, rep, "rep1")
    assert connection_row(runtime, connection_id).org_profile is None  # the org was never read
    targets = [contact(sandbox, n) for n in range(5)]
    for target in targets:
        send(runtime, rep, [str(target["Email"])])
    before = sandbox.api_calls()
    drain(runtime)
    assert sandbox.api_calls() - before == 2
    profile = connection_row(runtime, connection_id).org_profile
    assert profile is not None and profile["api_enabled"] and profile["task_statuses"]
    for target in targets:
        [task] = tasks_for(sandbox, str(target["Id"]))
        assert task["Status"] == "Completed"  # the closed status the profile just read


def test_lookups_that_leave_no_room_read_the_org_in_a_call_of_its_own(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    rep = add_user(runtime, "rep1@salesync.test")
    connection_id = connect(runtime, sandbox, rep, "rep1")
    config = TaskConfig()
    # Two chunks of addresses, Contacts and Leads each: 4 queries, and Leads by id: 5.
    emails = [f"p{n}@prospects.example" for n in range(1001)]
    crowded = lookup_subrequests(emails, ["00Q000000000001AAA"], leads=True, contacts=True)
    assert len(crowded) == 5
    roomy = lookup_subrequests(emails[:3], [], leads=True, contacts=True)
    with open_client(runtime, connection_row(runtime, connection_id)) as client:
        before = sandbox.api_calls()
        assert org_setup.discover_along(runtime, client, connection_id, config, crowded) is None
        assert sandbox.api_calls() == before  # nothing sent
        assert connection_row(runtime, connection_id).org_profile is None
        along = org_setup.discover_along(runtime, client, connection_id, config, roomy)
    assert along is not None
    profile, answers = along
    assert sandbox.api_calls() == before + 1
    assert profile.api_enabled and profile.first_closed_status == "Completed"
    assert [a.reference_id for a in answers] == [r.reference_id for r in roomy]
    assert all(a.ok for a in answers)
    assert connection_row(runtime, connection_id).org_profile == profile.model_dump(mode="json")


def test_a_rep_without_api_access_is_held_with_the_reason_after_one_call(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    rep = add_user(runtime, "noapi@salesync.test")
    connection_id = connect(runtime, sandbox, rep, "noapi")
    target = contact(sandbox, 0)
    send(runtime, rep, [str(target["Email"])])
    before = sandbox.api_calls()
    drain(runtime)
    assert sandbox.api_calls() - before <= 1  # refused as a whole; nothing else is tried
    assert tasks_for(sandbox, str(target["Id"])) == []
    with runtime.sessions() as session:
        [item] = session.scalars(select(OutboxItem)).all()
        assert item.status is not OutboxStatus.DONE
        assert item.last_error_code == "API_CURRENTLY_DISABLED"
    profile = connection_row(runtime, connection_id).org_profile
    assert profile is not None and profile["api_enabled"] is False
