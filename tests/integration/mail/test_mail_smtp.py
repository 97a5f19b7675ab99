"""SmtpMailer against a real SMTP server: TLS, AUTH, refusals, outages, timeouts, secrecy."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from salesync.mail import (
    MailAuthenticationFailed,
    MailRecipientsRefused,
    MailRejected,
    MailServerUnavailable,
    MailTlsFailed,
    OutgoingEmail,
    SmtpMailer,
    SmtpSettings,
)
from salesync.mail.catcher import CapturingSmtpServer, Refusal
from salesync.settings import Settings

PASSWORD = "s3cr3t-Sm7p-pa55"
BCC = "log@bcc.salesforce.example.com"
GRACE = "grace@prospect.example.com"
ALAN = "alan@prospect.example.com"
EMAIL = OutgoingEmail(
    from_address="ada@acme.example.com",
    to=[GRACE],
    cc=[ALAN],
    subject="Follow-up",
    body_text="Hello\n",
    envelope_bcc=[BCC],
)


def _mailer(server: CapturingSmtpServer, *, trust: bool = True, **settings: object) -> SmtpMailer:
    values: dict[str, object] = {"host": server.host, "port": server.port, "timeout_seconds": 5}
    values.update(settings)
    context = server.client_ssl_context() if trust and server.certificate else None
    smtp = SmtpSettings.model_validate(values)
    return SmtpMailer(smtp, "salesync.example.com", ssl_context=context)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def server() -> Iterator[CapturingSmtpServer]:
    with CapturingSmtpServer() as running:
        yield running


@pytest.fixture
def tls_server() -> Iterator[CapturingSmtpServer]:
    with CapturingSmtpServer(starttls=True, credentials=("ada", PASSWORD)) as running:
        yield running


# -- TLS -------------------------------------------------------------------------------------


def test_starttls_encrypts_the_session_with_a_trusted_certificate(
    tls_server: CapturingSmtpServer,
) -> None:
    mailer = _mailer(tls_server, starttls=True, username="ada", password=PASSWORD)
    sent = mailer.send(EMAIL)
    captured = tls_server.messages[0]
    assert captured.encrypted
    assert captured.authenticated_as == "ada"
    assert captured.message["Message-ID"] == sent.message_id


def test_starttls_asked_but_not_offered_fails_before_anything_is_sent(
    server: CapturingSmtpServer,
) -> None:
    with pytest.raises(MailTlsFailed, match="STARTTLS"):
        _mailer(server, starttls=True).send(EMAIL)
    assert server.messages == []


def test_an_untrusted_certificate_fails_the_starttls_handshake(
    tls_server: CapturingSmtpServer,
) -> None:
    mailer = _mailer(tls_server, trust=False, starttls=True, username="ada", password=PASSWORD)
    with pytest.raises(MailTlsFailed) as raised:
        mailer.send(EMAIL)
    assert not raised.value.retryable
    assert tls_server.messages == []


def test_implicit_tls_encrypts_from_the_first_byte() -> None:
    with CapturingSmtpServer(implicit_tls=True) as server:
        _mailer(server, ssl=True).send(EMAIL)
        assert server.messages[0].encrypted


def test_starttls_and_implicit_tls_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="not both"):
        SmtpSettings(host="smtp.example.com", starttls=True, ssl=True)


# -- AUTH ------------------------------------------------------------------------------------


def test_a_wrong_password_is_an_authentication_failure(tls_server: CapturingSmtpServer) -> None:
    mailer = _mailer(tls_server, starttls=True, username="ada", password="wrong-" + PASSWORD)
    with pytest.raises(MailAuthenticationFailed) as raised:
        mailer.send(EMAIL)
    assert raised.value.code == 535
    assert not raised.value.retryable
    assert tls_server.messages == []


def test_auth_in_clear_text_works_when_the_server_offers_no_tls() -> None:
    with CapturingSmtpServer(credentials=("ada", PASSWORD)) as server:
        _mailer(server, username="ada", password=PASSWORD).send(EMAIL)
        assert server.messages[0].authenticated_as == "ada"
        assert not server.messages[0].encrypted


def test_a_username_for_a_server_without_auth_fails_clearly() -> None:
    # Like most real servers, a STARTTLS server offers AUTH only once the session is encrypted.
    with CapturingSmtpServer(starttls=True) as tls_only:
        with pytest.raises(MailAuthenticationFailed, match="does not offer AUTH"):
            _mailer(tls_only, username="ada", password=PASSWORD).send(EMAIL)
        assert tls_only.messages == []


def test_a_server_requiring_auth_refuses_an_anonymous_sender(
    tls_server: CapturingSmtpServer,
) -> None:
    with pytest.raises(MailRejected) as raised:
        _mailer(tls_server, starttls=True).send(EMAIL)
    assert (raised.value.code, raised.value.command) == (530, "MAIL FROM")
    assert tls_server.messages == []


# -- refusals ---------------------------------------------------------------------------------


def test_every_recipient_refused_raises_with_each_code_and_text() -> None:
    refusals = [
        Refusal("RCPT", GRACE, 550, "5.1.1 No such user"),
        Refusal("RCPT", ALAN, 553, "5.1.3 Bad mailbox"),
        Refusal("RCPT", BCC, 550, "5.7.1 Not allowed"),
    ]
    with CapturingSmtpServer(refusals=refusals) as server:
        with pytest.raises(MailRecipientsRefused) as raised:
            _mailer(server).send(EMAIL)
        assert raised.value.refused == {
            GRACE: (550, "5.1.1 No such user"),
            ALAN: (553, "5.1.3 Bad mailbox"),
            BCC: (550, "5.7.1 Not allowed"),
        }
        assert not raised.value.retryable
        assert server.messages == []


def test_recipients_refused_for_now_may_be_retried() -> None:
    with CapturingSmtpServer(refusals=[Refusal("RCPT", "*", 450, "4.2.1 Try later")]) as server:
        with pytest.raises(MailRecipientsRefused) as raised:
            _mailer(server).send(EMAIL)
        assert raised.value.retryable


def test_a_partial_refusal_is_reported_and_the_others_get_the_email() -> None:
    with CapturingSmtpServer(refusals=[Refusal("RCPT", ALAN, 550, "5.1.1 No such user")]) as srv:
        sent = _mailer(srv).send(EMAIL)
        assert sent.accepted == [GRACE, BCC]
        assert sent.refused == {ALAN: (550, "5.1.1 No such user")}
        assert srv.messages[0].rcpt_tos == [GRACE, BCC]
        assert ALAN in srv.messages[0].message["Cc"]


def test_an_email_only_the_bcc_address_would_get_is_not_sent() -> None:
    refusals = [Refusal("RCPT", GRACE), Refusal("RCPT", ALAN)]
    with CapturingSmtpServer(refusals=refusals) as server:
        with pytest.raises(MailRecipientsRefused) as raised:
            _mailer(server).send(EMAIL)
        assert set(raised.value.refused) == {GRACE, ALAN}
        assert server.messages == []


def test_a_refused_bcc_address_is_reported_while_the_email_goes_out() -> None:
    with CapturingSmtpServer(refusals=[Refusal("RCPT", BCC, 550, "5.1.1 Unknown")]) as server:
        sent = _mailer(server).send(EMAIL)
        assert sent.refused == {BCC: (550, "5.1.1 Unknown")}
        assert server.messages[0].rcpt_tos == [GRACE, ALAN]


def test_a_refused_sender_is_a_rejection_at_mail_from() -> None:
    refusal = Refusal("MAIL", "ada@acme.example.com", 553, "5.7.1 Sender not allowed")
    with CapturingSmtpServer(refusals=[refusal]) as server:
        with pytest.raises(MailRejected) as raised:
            _mailer(server).send(EMAIL)
        assert (raised.value.code, raised.value.text) == (553, "5.7.1 Sender not allowed")
        assert raised.value.command == "MAIL FROM"
        assert not raised.value.retryable


@pytest.mark.parametrize(("code", "retryable"), [(554, False), (451, True)])
def test_a_refused_message_is_a_rejection_at_data(code: int, retryable: bool) -> None:
    with CapturingSmtpServer(refusals=[Refusal("DATA", "*", code, "Spam score")]) as server:
        with pytest.raises(MailRejected) as raised:
            _mailer(server).send(EMAIL)
        assert (raised.value.code, raised.value.command) == (code, "DATA")
        assert raised.value.retryable is retryable
        assert server.messages == []


def test_service_not_available_means_try_later() -> None:
    refusal = Refusal("MAIL", "*", 421, "4.3.2 Shutting down")
    with CapturingSmtpServer(refusals=[refusal]) as server:
        with pytest.raises(MailServerUnavailable) as raised:
            _mailer(server).send(EMAIL)
        assert raised.value.retryable


# -- outages ---------------------------------------------------------------------------------


def test_a_server_that_is_down_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port), "salesync.example.com")
    with pytest.raises(MailServerUnavailable) as raised:
        mailer.send(EMAIL)
    assert raised.value.retryable
    assert isinstance(raised.value.__cause__, OSError)


@pytest.mark.timeout(15)
def test_a_server_that_never_answers_times_out_as_unavailable() -> None:
    # The kernel completes the TCP handshake for the backlog; nobody ever sends a greeting.
    with socket.create_server(("127.0.0.1", 0), backlog=4) as silent:
        settings = SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], timeout_seconds=0.3)
        with pytest.raises(MailServerUnavailable) as raised:
            SmtpMailer(settings, "salesync.example.com").send(EMAIL)
    assert raised.value.retryable


# -- secrecy ---------------------------------------------------------------------------------


def test_the_password_never_shows_in_repr_str_errors_or_logs(
    tls_server: CapturingSmtpServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    good = _mailer(tls_server, starttls=True, username="ada", password=PASSWORD)
    bad = _mailer(tls_server, starttls=True, username="ada", password=PASSWORD + "x")
    good.send(EMAIL)
    with pytest.raises(MailAuthenticationFailed) as raised:
        bad.send(EMAIL)
    shown = [repr(good), str(good), repr(good.settings), str(good.settings)]
    shown += [good.settings.model_dump_json(), str(raised.value), repr(raised.value)]
    shown += [caplog.text, *(repr(record.__dict__) for record in caplog.records)]
    output = capsys.readouterr()
    shown += [output.out, output.err]
    # The wire carries the password base64-encoded (AUTH LOGIN and PLAIN); look for that too.
    secrets = [PASSWORD, _b64(PASSWORD), _b64(f"\0ada\0{PASSWORD}"), _b64(f"ada\0{PASSWORD}")]
    assert tls_server.messages[0].authenticated_as == "ada"
    assert caplog.records, "sending should log something"
    assert not [text for text in shown for secret in secrets if secret in text]


def test_team_settings_come_from_the_environment_settings() -> None:
    settings = Settings(
        smtp_host="smtp.acme.example.com",
        smtp_port=2525,
        smtp_username="team",
        smtp_password=PASSWORD,
        smtp_starttls=True,
        smtp_timeout_seconds=7,
    )
    smtp = SmtpSettings.from_settings(settings)
    assert (smtp.host, smtp.port, smtp.username, smtp.starttls) == (
        "smtp.acme.example.com",
        2525,
        "team",
        True,
    )
    assert smtp.password.get_secret_value() == PASSWORD
    assert smtp.timeout_seconds == 7
    assert PASSWORD not in repr(smtp)
