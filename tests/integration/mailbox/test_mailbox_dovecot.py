"""Mailbox sync against a real IMAP server (Dovecot) and the sandbox org over HTTP."""

from __future__ import annotations

import os
import re
import time
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from salesync.mailbox.imap import ImapConnector
from salesync.runtime import Runtime
from salesync.services import mailbox_accounts
from salesync.store import mailboxes as mailbox_store
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, MailboxAccount, SentEmail, User
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.email_task_updates import EmailTaskUpdateHandler
from salesync.sync.mailbox_idle import IdleWatcher
from salesync.sync.mailbox_sync import DEFAULT_LEASE, MailboxSyncJob
from salesync.sync.worker import Worker
from tests.fixtures_imap import Dovecot
from tests.fixtures_sandbox import Sandbox, add_person, add_user, connect
from tests.support import FakeClock
from tests.support_mail import dsn, mail

REP = "rep1@salesync.test"
PASSWORD = "app password 1"


def contact(sandbox: Sandbox, index: int = 0) -> dict[str, Any]:
    rows = [r for r in sandbox.org.records.rows("Contact") if r.get("Email")]
    return dict(rows[index])


def job(runtime: Runtime, worker_id: str = "worker-a") -> MailboxSyncJob:
    return MailboxSyncJob(runtime, connector=ImapConnector(), worker_id=worker_id)


def log_all(runtime: Runtime) -> int:
    handlers = [ActivityLoggingHandler(runtime), EmailTaskUpdateHandler(runtime)]
    return Worker(runtime, handlers).drain()


def tasks_for(sandbox: Sandbox, who_id: str) -> list[dict[str, Any]]:
    return [t for t in sandbox.tasks() if t.get("WhoId") == who_id]


def open_diagnostics(runtime: Runtime) -> list[DiagnosticEntry]:
    with runtime.sessions() as session:
        return list(
            session.scalars(select(DiagnosticEntry).where(DiagnosticEntry.resolved_at.is_(None)))
        )


def mailbox_row(runtime: Runtime) -> MailboxAccount:
    with runtime.sessions() as session:
        row = session.scalars(select(MailboxAccount)).one()
        session.expunge(row)
        return row


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot) -> User:
    add_user(runtime, "admin@salesync.test", admin=True)
    user = add_user(runtime, REP, tz="America/Los_Angeles")
    connect(runtime, sandbox, user, "rep1")
    dovecot.add_user(REP, PASSWORD)
    mailbox_accounts.save_mailbox(
        runtime,
        user,
        mailbox_accounts.MailboxInput(
            username=REP,
            password=PASSWORD,
            host="127.0.0.1",
            port=dovecot.imap_port,
            security="plain",
        ),
    )
    return user


def later(clock: FakeClock) -> None:
    clock.advance(seconds=61)  # past the 60 s poll interval


def test_mail_sent_from_another_client_to_a_known_person_is_logged_once(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    raw = mail(
        sender=REP,
        to=target["Email"],
        cc="colleague@salesync.test",
        subject="Pricing from Outlook",
        message_id="<outlook-1@salesync.test>",
        when=live_clock.now(),
    )
    dovecot.deliver(REP, "Sent", raw)
    dovecot.deliver(REP, "Sent", mail(sender=REP, to="boss@salesync.test", message_id="<int@x>"))
    [first] = job(runtime).drain()
    assert first.outcomes["logged"] == 1
    assert first.outcomes["skipped:internal"] == 1
    assert log_all(runtime) == 1
    [task] = tasks_for(sandbox, target["Id"])
    assert task["Subject"] == "Email: Pricing from Outlook"
    assert task["TaskSubtype"] == "Email"

    # The same message again (a client copied it), and later rounds: nothing more.
    dovecot.deliver(REP, "Sent", raw)
    later(live_clock)
    [second] = job(runtime).drain()
    assert second.outcomes == {"already_seen": 1}
    later(live_clock)
    job(runtime).drain()
    log_all(runtime)
    assert len(tasks_for(sandbox, target["Id"])) == 1
    # Read with BODY.PEEK in a read-only folder: no flag changed.
    assert all(b"\\Seen" not in line for line in dovecot.flags(REP, "Sent"))


def test_reply_from_a_colleague_of_the_recipient_logs_a_reply_and_ticks_replied(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    sent_id = "<thread-1@salesync.test>"
    dovecot.deliver(
        REP,
        "Sent",
        mail(sender=REP, to=target["Email"], subject="Demo next week", message_id=sent_id),
    )
    job(runtime).drain()
    log_all(runtime)
    [sent_task] = tasks_for(sandbox, target["Id"])
    assert not sent_task.get("MSE_Replied__c")

    colleague = "someone.else@" + target["Email"].split("@")[1]
    reply = mail(
        sender=colleague,
        to=REP,
        subject="Re: Demo next week",
        body="Pat is out; I can do Tuesday.",
        message_id="<reply-1@prospect.example>",
        in_reply_to=sent_id,
        references=sent_id,
    )
    dovecot.deliver(REP, "INBOX", reply)
    later(live_clock)
    [round_] = job(runtime).drain()
    assert round_.outcomes["reply"] == 1
    calls_before = sandbox.api_calls()
    log_all(runtime)
    tasks = tasks_for(sandbox, target["Id"])
    [reply_task] = [t for t in tasks if t["Id"] != sent_task["Id"]]
    assert reply_task["Subject"].startswith("Reply: ")
    assert reply_task["Type"] == "Reply"
    updated = sandbox.org.records.get(sent_task["Id"])
    assert updated is not None and updated["MSE_Replied__c"] is True
    assert sandbox.api_calls() - calls_before <= 4  # lookups + create + one collections update


def test_a_delivery_status_notification_marks_the_email_bounced(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    sent_id = "<bounce-me@salesync.test>"
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id=sent_id))
    job(runtime).drain()
    log_all(runtime)
    dovecot.deliver(REP, "INBOX", dsn(to=REP, original_id=sent_id, recipient=target["Email"]))
    later(live_clock)
    [round_] = job(runtime).drain()
    assert round_.outcomes["bounce"] == 1
    log_all(runtime)
    with runtime.sessions() as session:
        email = session.scalars(select(SentEmail).where(SentEmail.message_id == sent_id)).one()
        assert email.status == "bounced"
        assert email.bounce_status == "5.1.1"
        assert "User unknown" in (email.bounce_diagnostic or "")
    [entry] = [d for d in open_diagnostics(runtime) if d.code == "EMAIL_BOUNCED"]
    assert "5.1.1" in entry.message
    [task] = tasks_for(sandbox, target["Id"])
    stored = sandbox.org.records.get(task["Id"])
    assert stored is not None and stored["MSE_Email_Status__c"] == "bounced"


def test_a_new_uidvalidity_logs_nothing_twice(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id="<v1@x.test>"))
    job(runtime).drain()
    log_all(runtime)
    old_validity = mailbox_row(runtime).cursors["sent"]["uid_validity"]
    dovecot.new_uid_validity(REP, "Sent", old_validity + 7)
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id="<v2@x.test>"))
    later(live_clock)
    [round_] = job(runtime).drain()
    assert round_.outcomes["folder_reset"] == 1
    assert round_.outcomes["already_seen"] == 1
    assert round_.outcomes["logged"] == 1
    assert mailbox_row(runtime).cursors["sent"]["uid_validity"] == old_validity + 7
    log_all(runtime)
    assert len(tasks_for(sandbox, target["Id"])) == 2


def test_a_killed_worker_leaves_its_mailbox_to_another_and_nothing_logs_twice(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id="<k1@x.test>"))
    now = live_clock.now()
    with unit_of_work(runtime.sessions) as session:
        [claimed] = mailbox_store.claim(
            session, worker_id="worker-a", now=now, lease=DEFAULT_LEASE, limit=5
        )
    # Worker A dies holding the lease: B finds nothing due until the lease ends.
    assert job(runtime, "worker-b").drain() == []
    live_clock.advance(seconds=DEFAULT_LEASE.total_seconds() + 1)
    [taken_over] = job(runtime, "worker-b").drain()
    assert taken_over.outcomes["logged"] == 1
    # A comes back to life and finishes its round: its lease is gone, it commits nothing.
    stale = job(runtime, "worker-a").sync_mailbox(claimed)
    assert sum(stale.outcomes.values()) == 0
    log_all(runtime)
    assert len(tasks_for(sandbox, target["Id"])) == 1
    with runtime.sessions() as session:
        assert session.scalars(select(SentEmail)).all().__len__() == 1


def test_a_wrong_password_shows_on_diagnostics_and_catches_up_when_fixed(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    dovecot.set_password(REP, "changed on the server")
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id="<p1@x.test>"))
    [round_] = job(runtime).drain()
    assert round_.error is not None and "AUTHENTICATIONFAILED" in round_.error
    row = mailbox_row(runtime)
    assert row.status == "broken" and "Authentication failed" in (row.broken_reason or "")
    [entry] = [d for d in open_diagnostics(runtime) if d.item_type == "mailbox"]
    assert entry.code == "MAILBOX_AUTH_FAILED" and entry.category == "authentication"

    mailbox_accounts.save_mailbox(
        runtime,
        rep,
        mailbox_accounts.MailboxInput(
            username=REP,
            password="changed on the server",
            host="127.0.0.1",
            port=dovecot.imap_port,
            security="plain",
        ),
    )
    [fixed] = job(runtime).drain()
    assert fixed.error is None and fixed.outcomes["logged"] == 1
    assert mailbox_row(runtime).status == "ok"
    assert not [d for d in open_diagnostics(runtime) if d.item_type == "mailbox"]
    log_all(runtime)
    assert len(tasks_for(sandbox, target["Id"])) == 1


def test_a_stopped_server_shows_on_diagnostics_and_nothing_is_lost(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id="<s1@x.test>"))
    job(runtime).drain()
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id="<s2@x.test>"))
    dovecot.stop()
    later(live_clock)
    [down] = job(runtime).drain()
    assert down.error is not None
    [entry] = [d for d in open_diagnostics(runtime) if d.item_type == "mailbox"]
    assert entry.code == "MAILBOX_UNREACHABLE"
    assert mailbox_row(runtime).status == "broken"

    dovecot.start()
    later(live_clock)
    [back] = job(runtime).drain()
    assert back.error is None and back.outcomes["logged"] == 1
    assert not [d for d in open_diagnostics(runtime) if d.item_type == "mailbox"]
    log_all(runtime)
    assert len(tasks_for(sandbox, target["Id"])) == 2


def test_a_50_mb_message_is_logged_without_downloading_its_attachment(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = REP, target["Email"], "The deck"
    message["Message-ID"] = "<big@salesync.test>"
    message.set_content("See the attached deck.")
    message.add_attachment(
        os.urandom(37 * 1024 * 1024), maintype="application", subtype="pdf", filename="deck.pdf"
    )
    raw = message.as_bytes()
    assert len(raw) > 50_000_000
    dovecot.deliver(REP, "Sent", raw)
    [round_] = job(runtime).drain()
    assert round_.outcomes["logged"] == 1
    with runtime.sessions() as session:
        email = session.scalars(select(SentEmail)).one()
        assert email.body_text.strip() == "See the attached deck."
    # Dovecot logs what each session sent: the sync's sessions stayed far below the message.
    sent_bytes = [int(n) for n in re.findall(r"Logged out in=\d+ out=(\d+)", dovecot.log())]
    assert sent_bytes and max(sent_bytes) < 1_000_000


def test_with_idle_new_inbox_mail_is_read_without_waiting_for_the_poll(
    runtime: Runtime, sandbox: Sandbox, dovecot: Dovecot, rep: User, live_clock: FakeClock
) -> None:
    target = contact(sandbox)
    add_person(runtime, rep, target["Email"])
    sent_id = "<idle-1@salesync.test>"
    dovecot.deliver(REP, "Sent", mail(sender=REP, to=target["Email"], message_id=sent_id))
    watcher = IdleWatcher(runtime, ImapConnector(), idle_seconds=20)
    syncing = MailboxSyncJob(runtime, connector=ImapConnector(), idle=watcher)
    try:
        syncing.drain()
        assert watcher.watched() == [mailbox_row(runtime).id]
        assert syncing.drain() == []  # not due again before the poll interval
        dovecot.deliver(
            REP,
            "INBOX",
            mail(sender=target["Email"], to=REP, message_id="<idle-r@p.test>", in_reply_to=sent_id),
        )
        deadline = time.monotonic() + 60  # generous: a loaded machine delays IDLE news
        while mailbox_row(runtime).next_sync_at > live_clock.now():
            assert time.monotonic() < deadline, "IDLE did not report the new message"
            time.sleep(0.1)
        [round_] = syncing.drain()  # the clock did not move: IDLE made it due
        assert round_.outcomes["reply"] == 1
    finally:
        watcher.close()
