"""A rep of salesync connected to the demo sandbox org, whose SMTP is the sandbox's listener."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from salesync.mail.smtp import SmtpMailer, SmtpSettings
from salesync.runtime import Runtime
from salesync.sandbox.e2s_listener import SandboxSmtpServer
from salesync.sandbox.email_to_salesforce import CHANGE_ORIGIN
from salesync.sandbox.mail_catcher import CaughtMail
from salesync.services import activities, mail_accounts, sync_settings
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, OutboxItem, User
from tests.fixtures_sandbox import Sandbox, add_user, connect

#: The demo org's first rep: Salesforce user rep1, who sends from rep1@salesync.test.
REP_LOGIN, REP_EMAIL = "rep1@sandbox.salesync.test", "rep1@salesync.test"


@dataclass
class BccWorld:
    runtime: Runtime
    sandbox: Sandbox
    smtp: SandboxSmtpServer
    admin: User
    rep: User

    @property
    def sf_rep_id(self) -> str:
        return self.sandbox.org.user_id(REP_LOGIN)

    @property
    def e2s_address(self) -> str:
        return self.sandbox.org.e2s.user(self.sf_rep_id).address

    def mailer(self) -> SmtpMailer:
        settings = SmtpSettings(host=self.smtp.host, port=self.smtp.port, timeout_seconds=10)
        return SmtpMailer(settings, "salesync.test", clock=self.runtime.clock)

    def contact(self, index: int = 0) -> dict[str, Any]:
        """A demo contact whose address no other Lead or Contact shares."""
        rows = [r for r in self.sandbox.org.records.rows("Contact") if r.get("Email")]
        counts: dict[str, int] = {}
        for row in [*rows, *self.sandbox.org.records.rows("Lead")]:
            key = str(row.get("Email") or "").lower()
            counts[key] = counts.get(key, 0) + 1
        unique = [r for r in rows if counts[str(r["Email"]).lower()] == 1]
        return dict(unique[index])

    def send(self, to: str, subject: str = "Pricing", body: str = "Here it is.") -> int:
        draft = activities.EmailDraft(
            to=[activities.RecipientRef(email=to)], subject=subject, body_text=body
        )
        return activities.send_email(self.runtime, self.rep, draft, self.mailer())

    def save(self, user: User, **changes: object) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            member = session.get(User, user.id)
            assert member is not None
            sync_settings.save_my_settings(session, member, changes, now=self.runtime.clock.now())

    def override(self, force_mode: str | None) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            admin = session.get(User, self.admin.id)
            assert admin is not None
            sync_settings.set_override(session, admin, force_mode)

    def control(self, method: str, path: str, json: Any = None) -> Any:
        return self.sandbox.control(method, path, json)

    def e2s_tasks(self, who_id: str | None = None) -> list[dict[str, Any]]:
        """Tasks Email to Salesforce made (by change origin), optionally for one record."""
        made = {
            change.record_id
            for change in self.sandbox.org.changes.entries
            if change.change_origin == CHANGE_ORIGIN and change.change_type == "CREATE"
        }
        return [
            t
            for t in self.sandbox.tasks()
            if t["Id"] in made and (who_id is None or t["WhoId"] == who_id)
        ]

    def caught_for(self, address: str) -> list[CaughtMail]:
        return self.sandbox.org.mail.messages(recipient=address)

    def outbox_kinds(self) -> list[str]:
        """Kinds of the logging items (engagement updates of opens and replies left out)."""
        with self.runtime.sessions() as session:
            items = session.scalars(select(OutboxItem).where(OutboxItem.kind.like("log_%")))
            return [item.kind for item in items]

    def diagnostics(self) -> list[DiagnosticEntry]:
        with self.runtime.sessions() as session:
            query = select(DiagnosticEntry).where(DiagnosticEntry.resolved_at.is_(None))
            return list(session.scalars(query.order_by(DiagnosticEntry.id)))


@pytest.fixture
def world(runtime: Runtime, sandbox: Sandbox) -> Iterator[BccWorld]:
    admin = add_user(runtime, "boss@salesync.test", admin=True)
    rep = add_user(runtime, REP_EMAIL)
    connect(runtime, sandbox, rep, "rep1")
    with SandboxSmtpServer(sandbox.org) as smtp:
        mail_accounts.save_smtp_account(
            runtime,
            admin,
            for_team=True,
            host=smtp.host,
            port=smtp.port,
            username="",
            password=None,
            starttls=False,
            now=runtime.clock.now(),
        )
        yield BccWorld(runtime, sandbox, smtp, admin, rep)
