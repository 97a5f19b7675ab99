"""Email to Salesforce over real SMTP: who may send, what is matched, and the Tasks it makes."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from salesync.sandbox.dml import ValidationRule
from salesync.sandbox.e2s_listener import SandboxSmtpServer
from salesync.sandbox.mail_catcher import CaughtMail
from salesync.sandbox.org import Org
from tests.integration.sandbox.sandbox_support import Sandbox

REP_LOGIN, REP_EMAIL = "rep@sandbox.salesync.test", "rep@salesync.test"


@dataclass
class Mailbox:
    """The org, its listener and the rep whose Email-to-Salesforce address is used."""

    org: Org
    smtp: SandboxSmtpServer
    rep_id: str

    @property
    def address(self) -> str:
        return self.org.e2s.user(self.rep_id).address

    def send(
        self,
        message: EmailMessage,
        recipients: Sequence[str] | None = None,
        *,
        sender: str = REP_EMAIL,
    ) -> dict[str, tuple[int, bytes]]:
        """Send with ``message``'s visible recipients plus the E2S address on the envelope."""
        visible = [*message.get_all("To", []), *message.get_all("Cc", [])]
        envelope = list(recipients) if recipients is not None else [*visible, self.address]
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=10) as client:
            return client.send_message(message, from_addr=sender, to_addrs=envelope)

    def last_caught(self) -> CaughtMail:
        return self.org.mail.messages()[-1]

    def tasks(self) -> list[dict[str, Any]]:
        return sorted(
            (dict(t) for t in self.org.records.rows("Task") if not t["IsDeleted"]),
            key=lambda t: (str(t["WhoId"]), str(t["WhatId"])),
        )


@pytest.fixture
def mailbox(sandbox: Sandbox) -> Iterator[Mailbox]:
    org = sandbox.org
    rep_id = org.add_user(REP_LOGIN, first_name="Rita", last_name="Rep", email=REP_EMAIL)
    with SandboxSmtpServer(org) as smtp:
        yield Mailbox(org, smtp, rep_id)


def email(
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
    *,
    subject: str = "Pricing",
    body: str = "Here are the numbers.",
    sender: str = REP_EMAIL,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message.set_content(body)
    return message


def contact(org: Org, email_address: str, last_name: str = "Buyer") -> str:
    return org.create_record("Contact", {"LastName": last_name, "Email": email_address})


def lead(org: Org, email_address: str) -> str:
    return org.create_record(
        "Lead", {"LastName": "Lead", "Company": "Prospect Co", "Email": email_address}
    )


def test_mail_from_an_acceptable_sender_becomes_a_completed_email_task(mailbox: Mailbox) -> None:
    org = mailbox.org
    who = contact(org, "pat@customer.example")
    mailbox.send(email(["pat@customer.example"], subject="Pricing", body="Numbers inside."))
    [task] = mailbox.tasks()
    assert task["WhoId"] == who
    assert task["Subject"] == "Email: Pricing"
    assert (task["TaskSubtype"], task["Type"]) == ("Email", "Email")
    assert (task["Status"], task["IsClosed"]) == ("Completed", True)
    assert task["Description"].strip() == "Numbers inside."
    assert task["OwnerId"] == mailbox.rep_id
    assert task["ActivityDate"] == org.clock.now().date()
    [change] = [c for c in org.changes.entries if c.record_id == task["Id"]]
    assert change.change_origin == "email-to-salesforce"
    outcome = mailbox.last_caught().e2s[0]
    assert (outcome.status, outcome.task_ids) == ("logged", (task["Id"],))
    assert outcome.matched == {"pat@customer.example": [who]}


def test_status_is_the_first_closed_status_and_type_follows_the_send_email_default(
    mailbox: Mailbox,
) -> None:
    org = mailbox.org
    org.set_picklist_table(
        "TaskStatus",
        [
            {"ApiName": "Open", "IsDefault": True},
            {"ApiName": "Done", "IsClosed": True},
            {"ApiName": "Completed", "IsClosed": True},
        ],
    )
    org.e2s.settings.send_email_default_type = "Meeting"
    contact(org, "pat@customer.example")
    mailbox.send(email(["pat@customer.example"]))
    [task] = mailbox.tasks()
    assert (task["Status"], task["Type"]) == ("Done", "Meeting")


def test_no_type_when_the_picklist_lacks_email_and_no_default_is_set(mailbox: Mailbox) -> None:
    mailbox.org.set_task_types(["Call", "Meeting"])
    contact(mailbox.org, "pat@customer.example")
    mailbox.send(email(["pat@customer.example"]))
    [task] = mailbox.tasks()
    assert task["Type"] is None
    assert task["TaskSubtype"] == "Email"


def test_unlisted_sender_is_refused_at_rcpt_and_caught_without_a_message(
    mailbox: Mailbox,
) -> None:
    contact(mailbox.org, "pat@customer.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        mailbox.send(email(["pat@customer.example"]), [mailbox.address], sender="me@other.example")
    code, text = refused.value.recipients[mailbox.address]
    assert code == 550
    assert b"not among the acceptable email addresses of " + REP_LOGIN.encode() in text
    assert mailbox.tasks() == []
    caught = mailbox.last_caught()
    assert caught.refused[mailbox.address].startswith("550 5.7.1 Sender <me@other.example>")
    assert not caught.delivered and caught.e2s == ()


def test_from_header_must_be_acceptable_too(mailbox: Mailbox) -> None:
    contact(mailbox.org, "pat@customer.example")
    forged = email(["pat@customer.example"], sender="someone@else.example")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        mailbox.send(forged, [mailbox.address])
    assert refused.value.smtp_code == 550
    assert mailbox.tasks() == []
    assert mailbox.last_caught().e2s[0].status == "refused"


def test_refusals_for_inactive_org_inactive_user_and_unknown_address(mailbox: Mailbox) -> None:
    org = mailbox.org
    org.e2s.settings.active = False
    assert b"not active in this org" in refused_text(mailbox, mailbox.address)
    org.e2s.settings.active = True
    org.e2s.user(mailbox.rep_id).active = False
    assert b"not active for " + REP_LOGIN.encode() in refused_text(mailbox, mailbox.address)
    unknown = f"emailtosalesforce+nobody@{org.e2s.domain}"
    assert b"5.1.1" in refused_text(mailbox, unknown)


def refused_text(mailbox: Mailbox, address: str) -> bytes:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        mailbox.send(email(["pat@customer.example"]), [address])
    return refused.value.recipients[address][1]


def test_other_mail_is_caught_with_envelope_headers_and_body(mailbox: Mailbox) -> None:
    mailbox.send(email(["pat@customer.example"], body="Just a note."), ["pat@customer.example"])
    caught = mailbox.last_caught()
    assert caught.delivered
    assert caught.mail_from == REP_EMAIL
    assert caught.rcpt_tos == ("pat@customer.example",)
    assert caught.header("Subject") == "Pricing"
    assert caught.body_text.strip() == "Just a note."
    assert caught.e2s == ()
    assert mailbox.tasks() == []


def test_to_and_cc_are_matched_but_envelope_only_and_bcc_header_recipients_are_not(
    mailbox: Mailbox,
) -> None:
    org = mailbox.org
    to_id, cc_id = contact(org, "to@customer.example"), lead(org, "cc@customer.example")
    contact(org, "hidden@customer.example")
    contact(org, "bcc@customer.example")
    message = email(["to@customer.example"], ["cc@customer.example"])
    message["Bcc"] = "bcc@customer.example"
    mailbox.send(message, ["to@customer.example", "hidden@customer.example", mailbox.address])
    assert sorted(t["WhoId"] for t in mailbox.tasks()) == sorted([to_id, cc_id])


def test_only_the_first_50_unique_addresses_are_matched(mailbox: Mailbox) -> None:
    org = mailbox.org
    addresses = [f"buyer{n}@customer.example" for n in range(52)]
    ids = [contact(org, address) for address in addresses]
    mailbox.send(email([addresses[0], *addresses], []), [addresses[0], mailbox.address])
    assert sorted(t["WhoId"] for t in mailbox.tasks()) == sorted(ids[:50])


@pytest.mark.parametrize("mode", ["all", "oldest", "most_activity"])
def test_several_records_with_one_address_follow_the_match_setting(
    mailbox: Mailbox, mode: str
) -> None:
    org = mailbox.org
    older = contact(org, "dup@customer.example", "Older")
    org.clock.advance(timedelta(minutes=5))
    busier = lead(org, "dup@customer.example")
    org.create_record("Task", {"Subject": "Earlier call", "WhoId": busier})
    org.e2s.settings.match_mode = mode  # type: ignore[assignment]
    mailbox.send(email(["dup@customer.example"]))
    logged = sorted(t["WhoId"] for t in mailbox.tasks() if t["Subject"].startswith("Email:"))
    expected = {"all": sorted([older, busier]), "oldest": [older], "most_activity": [busier]}
    assert logged == expected[mode]


def test_open_opportunities_with_a_contact_role_get_the_email(mailbox: Mailbox) -> None:
    org = mailbox.org
    who = contact(org, "pat@customer.example")
    open_id, closed_id = (
        org.create_record(
            "Opportunity", {"Name": name, "StageName": stage, "CloseDate": "2030-01-01"}
        )
        for name, stage in (("Open deal", "Prospecting"), ("Lost deal", "Closed Lost"))
    )
    for opportunity in (open_id, closed_id):
        org.create_record(
            "OpportunityContactRole", {"OpportunityId": opportunity, "ContactId": who}
        )
    mailbox.send(email(["pat@customer.example"]))
    assert [(t["WhoId"], t["WhatId"]) for t in mailbox.tasks()] == [(who, open_id)]
    org.e2s.settings.log_to_opportunities = False
    mailbox.send(email(["pat@customer.example"], subject="Second"))
    second = [t for t in mailbox.tasks() if t["Subject"] == "Email: Second"]
    assert [(t["WhoId"], t["WhatId"]) for t in second] == [(who, None)]


def test_ref_tag_in_the_first_5000_characters_names_records(mailbox: Mailbox) -> None:
    org = mailbox.org
    referenced, too_late = contact(org, "a@customer.example"), contact(org, "b@customer.example")
    body = f"Hello (ref: {referenced[:15]}, 00Qbogus)\n" + "x" * 5000 + f"(ref: {too_late})"
    mailbox.send(email(["nobody@nowhere.example"], body=body))
    assert [t["WhoId"] for t in mailbox.tasks()] == [referenced]
    assert mailbox.last_caught().e2s[0].referenced == (referenced,)


def test_unmatched_mail_goes_to_unresolved_items_or_nowhere(mailbox: Mailbox) -> None:
    mailbox.send(email(["nobody@nowhere.example"]))
    [task] = mailbox.tasks()
    assert task["WhoId"] is None and task["WhatId"] is None
    assert (task["Status"], task["IsClosed"]) == ("Not Started", False)
    assert mailbox.last_caught().e2s[0].status == "unresolved"
    mailbox.org.e2s.settings.create_unresolved_tasks = False
    mailbox.send(email(["nobody@nowhere.example"], subject="Lost"))
    assert len(mailbox.tasks()) == 1
    assert mailbox.last_caught().e2s[0].status == "discarded"


def test_forwarded_mail_also_searches_from(mailbox: Mailbox) -> None:
    org = mailbox.org
    who = contact(org, "pat@customer.example")
    org.e2s.user(mailbox.rep_id).acceptable_senders.append("pat@customer.example")
    forwarded = email([mailbox.address], sender="pat@customer.example", subject="Fwd: hi")
    mailbox.send(forwarded, [mailbox.address], sender="pat@customer.example")
    assert [t["WhoId"] for t in mailbox.tasks()] == [who]


def test_long_subject_and_body_are_cut_to_the_task_limits(mailbox: Mailbox) -> None:
    contact(mailbox.org, "pat@customer.example")
    mailbox.send(email(["pat@customer.example"], subject="s" * 300, body="b" * 40_000))
    [task] = mailbox.tasks()
    assert len(task["Subject"]) == 255
    assert len(task["Description"]) == 32_000


def test_a_failing_save_logs_nothing_and_says_why(mailbox: Mailbox) -> None:
    org = mailbox.org
    contact(org, "pat@customer.example")
    contact(org, "sam@customer.example")
    org.validation_rules.append(
        ValidationRule(1, "Task", "Subject", "Blocked", "No blocked subjects")
    )
    mailbox.send(email(["pat@customer.example", "sam@customer.example"], subject="Blocked"))
    assert mailbox.tasks() == []
    outcome = mailbox.last_caught().e2s[0]
    assert outcome.status == "failed"
    assert outcome.reason == "FIELD_CUSTOM_VALIDATION_EXCEPTION: No blocked subjects"
