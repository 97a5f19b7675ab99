"""Replied and email-status updates of a logged email's Task: waiting for the Task, batching,
and a field the rep may not edit. (Mail from the in-memory server; Salesforce is the sandbox.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from salesync.mailbox.fake import FakeConnector, FakeMailServer
from salesync.runtime import Runtime
from salesync.services import mailbox_accounts
from salesync.services.mailbox_ingest import UPDATE_EMAIL_TASK
from salesync.store.tables import DiagnosticEntry, OutboxItem, OutboxStatus, User
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.email_task_updates import EmailTaskUpdateHandler
from salesync.sync.mailbox_sync import MailboxSyncJob
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_person, add_user, connect
from tests.support import FakeClock
from tests.support_mail import mail

REP = "rep1@salesync.test"


@pytest.fixture
def server() -> FakeMailServer:
    return FakeMailServer(username=REP, password="pw")


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    add_user(runtime, "admin@salesync.test", admin=True)
    user = add_user(runtime, REP)
    connect(runtime, sandbox, user, "rep1")
    mailbox_accounts.save_mailbox(
        runtime,
        user,
        mailbox_accounts.MailboxInput(
            username=REP, password="pw", host="imap.example.com", port=993, security="tls"
        ),
    )
    return user


def contacts(sandbox: Sandbox, count: int) -> list[dict[str, Any]]:
    return [dict(r) for r in sandbox.org.records.rows("Contact") if r.get("Email")][:count]


def updates(runtime: Runtime) -> list[OutboxItem]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == UPDATE_EMAIL_TASK)))


def thread(server: FakeMailServer, runtime: Runtime, to: str, number: int) -> None:
    today = runtime.clock.now().date()
    sent_id = f"<t{number}@salesync.test>"
    server.append("Sent", mail(sender=REP, to=to, message_id=sent_id), date=today)
    reply = mail(sender=to, to=REP, message_id=f"<r{number}@p.test>", in_reply_to=sent_id)
    server.append("INBOX", reply, date=today)


def test_an_update_waits_for_the_emails_task_then_all_go_in_one_call(
    runtime: Runtime, sandbox: Sandbox, rep: User, server: FakeMailServer, live_clock: FakeClock
) -> None:
    people = contacts(sandbox, 3)
    for number, person in enumerate(people):
        add_person(runtime, rep, person["Email"])
        thread(server, runtime, person["Email"], number)
    MailboxSyncJob(runtime, connector=FakeConnector(server)).drain()
    # The reply was read before the email's Task exists: the update waits, nothing is lost.
    Worker(runtime, [EmailTaskUpdateHandler(runtime)]).drain()
    waiting = updates(runtime)
    assert len(waiting) == 3
    assert {(u.status, u.last_error_code) for u in waiting} == {
        (OutboxStatus.PENDING, "WAITING_FOR_TASK")
    }
    Worker(runtime, [ActivityLoggingHandler(runtime)]).drain()
    live_clock.advance(seconds=61)
    before = sandbox.api_calls()
    Worker(runtime, [EmailTaskUpdateHandler(runtime)]).drain()
    assert sandbox.api_calls() - before == 1  # three Tasks, one sObject Collections update
    assert {u.status for u in updates(runtime)} == {OutboxStatus.DONE}
    replied = [t for t in sandbox.tasks() if t.get("MSE_Replied__c")]
    assert len(replied) == 3


def test_a_field_the_rep_may_not_edit_is_left_out_and_reported(
    runtime: Runtime, sandbox: Sandbox, rep: User, server: FakeMailServer
) -> None:
    sandbox.control(
        "PUT", "users/rep1@sandbox.salesync.test/permissions",
        {"fields": {"Task.MSE_Replied__c": "read"}},
    )  # fmt: skip
    [person] = contacts(sandbox, 1)
    add_person(runtime, rep, person["Email"])
    thread(server, runtime, person["Email"], 0)
    MailboxSyncJob(runtime, connector=FakeConnector(server)).drain()
    Worker(runtime, [ActivityLoggingHandler(runtime), EmailTaskUpdateHandler(runtime)]).drain()
    assert {u.status for u in updates(runtime)} == {OutboxStatus.DONE}
    assert not [t for t in sandbox.tasks() if t.get("MSE_Replied__c")]
    with runtime.sessions() as session:
        codes = set(session.scalars(select(DiagnosticEntry.message)))
    assert any("MSE_Replied__c" in message for message in codes)
