"""The capturing SMTP server and the in-memory mailer behave as the tests that use them expect."""

from __future__ import annotations

import smtplib
import threading

import pytest

from salesync.mail import (
    HeaderInjection,
    InMemoryMailer,
    MailRecipientsRefused,
    OutgoingEmail,
    SmtpMailer,
    SmtpSettings,
)
from salesync.mail.catcher import CapturingSmtpServer, Refusal
from tests.support import FakeClock

EMAIL = OutgoingEmail(
    from_address="ada@acme.example.com",
    to=["grace@prospect.example.com", "alan@prospect.example.com"],
    subject="Hello",
    body_text="Hi\n",
    envelope_bcc=["log@bcc.salesforce.example.com"],
)


def _send_raw(server: CapturingSmtpServer, sender: str, recipients: list[str]) -> None:
    with smtplib.SMTP(server.host, server.port, local_hostname="client.example.com") as client:
        client.sendmail(sender, recipients, b"Subject: raw\r\n\r\nbody\r\n")


def test_it_captures_envelope_and_data_of_a_plain_smtp_client() -> None:
    with CapturingSmtpServer() as server:
        _send_raw(server, "a@x.example.com", ["b@y.example.com", "c@y.example.com"])
        captured = server.messages
    assert len(captured) == 1
    assert captured[0].mail_from == "a@x.example.com"
    assert captured[0].rcpt_tos == ["b@y.example.com", "c@y.example.com"]
    assert captured[0].data.endswith(b"body\r\n")
    assert captured[0].message["Subject"] == "raw"
    assert captured[0].authenticated_as is None


def test_refusal_rules_match_case_insensitively_and_can_be_added_while_running() -> None:
    with CapturingSmtpServer(refusals=[Refusal("RCPT", "B@Y.example.com", 550, "gone")]) as srv:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as raised:
            _send_raw(srv, "a@x.example.com", ["b@y.example.com"])
        assert raised.value.recipients == {"b@y.example.com": (550, b"gone")}
        srv.refuse(Refusal("MAIL", "*", 451, "4.3.0 Busy"))
        with pytest.raises(smtplib.SMTPSenderRefused) as sender_refused:
            _send_raw(srv, "a@x.example.com", ["c@y.example.com"])
        assert sender_refused.value.smtp_code == 451
        assert srv.messages == []


def test_wait_for_messages_returns_once_enough_arrived_and_times_out_otherwise() -> None:
    with CapturingSmtpServer() as server:
        sender = threading.Thread(
            target=_send_raw, args=(server, "a@x.example.com", ["b@y.example.com"])
        )
        sender.start()
        assert len(server.wait_for_messages(1)) == 1
        sender.join()
        with pytest.raises(TimeoutError, match="1 of 2"):
            server.wait_for_messages(2, timeout=0.1)
        server.clear()
        assert server.messages == []


def test_a_stopped_server_no_longer_accepts_connections() -> None:
    server = CapturingSmtpServer()
    server.start()
    port = server.port
    server.stop()
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.com", timeout=2)


def test_the_client_context_trusts_only_the_generated_certificate() -> None:
    with CapturingSmtpServer(starttls=True) as server:
        assert server.certificate is not None
        context = server.client_ssl_context()
        assert len(context.get_ca_certs()) == 1
        settings = SmtpSettings(host=server.host, port=server.port, starttls=True)
        SmtpMailer(settings, "salesync.example.com", ssl_context=context).send(EMAIL)
        assert server.messages[0].encrypted
    with CapturingSmtpServer() as plain, pytest.raises(RuntimeError):
        plain.client_ssl_context()


def test_the_in_memory_mailer_records_what_it_sends(clock: FakeClock) -> None:
    mailer = InMemoryMailer(clock=clock)
    sent = mailer.send(EMAIL)
    [recorded] = mailer.sent
    assert recorded.result == sent
    assert recorded.envelope == [*EMAIL.to, *EMAIL.envelope_bcc]
    assert recorded.message["Message-ID"] == sent.message_id
    assert recorded.message["Bcc"] is None
    assert "log@bcc" not in recorded.message.as_string()


def test_the_in_memory_mailer_refuses_configured_addresses_like_a_server() -> None:
    mailer = InMemoryMailer(refuse=["Alan@prospect.example.com"])
    sent = mailer.send(EMAIL)
    assert set(sent.refused) == {"alan@prospect.example.com"}
    assert "alan@prospect.example.com" not in sent.accepted
    everyone = InMemoryMailer(refuse=EMAIL.to)
    with pytest.raises(MailRecipientsRefused):
        everyone.send(EMAIL)
    assert everyone.sent == []


def test_the_in_memory_mailer_validates_like_the_smtp_mailer() -> None:
    mailer = InMemoryMailer()
    bad = OutgoingEmail(
        from_address="ada@acme.example.com", to=["a@b.example.com"], subject="x\r\ny", body_text=""
    )
    with pytest.raises(HeaderInjection):
        mailer.send(bad)
    assert mailer.sent == []
