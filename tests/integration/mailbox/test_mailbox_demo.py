"""The demo's mailboxes: each rep's Sent mail, a colleague's reply and a bounce are waiting."""

from __future__ import annotations

from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.services.mailbox_demo import start_demo_mailboxes
from salesync.store.tables import SentEmail
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.email_task_updates import EmailTaskUpdateHandler
from salesync.sync.mailbox_sync import MailboxSyncJob
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_person, add_user, connect


def test_each_demo_rep_gets_a_mailbox_with_mail_a_reply_and_a_bounce(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    add_user(runtime, "admin@demo.salesync.test", admin=True)
    reps = [add_user(runtime, f"rep{n}@demo.salesync.test") for n in (1, 2)]
    for number, rep in enumerate(reps, start=1):
        connect(runtime, sandbox, rep, f"rep{number}")
    contacts = [r for r in sandbox.org.records.rows("Contact") if r.get("Email")][:4]
    for contact in contacts:
        add_person(runtime, reps[0], str(contact["Email"]), sf_contact_id=str(contact["Id"]))
    server = start_demo_mailboxes(runtime)
    assert server is not None
    try:
        rounds = MailboxSyncJob(runtime).drain()
        handlers = [ActivityLoggingHandler(runtime), EmailTaskUpdateHandler(runtime)]
        Worker(runtime, handlers).drain()
    finally:
        server.stop()
    for round_ in rounds:
        assert round_.error is None
        assert (round_.outcomes["logged"], round_.outcomes["reply"]) == (2, 1)
        assert round_.outcomes["bounce"] == 1
    with runtime.sessions() as session:
        statuses = sorted(e.status for e in session.scalars(select(SentEmail)))
    assert statuses == ["bounced", "bounced", "received", "received", "sent", "sent"]
    replied = [t for t in sandbox.tasks() if t.get("MSE_Replied__c")]
    assert len(replied) == 2
