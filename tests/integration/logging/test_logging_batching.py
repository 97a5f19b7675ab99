"""Batching, exactly-once under faults, field-level security, Type rules and the template."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from salesync.runtime import Runtime
from salesync.services import activities, sync_settings
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, OutboxItem, OutboxStatus, User
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
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


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


def _contacts(sandbox: Sandbox, count: int) -> list[dict[str, object]]:
    """Contacts, then unconverted Leads, whose address no other Lead or Contact shares."""
    rows = [dict(r) for r in sandbox.org.records.rows("Contact") if r.get("Email")]
    rows += [
        dict(r)
        for r in sandbox.org.records.rows("Lead")
        if r.get("Email") and not r.get("IsConverted")
    ]
    seen = Counter(str(r["Email"]).lower() for r in rows)
    return [r for r in rows if seen[str(r["Email"]).lower()] == 1][:count]


def test_a_thousand_emails_cost_at_most_three_api_calls(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    targets = _contacts(sandbox, 1000)
    assert len(targets) == 1000
    for target in targets:
        send(runtime, rep, [str(target["Email"])], subject=f"Note {target['Id']}")
    # Discovery (describe + TaskStatus) happens once per connection, before the batch.
    from salesync.sync.activity_logging import ActivityLoggingHandler
    from salesync.sync.worker import Worker

    with runtime.sessions() as session:
        assert session.query(OutboxItem).count() == 1000
    before = sandbox.api_calls()
    worker = Worker(runtime, [ActivityLoggingHandler(runtime)])
    worker.drain()
    calls = sandbox.api_calls() - before
    logged = {t["WhoId"] for t in sandbox.tasks()}
    assert logged == {t["Id"] for t in targets}
    assert len(sandbox.tasks()) == 1000
    assert calls <= 3 + 1  # + 1: the one-time org discovery of this new connection


def test_a_lone_email_goes_out_in_one_batch_with_cached_discovery(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    first, second = _contacts(sandbox, 2)
    send(runtime, rep, [str(first["Email"])])
    drain(runtime)
    before = sandbox.api_calls()
    send(runtime, rep, [str(second["Email"])])
    drain(runtime)
    assert sandbox.api_calls() - before == 2  # one lookup call, one create call


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "errorCode": "SERVER_UNAVAILABLE", "message": "server too busy"},
        {
            "status": 400,
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record",
        },
        {"dropAfterCommit": True},
    ],
    ids=["503", "row-lock", "lost-response-after-commit"],
)
def test_faults_on_the_create_call_never_duplicate_a_task(
    runtime: Runtime, sandbox: Sandbox, rep: User, live_clock: FakeClock, fault: dict[str, object]
) -> None:
    targets = _contacts(sandbox, 5)
    for target in targets:
        send(runtime, rep, [str(target["Email"])])
    sandbox.control(
        "POST", "faults", {"method": "POST", "path": "/composite$", "times": 1, **fault}
    )
    drain(runtime)  # discovery and lookups go through; the create call fails
    # Every composite call is a POST /composite: the fault hit discovery or the creates.
    for _ in range(4):
        live_clock.advance(minutes=5)
        drain(runtime)
    whos = Counter(t["WhoId"] for t in sandbox.tasks())
    assert whos == Counter({t["Id"]: 1 for t in targets})
    with runtime.sessions() as session:
        statuses = {i.status for i in session.scalars(select(OutboxItem))}
    assert statuses == {OutboxStatus.DONE}


def _rep_who_cannot_see_the_outcome_field(runtime: Runtime, sandbox: Sandbox) -> tuple[User, int]:
    """The sandbox user "hidden" (no access to the call outcome field), a contact of theirs,
    and call outcomes offered by the admin: every call logged leaves the field out."""
    user = add_user(runtime, "hidden@salesync.test")
    connect(runtime, sandbox, user, "hidden")
    target = _contacts(sandbox, 1)[0]
    person = add_person(runtime, user, None, sf_contact_id=str(target["Id"]))
    admin = add_user(runtime, "admin@example.com", admin=True)
    activities.set_call_choices(runtime, admin, "outcome", ["Connected"])
    return user, person


def test_hidden_custom_fields_are_skipped_and_reported_once(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    user, person = _rep_who_cannot_see_the_outcome_field(runtime, sandbox)
    activities.log_call(
        runtime, user, activities.CallDraft(person, runtime.clock.now(), 30, outcome="Connected")
    )
    activities.log_call(
        runtime, user, activities.CallDraft(person, runtime.clock.now(), 45, outcome="Connected")
    )
    drain(runtime)
    tasks = sandbox.tasks()
    assert len(tasks) == 2
    assert all(
        "mktosales_call_outcome__c" not in t or t["mktosales_call_outcome__c"] is None
        for t in tasks
    )
    assert open_diagnostics(runtime).count(("TASK_FIELDS_SKIPPED", "setup")) == 1


def test_skipped_fields_count_once_per_profile_read_not_once_per_batch(
    runtime: Runtime, sandbox: Sandbox, live_clock: FakeClock
) -> None:
    """The fields a Task leaves out follow from the org profile: one worker reports them once
    while the profile it read holds, and again after it reads the org again (hourly)."""
    user, person = _rep_who_cannot_see_the_outcome_field(runtime, sandbox)
    worker = Worker(runtime, [ActivityLoggingHandler(runtime)])

    def log_one_call() -> None:
        draft = activities.CallDraft(person, runtime.clock.now(), 30, outcome="Connected")
        activities.log_call(runtime, user, draft)
        assert worker.drain() == 1

    def occurrences() -> list[int]:
        with runtime.sessions() as session:
            return list(
                session.scalars(
                    select(DiagnosticEntry.occurrences).where(
                        DiagnosticEntry.code == "TASK_FIELDS_SKIPPED"
                    )
                )
            )

    log_one_call()
    log_one_call()
    live_clock.advance(minutes=30)
    log_one_call()
    assert occurrences() == [1]
    live_clock.advance(minutes=31)  # the profile is over an hour old: read again
    log_one_call()
    assert occurrences() == [2]
    assert len(sandbox.tasks()) == 4


def test_type_is_left_out_when_the_picklist_lacks_the_value_or_has_a_default(
    engine: Engine,
    tmp_path,
    live_clock: FakeClock,  # type: ignore[no-untyped-def]
) -> None:
    for seed_name in ("demo-no-reply", "demo-type-default"):
        sandbox_iter: Iterator[Sandbox] = make_sandbox(seed_name)
        sandbox = next(sandbox_iter)
        try:
            runtime = build_runtime(engine, sandbox, tmp_path / seed_name, live_clock)
            user = add_user(runtime, f"{seed_name}@salesync.test")
            connect(runtime, sandbox, user, "rep1")
            target = _contacts(sandbox, 1)[0]
            email_id = send(runtime, user, [str(target["Email"])], subject="Intro")
            with runtime.sessions() as session:
                message_id = activities.get_email(session, user, email_id).message_id
            activities.record_reply(
                runtime,
                user,
                activities.InboundReply(
                    from_address=str(target["Email"]),
                    subject="Re: Intro",
                    body_text="Yes",
                    in_reply_to=message_id,
                    message_id=f"<reply-{seed_name}@customer.example>",
                    received_at=runtime.clock.now(),
                ),
            )
            drain(runtime)
            by_subject = {t["Subject"]: t for t in sandbox.tasks()}
            assert set(by_subject) == {"Email: Intro", "Reply: Intro"}
            if seed_name == "demo-no-reply":
                assert by_subject["Email: Intro"]["Type"] == "Email"
                assert by_subject["Reply: Intro"].get("Type") is None
            else:
                # API-5: with a default Type value salesync sends no Type, so Salesforce
                # fills in its default on both Tasks.
                types = {t.get("Type") for t in by_subject.values()}
                assert len(types) == 1
                assert types.isdisjoint({"Email", "Reply"})
        finally:
            next(sandbox_iter, None)


def test_admin_template_shapes_the_subject_and_replies_ignore_it(
    runtime: Runtime, sandbox: Sandbox, rep: User
) -> None:
    admin = add_user(runtime, "admin@example.com", admin=True)
    with unit_of_work(runtime.sessions) as session:
        boss = session.get(User, admin.id)
        assert boss is not None
        sync_settings.save_admin_options(
            session,
            boss,
            subject_template="[salesync] {{Activity_Type}} - {{activity_subject}}",
            now=runtime.clock.now(),
        )
    target = _contacts(sandbox, 1)[0]
    send(runtime, rep, [str(target["Email"])], subject="Quarterly plan")
    drain(runtime)
    [task] = sandbox.tasks()
    assert task["Subject"] == "[salesync] Email - Quarterly plan"


def test_without_an_external_id_field_a_retry_searches_before_creating(
    engine: Engine,
    tmp_path,
    live_clock: FakeClock,  # type: ignore[no-untyped-def]
) -> None:
    sandbox_iter = make_sandbox("empty")
    sandbox = next(sandbox_iter)
    try:
        org = sandbox.org
        org.add_user(
            "rep1@sandbox.salesync.test",
            first_name="Rep",
            last_name="One",
            email="rep1@salesync.test",
        )
        warmup = org.create_record("Contact", {"LastName": "Warm", "Email": "warm@acme.example"})
        contact_id = org.create_record("Contact", {"LastName": "Lee", "Email": "lee@acme.example"})
        runtime = build_runtime(engine, sandbox, tmp_path, live_clock)
        user = add_user(runtime, "rep1@salesync.test")
        connect(runtime, sandbox, user, "rep1")
        send(runtime, user, ["warm@acme.example"])
        drain(runtime)  # discovers the org (no External ID field) and logs the warm-up email
        assert len([t for t in sandbox.tasks() if t.get("WhoId") == warmup]) == 1
        # A stored Contact id needs no lookup, so the next composite call is the create.
        person = add_person(runtime, user, "lee@acme.example", sf_contact_id=contact_id)
        send(runtime, user, [person], subject="No external id here")
        sandbox.control(
            "POST",
            "faults",
            {"method": "POST", "path": "/composite$", "times": 1, "dropAfterCommit": True},
        )
        drain(runtime)
        assert len([t for t in sandbox.tasks() if t.get("WhoId") == contact_id]) == 1
        with runtime.sessions() as session:
            [item] = [
                i for i in session.scalars(select(OutboxItem)) if i.status is not OutboxStatus.DONE
            ]
            assert item.payload.get("outcome_unknown") is True
        live_clock.advance(minutes=5)
        drain(runtime)  # searches, finds the Task the lost answer was about, creates nothing
        tasks = [t for t in sandbox.tasks() if t.get("WhoId") == contact_id]
        assert len(tasks) == 1
        assert tasks[0]["Subject"] == "Email: No external id here"
        with runtime.sessions() as session:
            assert {i.status for i in session.scalars(select(OutboxItem))} == {OutboxStatus.DONE}
    finally:
        next(sandbox_iter, None)
