"""The Email to Salesforce (BCC) tab: where the address comes from, activation, the check."""

from __future__ import annotations

import socket

import pytest

from salesync.domain.settings import LoggingMode
from salesync.errors import InvalidInput
from salesync.mail.smtp import SmtpMailer, SmtpSettings
from salesync.services import bcc
from tests.fixtures_sandbox import add_user
from tests.integration.bcc.conftest import BccWorld


def hide_address_field(world: BccWorld) -> None:
    world.control("PUT", "email-to-salesforce", {"exposeAddressField": False})


def test_the_address_is_fetched_from_salesforce_where_the_org_exposes_it(
    world: BccWorld,
) -> None:
    state = bcc.status(world.runtime, world.rep)
    assert state.salesforce_address == world.e2s_address
    assert (state.active, state.address, state.steps) == (False, None, ())
    assert state.can_activate and not state.can_deactivate
    assert bcc.fetch_address(world.runtime, world.rep) == world.e2s_address


def test_an_inactive_address_is_not_exposed_and_the_page_shows_the_steps(
    world: BccWorld,
) -> None:
    world.control("PUT", "users/rep1@sandbox.salesync.test/email-to-salesforce", {"active": False})
    state = bcc.status(world.runtime, world.rep)
    assert state.salesforce_address is None
    assert state.steps[2] == "Choose Email, then My Email to Salesforce."
    assert "My Acceptable Email Addresses" in state.steps[3]
    assert state.admin_steps == (
        "Click Setup.",
        "Click Email Administration.",
        "Click Email to Salesforce.",
        "Click Edit.",
        "Tick the box next to Active.",
        "Click Save.",
    )


def test_without_the_field_the_rep_enters_a_valid_address(world: BccWorld) -> None:
    hide_address_field(world)
    with pytest.raises(InvalidInput, match="My Email to Salesforce") as missing:
        bcc.activate(world.runtime, world.rep)
    assert missing.value.field == "bcc_address"
    for bad in ("not-an-address", "two@@signs.example", "ünïcode@example.com"):
        with pytest.raises(InvalidInput):
            bcc.activate(world.runtime, world.rep, bad)
    assert not bcc.status(world.runtime, world.rep).active
    state = bcc.activate(world.runtime, world.rep, world.e2s_address)
    assert (state.active, state.source, state.salesforce_address) == (
        True,
        bcc.AddressSource.ENTERED,
        None,
    )


def test_a_rep_without_a_salesforce_connection_enters_the_address(world: BccWorld) -> None:
    newcomer = add_user(world.runtime, "newcomer@salesync.test")
    state = bcc.status(world.runtime, newcomer)
    assert state.salesforce_address is None and state.steps
    assert bcc.activate(world.runtime, newcomer, "e2s@example.com").address == "e2s@example.com"


def test_deactivating_keeps_the_address_and_can_turn_logging_off(world: BccWorld) -> None:
    bcc.activate(world.runtime, world.rep)
    state = bcc.deactivate(world.runtime, world.rep, fallback=LoggingMode.OFF)
    assert (state.active, state.logging_mode, state.address) == (
        False,
        LoggingMode.OFF,
        world.e2s_address,
    )
    with pytest.raises(InvalidInput):
        bcc.deactivate(world.runtime, world.rep, fallback=LoggingMode.BCC)


def test_the_check_reports_a_logged_test_message(world: BccWorld) -> None:
    bcc.activate(world.runtime, world.rep)
    result = bcc.send_test(world.runtime, world.rep, world.mailer())
    assert result.status is bcc.CheckStatus.LOGGED, result
    [task] = [t for t in world.e2s_tasks() if t["Id"] == result.task_id]
    assert task["Subject"] == f"Email: {result.subject}"
    assert task["OwnerId"] == world.sf_rep_id


def test_the_check_reports_a_refused_sender_with_its_fix(world: BccWorld) -> None:
    bcc.activate(world.runtime, world.rep)
    world.control(
        "PUT",
        "users/rep1@sandbox.salesync.test/email-to-salesforce",
        {"acceptableSenders": ["someone.else@salesync.test"]},
    )
    result = bcc.send_test(world.runtime, world.rep, world.mailer())
    assert (result.status, result.code, result.smtp_code) == (
        bcc.CheckStatus.REFUSED,
        "BCC_SENDER_NOT_ACCEPTED",
        550,
    )
    assert "not among the acceptable email addresses" in result.smtp_text
    assert "rep1@salesync.test" in result.message
    assert result.steps == bcc.REP_STEPS
    assert world.e2s_tasks() == []


def test_the_check_without_an_address_or_a_reachable_server(world: BccWorld) -> None:
    missing = bcc.send_test(world.runtime, world.rep, world.mailer())
    assert (missing.status, missing.code) == (
        bcc.CheckStatus.MISSING_ADDRESS,
        "BCC_ADDRESS_MISSING",
    )
    bcc.activate(world.runtime, world.rep)
    closed_port = _unused_port()
    nowhere = SmtpMailer(SmtpSettings(host="127.0.0.1", port=closed_port), "salesync.test")
    failed = bcc.send_test(world.runtime, world.rep, nowhere)
    assert failed.status is bcc.CheckStatus.SEND_FAILED
    assert str(closed_port) in failed.message


def test_the_check_says_accepted_when_salesforce_stored_nothing(world: BccWorld) -> None:
    bcc.activate(world.runtime, world.rep)
    world.control("PUT", "email-to-salesforce", {"createUnresolvedTasks": False})
    result = bcc.send_test(world.runtime, world.rep, world.mailer())
    assert result.status is bcc.CheckStatus.ACCEPTED
    assert "My Unresolved Items" in result.message
    assert world.caught_for(world.e2s_address)[-1].e2s[0].status == "discarded"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "5.7.1 Sender <a@b.c> not among the acceptable email addresses of x",
            "BCC_SENDER_NOT_ACCEPTED",
        ),
        ("5.7.1 Email to Salesforce is not active in this org", "BCC_NOT_ACTIVE"),
        ("5.1.1 Mailbox unavailable", "BCC_REFUSED_BY_SMTP"),
    ],
)
def test_refusals_are_classified_by_their_text(text: str, code: str) -> None:
    assert bcc.classify_refusal(text) == code


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
