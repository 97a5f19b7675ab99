"""The mailbox sync's bookkeeping on a real database, with the in-memory mail server: bad
input, duplicates, look-back, big folders, team rules. (Salesforce is not needed: what is
checked is what gets queued.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from salesync.mailbox.fake import FakeConnector, FakeMailServer
from salesync.runtime import Runtime
from salesync.services import mailbox_accounts
from salesync.settings import Settings
from salesync.store.crypto import SecretBox
from salesync.store.db import session_factory, unit_of_work
from salesync.store.tables import (
    EmailRecipient,
    MailboxMessage,
    OutboxItem,
    Person,
    SentEmail,
    Team,
    User,
)
from salesync.sync.mailbox_sync import MailboxSyncJob
from tests.fixtures_sandbox import add_person, add_user
from tests.support import FakeClock
from tests.support_mail import mail

REP = "rep1@salesync.test"
NOW = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def runtime(engine: Engine, tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=engine.url.render_as_string(False),
        allowed_outbound_hosts="imap.example.com:993",
    )
    yield Runtime(settings, engine, session_factory(engine), SecretBox(b"k" * 40), clock)


@pytest.fixture
def server() -> FakeMailServer:
    return FakeMailServer(username=REP, password="pw")


@pytest.fixture
def rep(runtime: Runtime) -> User:
    add_user(runtime, "admin@salesync.test", admin=True)
    user = add_user(runtime, REP)
    mailbox_accounts.save_mailbox(
        runtime,
        user,
        mailbox_accounts.MailboxInput(
            username=REP, password="pw", host="imap.example.com", port=993, security="tls"
        ),
    )
    return user


def sync(runtime: Runtime, server: FakeMailServer, **kwargs: object) -> MailboxSyncJob:
    job = MailboxSyncJob(runtime, connector=FakeConnector(server), **kwargs)  # type: ignore[arg-type]
    job.drain()
    return job


def emails(runtime: Runtime) -> list[SentEmail]:
    with runtime.sessions() as session:
        rows = list(session.scalars(select(SentEmail).order_by(SentEmail.id)))
        for row in rows:
            _ = row.recipients
        session.expunge_all()
        return rows


def queued(runtime: Runtime, kind: str = "log_email") -> list[OutboxItem]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == kind)))


def outcomes(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return sorted(session.scalars(select(MailboxMessage.outcome)))


def test_malformed_mime_8bit_and_encoded_headers_and_no_message_id_log_once(
    runtime: Runtime, server: FakeMailServer, rep: User, clock: FakeClock
) -> None:
    add_person(runtime, rep, "renee@prospect.test")
    broken = (
        "From: Rep <rep1@salesync.test>\r\nTo: =?utf-8?q?Ren=C3=A9e?= <renee@prospect.test>\r\n"
        "Subject: =?utf-8?q?Caf=C3=A9?= and Grüße\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
        'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        "--never-closed\r\nContent-Type: text/plain; charset=bogus-charset\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8gUmVuw6llIQ==\r\n--never-cl"
    ).encode()
    server.append("Sent", broken, date=NOW.date())
    server.append("Sent", broken, date=NOW.date())  # the same message filed twice
    sync(runtime, server)
    [email] = emails(runtime)
    assert email.subject == "Café and Grüße"
    assert email.message_id.endswith("@salesync.invalid>")  # no Message-ID: a header key
    assert "Hello Renée!" in email.body_text
    assert email.source == "mailbox"
    assert len(queued(runtime)) == 1
    # After a UIDVALIDITY change the same key is found again: still one email.
    server.renumber("Sent")
    clock.advance(seconds=61)
    sync(runtime, server)
    assert len(emails(runtime)) == 1 and len(queued(runtime)) == 1


def test_mail_salesync_sent_itself_is_not_logged_again(
    runtime: Runtime, server: FakeMailServer, rep: User
) -> None:
    person = add_person(runtime, rep, "pat@prospect.test")
    with unit_of_work(runtime.sessions) as session:
        email = SentEmail(
            team_id=rep.team_id, sender_id=rep.id, from_address=REP, subject="From salesync",
            body_text="x", message_id="<ours@salesync.test>", status="sent", sent_at=NOW,
            created_at=NOW,
        )  # fmt: skip
        email.recipients = [
            EmailRecipient(address="pat@prospect.test", person_id=person, kind="to")
        ]
        session.add(email)
    server.append(
        "Sent", mail(sender=REP, to="pat@prospect.test", message_id="<ours@salesync.test>")
    )
    sync(runtime, server)
    assert outcomes(runtime) == ["skipped:already_known"]
    assert len(emails(runtime)) == 1


def test_internal_blocked_and_unknown_recipients_and_the_log_anyone_option(
    runtime: Runtime, server: FakeMailServer, rep: User, clock: FakeClock
) -> None:
    admin = add_user(runtime, "boss@salesync.test", admin=True)
    mailbox_accounts.save_team_settings(
        runtime,
        admin,
        mailbox_accounts.TeamMailboxInput(
            host=None, port=None, security=None, allow_custom_servers=True,
            internal_domains=["partner-of-ours.test"], blocked_domains=["competitor.test"],
            log_anyone=False,
        ),
    )  # fmt: skip
    add_person(runtime, rep, "pat@competitor.test")
    server.append("Sent", mail(sender=REP, to="a@partner-of-ours.test", message_id="<1@x>"))
    server.append("Sent", mail(sender=REP, to="pat@competitor.test", message_id="<2@x>"))
    server.append("Sent", mail(sender=REP, to="stranger@else.test", message_id="<3@x>"))
    sync(runtime, server)
    assert outcomes(runtime) == [
        "skipped:blocklisted", "skipped:internal", "skipped:no_known_person",
    ]  # fmt: skip
    assert emails(runtime) == []
    mailbox_accounts.save_team_settings(
        runtime,
        admin,
        mailbox_accounts.TeamMailboxInput(
            host=None, port=None, security=None, allow_custom_servers=True,
            internal_domains=[], blocked_domains=[], log_anyone=True,
        ),
    )  # fmt: skip
    server.append("Sent", mail(sender=REP, to=["x@else.test", "y@else.test"], message_id="<4@x>"))
    clock.advance(seconds=61)
    sync(runtime, server)
    [email] = emails(runtime)
    assert [r.person_id for r in email.recipients] == [None, None]
    assert len(queued(runtime)) == 2  # Salesforce matching decides, per address


def test_the_first_reading_goes_back_seven_days_only(
    runtime: Runtime, server: FakeMailServer, rep: User, clock: FakeClock
) -> None:
    add_person(runtime, rep, "pat@prospect.test")
    server.append("Sent", mail(sender=REP, to="pat@prospect.test", message_id="<old@x>"),
                  date=(NOW - dt.timedelta(days=8)).date())  # fmt: skip
    server.append("Sent", mail(sender=REP, to="pat@prospect.test", message_id="<new@x>"),
                  date=(NOW - dt.timedelta(days=6)).date())  # fmt: skip
    sync(runtime, server)
    assert [e.message_id for e in emails(runtime)] == ["<new@x>"]
    # The old message is behind the cursor now: later rounds do not pick it up either.
    server.append("Sent", mail(sender=REP, to="pat@prospect.test", message_id="<next@x>"))
    clock.advance(seconds=61)
    sync(runtime, server)
    assert [e.message_id for e in emails(runtime)] == ["<new@x>", "<next@x>"]


def test_a_folder_of_100000_messages_is_read_in_bounded_rounds(
    runtime: Runtime, server: FakeMailServer, rep: User, clock: FakeClock
) -> None:
    add_person(runtime, rep, "pat@prospect.test")
    for _ in range(100_000):
        server.append("INBOX", b"Subject: n\r\n\r\nx", date=(NOW - dt.timedelta(days=30)).date())
    for number in range(3):
        raw = mail(sender=REP, to="pat@prospect.test", message_id=f"<r{number}@x>")
        server.append("Sent", raw, date=NOW.date())
    job = MailboxSyncJob(runtime, connector=FakeConnector(server), max_per_round=2)
    first = job.sync_due()
    assert first[0].more and first[0].outcomes["logged"] == 2
    assert first[0].outcomes["folder_first_read"] == 2
    job.drain()
    assert len(emails(runtime)) == 3
    # The old inbox mail was never fetched: only the look-back window was searched.
    fetched = ",".join(server.fetched_uids()).split(",")
    assert len(fetched) == 3
    server.append("INBOX", mail(sender="pat@prospect.test", to=REP, message_id="<late@x>"))
    clock.advance(seconds=61)
    job.drain()
    assert server.log[-1] == ("fetch", "100001")


def test_a_cut_or_missing_text_part_and_junk_folder_never_read(
    runtime: Runtime, server: FakeMailServer, rep: User
) -> None:
    add_person(runtime, rep, "pat@prospect.test")
    only_attachment = (
        f"From: {REP}\r\nTo: pat@prospect.test\r\nMessage-ID: <att@x>\r\nSubject: File\r\n"
        'Content-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        "JVBERi0xLjQK\r\n"
    ).encode()
    server.append("Sent", only_attachment)
    server.append("Junk", mail(sender="spam@x.test", to=REP, in_reply_to="<att@x>"))
    sync(runtime, server)
    [email] = emails(runtime)
    assert email.body_text == ""
    assert ("examine", "Junk") not in server.log


def test_people_only_in_another_team_do_not_count(
    runtime: Runtime, server: FakeMailServer, rep: User
) -> None:
    with unit_of_work(runtime.sessions) as session:
        other = Team(name="other", created_at=NOW)
        session.add(other)
        session.flush()
        session.add(
            Person(team_id=other.id, email="pat@prospect.test", created_at=NOW, updated_at=NOW)
        )
    server.append("Sent", mail(sender=REP, to="pat@prospect.test"))
    sync(runtime, server)
    assert outcomes(runtime) == ["skipped:no_known_person"]
