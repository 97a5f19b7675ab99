"""BCC logging end to end: salesync sends through the sandbox's SMTP listener, whose Email to
Salesforce logs the email on the matching record; failures land on Diagnostics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from salesync.domain.own_codes import own_code
from salesync.errors import InvalidInput
from salesync.services import activities, bcc
from salesync.services import diagnostics as diagnostics_service
from salesync.store.tables import SentEmail, User
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.integration.bcc.conftest import REP_EMAIL, BccWorld


def drain(world: BccWorld) -> int:
    return Worker(world.runtime, [ActivityLoggingHandler(world.runtime)]).drain()


def test_a_sent_email_is_logged_on_the_contact_and_the_bcc_is_in_no_header(
    world: BccWorld,
) -> None:
    target = world.contact()
    state = bcc.activate(world.runtime, world.rep)
    assert (state.active, state.address, state.source) == (
        True,
        world.e2s_address,
        bcc.AddressSource.SALESFORCE,
    )
    world.send(target["Email"], subject="Pricing", body="The numbers.")
    [task] = world.e2s_tasks(target["Id"])
    assert task["Subject"] == "Email: Pricing"
    assert (task["TaskSubtype"], task["Type"], task["IsClosed"]) == ("Email", "Email", True)
    assert task["OwnerId"] == world.sf_rep_id
    assert "The numbers." in task["Description"]
    [received] = world.caught_for(target["Email"])
    assert world.e2s_address in received.rcpt_tos  # on the envelope...
    assert world.e2s_address not in received.raw  # ...and in no header the recipient sees
    assert received.header("Bcc") is None
    assert received.e2s[0].status == "logged"
    assert world.outbox_kinds() == []  # BCC and API are exclusive: no API logging queued
    assert world.diagnostics() == []


def test_a_refused_sender_is_explained_on_diagnostics(world: BccWorld) -> None:
    target = world.contact()
    bcc.activate(world.runtime, world.rep)
    world.control(
        "PUT",
        "users/rep1@sandbox.salesync.test/email-to-salesforce",
        {"acceptableSenders": ["another.address@salesync.test"]},
    )
    email_id = world.send(target["Email"])
    assert world.e2s_tasks() == []
    assert world.caught_for(target["Email"])[0].delivered  # the recipient still got it
    [entry] = world.diagnostics()
    assert (entry.code, entry.category, entry.item_id) == (
        "BCC_SENDER_NOT_ACCEPTED",
        "setup",
        email_id,
    )
    assert f"does not accept email from {REP_EMAIL}" in entry.message
    assert entry.detail["smtp_code"] == 550
    overview = _overview(world)
    [group] = overview.groups
    assert "My Acceptable Email Addresses" in group.fix


def _overview(world: BccWorld) -> diagnostics_service.Overview:
    with world.runtime.sessions() as session:
        rep = session.get(User, world.rep.id)
        assert rep is not None
        return diagnostics_service.overview(session, rep, now=datetime.now(UTC))


def test_email_to_salesforce_inactive_in_the_org_is_its_own_reason(world: BccWorld) -> None:
    bcc.activate(world.runtime, world.rep)
    world.control("PUT", "email-to-salesforce", {"active": False})
    world.send(world.contact()["Email"])
    assert [e.code for e in world.diagnostics()] == ["BCC_NOT_ACTIVE"]


def test_a_missing_address_under_a_bcc_only_override_is_reported(world: BccWorld) -> None:
    world.override("bcc_only")
    state = bcc.status(world.runtime, world.rep, fetch=False)
    assert state.active and state.address is None
    assert state.steps == bcc.REP_STEPS and state.admin_steps == bcc.ADMIN_STEPS
    target = world.contact()
    world.send(target["Email"])
    [received] = world.caught_for(target["Email"])
    assert received.rcpt_tos == (target["Email"],)
    assert world.outbox_kinds() == []
    [entry] = world.diagnostics()
    assert entry.code == "BCC_ADDRESS_MISSING"
    fix = own_code("BCC_ADDRESS_MISSING")
    assert fix is not None and "My Email to Salesforce" in fix.fix


def test_team_override_decides_the_mode(world: BccWorld) -> None:
    world.override("api_only")
    with pytest.raises(InvalidInput, match="only API"):
        bcc.activate(world.runtime, world.rep)
    assert not bcc.status(world.runtime, world.rep, fetch=False).can_activate
    world.override("bcc_only")
    with pytest.raises(InvalidInput, match="only BCC"):
        bcc.deactivate(world.runtime, world.rep)
    state = bcc.activate(world.runtime, world.rep)  # stores the address; the mode is forced
    assert state.active and not state.can_deactivate
    target = world.contact()
    world.send(target["Email"])
    assert len(world.e2s_tasks(target["Id"])) == 1
    assert world.outbox_kinds() == []


def test_switching_modes_never_logs_an_email_twice(world: BccWorld) -> None:
    target = world.contact()

    def logged() -> int:
        return len([t for t in world.sandbox.tasks() if t["WhoId"] == target["Id"]])

    world.send(target["Email"], subject="One")  # API mode, the default
    assert drain(world) == 1
    bcc.activate(world.runtime, world.rep)
    world.send(target["Email"], subject="Two")
    reply_id = _reply(world, subject="Re: Two")
    assert drain(world) == 0
    bcc.deactivate(world.runtime, world.rep)
    world.send(target["Email"], subject="Three")
    assert drain(world) == 1
    subjects = sorted(t["Subject"] for t in world.sandbox.tasks() if t["WhoId"] == target["Id"])
    assert subjects == ["Email: One", "Email: Three", "Email: Two"]
    assert logged() == 3
    assert [t["Subject"] for t in world.e2s_tasks()] == ["Email: Two"]
    assert reply_id > 0 and world.outbox_kinds() == ["log_email", "log_email"]
    assert world.caught_for(world.e2s_address)[0].header("Subject") == "Two"
    assert world.diagnostics() == []


def _reply(world: BccWorld, subject: str) -> int:
    """A prospect's reply to the last email, recorded while BCC is on: not logged by API."""
    with world.runtime.sessions() as session:
        email = activities.get_email(session, world.rep, _last_email_id(world))
        message_id = email.message_id
    reply = activities.InboundReply(
        from_address=world.contact()["Email"],
        subject=subject,
        body_text="Thanks",
        in_reply_to=message_id,
        message_id="<reply-1@customer.example>",
        received_at=world.runtime.clock.now(),
    )
    return activities.record_reply(world.runtime, world.rep, reply)


def _last_email_id(world: BccWorld) -> int:
    with world.runtime.sessions() as session:
        found = session.scalar(select(func.max(SentEmail.id)))
        assert found is not None
        return int(found)
