"""A create whose answer is lost after Salesforce committed it ends logged, once, linked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from salesync.runtime import Runtime
from salesync.store.tables import OutboxItem, OutboxStatus, SalesforceLink, User
from tests.fixtures_sandbox import (
    Sandbox,
    add_person,
    add_user,
    build_runtime,
    connect,
    make_sandbox,
)
from tests.integration.logging.test_logging_api import drain, open_diagnostics, send
from tests.support import FakeClock

LOST_CREATE = {"method": "POST", "path": "/composite$", "times": 1, "dropAfterCommit": True}


@pytest.fixture(params=["external id", "search"])
def org_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sandbox_of_kind(org_kind: str) -> Iterator[Sandbox]:
    """The demo org has the External ID field; the empty org has not."""
    sandboxes = make_sandbox("demo" if org_kind == "external id" else "empty")
    sandbox = next(sandboxes)
    if org_kind == "search":
        sandbox.org.add_user(
            "rep1@sandbox.salesync.test", first_name="Rep", last_name="One", email="rep1@x.test"
        )
    yield sandbox
    next(sandboxes, None)


def _warm_connected_rep(
    engine: Engine, sandbox: Sandbox, tmp_path: Path, clock: FakeClock
) -> tuple[Runtime, User]:
    runtime = build_runtime(engine, sandbox, tmp_path, clock)
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    sandbox.org.create_record("Contact", {"LastName": "Warm", "Email": "warm@acme.example"})
    send(runtime, user, ["warm@acme.example"])
    drain(runtime)  # discovers the org once, so the next composite call is the create
    return runtime, user


def test_a_lost_create_answer_ends_logged_with_the_task_id_and_no_duplicate(
    engine: Engine, sandbox_of_kind: Sandbox, tmp_path: Path, live_clock: FakeClock
) -> None:
    sandbox = sandbox_of_kind
    runtime, user = _warm_connected_rep(engine, sandbox, tmp_path, live_clock)
    contact_id = sandbox.org.create_record("Contact", {"LastName": "Lee", "Email": "lee@a.example"})
    # A stored Contact id needs no lookup, so the next composite call is the create.
    person = add_person(runtime, user, "lee@a.example", sf_contact_id=contact_id)
    send(runtime, user, [person], subject="Lost answer")
    sandbox.control("POST", "faults", LOST_CREATE)
    drain(runtime)
    [task] = [t for t in sandbox.tasks() if t.get("WhoId") == contact_id]
    with runtime.sessions() as session:
        waiting = [
            i for i in session.scalars(select(OutboxItem)) if i.status is not OutboxStatus.DONE
        ]
        assert [i.payload.get("outcome_unknown") for i in waiting] == [True]
    live_clock.advance(minutes=5)
    drain(runtime)
    assert [t["Id"] for t in sandbox.tasks() if t.get("WhoId") == contact_id] == [task["Id"]]
    assert task["TaskSubtype"] == "Email"
    with runtime.sessions() as session:
        assert {i.status for i in session.scalars(select(OutboxItem))} == {OutboxStatus.DONE}
        links = {link.sf_id for link in session.scalars(select(SalesforceLink))}
    assert task["Id"] in links
    assert [code for code, _ in open_diagnostics(runtime) if code != "TASK_FIELDS_SKIPPED"] == []


def test_an_upsert_that_matches_a_task_made_earlier_sends_only_updateable_fields(
    engine: Engine, sandbox: Sandbox, tmp_path: Path, live_clock: FakeClock
) -> None:
    """A worker died after the create committed: no flag says so, the upsert finds the Task."""
    runtime, user = _warm_connected_rep(engine, sandbox, tmp_path, live_clock)
    contact_id = sandbox.org.create_record("Contact", {"LastName": "Kim", "Email": "kim@a.example"})
    person = add_person(runtime, user, "kim@a.example", sf_contact_id=contact_id)
    send(runtime, user, [person], subject="Died after commit")
    sandbox.control("POST", "faults", LOST_CREATE)
    drain(runtime)
    [task] = [t for t in sandbox.tasks() if t.get("WhoId") == contact_id]
    with runtime.sessions() as session:
        for item in session.scalars(select(OutboxItem)):
            item.payload = {k: v for k, v in item.payload.items() if k != "outcome_unknown"}
        session.commit()
    live_clock.advance(minutes=5)
    drain(runtime)
    assert [t["Id"] for t in sandbox.tasks() if t.get("WhoId") == contact_id] == [task["Id"]]
    with runtime.sessions() as session:
        assert {i.status for i in session.scalars(select(OutboxItem))} == {OutboxStatus.DONE}
        links = {link.sf_id for link in session.scalars(select(SalesforceLink))}
    assert task["Id"] in links


def test_the_sandbox_refuses_task_subtype_on_an_upsert_that_matches(sandbox: Sandbox) -> None:
    """Salesforce's rule, not ours: TaskSubtype is createable but not updateable."""
    import httpx

    token = sandbox.org.issue_token("rep1@sandbox.salesync.test").access_token
    url = f"{sandbox.base_url}/services/data/v62.0/sobjects/Task/Salesync_Activity_Id__c/act-1"
    headers = {"Authorization": f"Bearer {token}"}
    body = {"Subject": "Email: x", "TaskSubtype": "Email"}
    assert httpx.patch(url, json=body, headers=headers).status_code == 201
    again = httpx.patch(url, json=body, headers=headers)
    assert again.status_code == 400
    assert again.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert again.json()[0]["fields"] == ["TaskSubtype"]
    assert httpx.patch(url, json={"Subject": "Email: y"}, headers=headers).status_code == 200
