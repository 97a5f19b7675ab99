"""Messages as a real SMTP server receives them: headers, Message-IDs, envelope-only BCC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from salesync.mail import (
    HeaderInjection,
    InvalidAddress,
    InvalidMessage,
    InvalidMessageId,
    OutgoingEmail,
    SmtpMailer,
    SmtpSettings,
    build_message,
)
from salesync.mail.catcher import CapturingSmtpServer
from tests.support import FakeClock

BCC = "emailtosalesforce@2x9ab.le.salesforce.example.com"
INJECTION = "\r\nBcc: spy@evil.example"


@pytest.fixture
def server() -> Iterator[CapturingSmtpServer]:
    with CapturingSmtpServer() as running:
        yield running


@pytest.fixture
def mailer(server: CapturingSmtpServer, clock: FakeClock) -> SmtpMailer:
    settings = SmtpSettings(host=server.host, port=server.port, timeout_seconds=5)
    return SmtpMailer(settings, "salesync.example.com", clock=clock)


def _email(**changes: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "from_address": "ada@acme.example.com",
        "from_name": "Ada Lovelace",
        "to": ["grace@prospect.example.com"],
        "cc": ["alan@prospect.example.com"],
        "subject": "Our call on Tuesday",
        "body_text": "Hi Grace,\n\nthanks for your time.\n",
        "envelope_bcc": [BCC],
    }
    values.update(changes)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


def test_a_sent_email_carries_the_headers_the_rep_wrote(
    server: CapturingSmtpServer, mailer: SmtpMailer, clock: FakeClock
) -> None:
    email = _email(
        from_name="Ada Lovelace, Sales (Ré)",
        subject="Prix spécial – “today” only, " + "long subject words " * 8,
        body_text="Grüße,\n.\nA line that starts with a dot stays one.\n",
        body_html="<p>Grüße</p>",
        in_reply_to="<first@prospect.example.com>",
        references=["<zero@prospect.example.com>", "<first@prospect.example.com>"],
    )
    sent = mailer.send(email)
    message = server.messages[0].message
    assert message["From"].addresses[0].display_name == "Ada Lovelace, Sales (Ré)"
    assert message["From"].addresses[0].addr_spec == "ada@acme.example.com"
    assert [a.addr_spec for a in message["To"].addresses] == ["grace@prospect.example.com"]
    assert [a.addr_spec for a in message["Cc"].addresses] == ["alan@prospect.example.com"]
    assert message["Subject"] == email.subject
    assert parsedate_to_datetime(message["Date"]) == clock.now()
    assert message["Message-ID"] == sent.message_id
    assert message["In-Reply-To"] == "<first@prospect.example.com>"
    assert message["References"].split() == list(email.references)
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    # On the wire every line ends in CRLF (RFC 5322 §2.3).
    assert plain.get_content().replace("\r\n", "\n") == email.body_text
    assert html.get_content().replace("\r\n", "\n") == "<p>Grüße</p>\n"


def test_message_ids_are_unique_across_a_thousand_emails(
    server: CapturingSmtpServer, mailer: SmtpMailer
) -> None:
    sent_ids = [mailer.send(_email(subject=f"Email {n}")).message_id for n in range(1000)]
    received_ids = [captured.message["Message-ID"] for captured in server.messages]
    assert len(set(sent_ids)) == 1000
    assert received_ids == sent_ids
    assert all(mid.startswith("<") and mid.endswith("@salesync.example.com>") for mid in sent_ids)


def test_a_message_id_chosen_by_the_caller_is_kept(
    server: CapturingSmtpServer, mailer: SmtpMailer
) -> None:
    sent = mailer.send(_email(message_id="<attempt-1@salesync.example.com>"))
    assert sent.message_id == "<attempt-1@salesync.example.com>"
    assert server.messages[0].message["Message-ID"] == sent.message_id


def test_the_bcc_address_is_in_the_envelope_and_nowhere_in_the_data(
    server: CapturingSmtpServer, mailer: SmtpMailer
) -> None:
    sent = mailer.send(_email())
    captured = server.messages[0]
    assert captured.mail_from == "ada@acme.example.com"
    assert captured.rcpt_tos == ["grace@prospect.example.com", "alan@prospect.example.com", BCC]
    assert sent.accepted == captured.rcpt_tos
    assert BCC.encode() not in captured.data
    assert b"salesforce" not in captured.data.lower()
    assert b"\nbcc:" not in captured.data.lower()
    assert captured.message["Bcc"] is None


def test_an_address_in_several_fields_is_one_envelope_recipient(
    server: CapturingSmtpServer, mailer: SmtpMailer
) -> None:
    mailer.send(_email(cc=["Grace@Prospect.example.com"], envelope_bcc=[BCC, BCC.upper()]))
    assert server.messages[0].rcpt_tos == ["grace@prospect.example.com", BCC]


@pytest.mark.parametrize("bad", [INJECTION, "\nBcc: spy@evil.example", "\x00", "\u2028x"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", lambda bad: f"Hello{bad}"),
        ("from_name", lambda bad: f"Ada{bad}"),
        ("from_address", lambda bad: f"ada@acme.example.com{bad}"),
        ("to", lambda bad: [f"grace@prospect.example.com{bad}"]),
        ("cc", lambda bad: ["alan@prospect.example.com", f"x@prospect.example.com{bad}"]),
        ("envelope_bcc", lambda bad: [f"{BCC}{bad}"]),
        ("in_reply_to", lambda bad: f"<a@b>{bad}"),
        ("references", lambda bad: [f"<a@b>{bad}"]),
    ],
)
def test_header_injection_is_refused_and_nothing_is_sent(
    server: CapturingSmtpServer, mailer: SmtpMailer, field: str, value: object, bad: str
) -> None:
    email = _email(**{field: value(bad)})  # type: ignore[operator]
    with pytest.raises(HeaderInjection) as raised:
        mailer.send(email)
    assert raised.value.field == field
    assert isinstance(raised.value, ValueError)
    assert server.messages == []


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "grace@localhost",
        "grace@@prospect.example.com",
        "grace smith@prospect.example.com",
        "Grace <grace@prospect.example.com>",
        "<grace@prospect.example.com>",
        "grace@prospect.example.com, spy@evil.example",
        "grace.@prospect.example.com",
        "grace@-prospect.example.com",
        "jörg@prospect.example.com",
        "x" * 65 + "@prospect.example.com",
        "",
    ],
)
@pytest.mark.parametrize("field", ["from_address", "to", "cc", "envelope_bcc"])
def test_invalid_addresses_are_refused_naming_field_and_value(
    server: CapturingSmtpServer, mailer: SmtpMailer, field: str, address: str
) -> None:
    value = address if field == "from_address" else [address]
    with pytest.raises(InvalidAddress) as raised:
        mailer.send(_email(**{field: value}))
    assert raised.value.field == field
    assert raised.value.value == address
    assert repr(address) in str(raised.value)
    assert server.messages == []


def test_a_single_string_is_not_taken_for_a_list_of_addresses(mailer: SmtpMailer) -> None:
    with pytest.raises(InvalidAddress) as raised:
        mailer.send(_email(to="grace@prospect.example.com"))
    assert raised.value.field == "to"


def test_an_email_needs_a_visible_recipient(
    server: CapturingSmtpServer, mailer: SmtpMailer
) -> None:
    with pytest.raises(InvalidMessage) as raised:
        mailer.send(_email(to=[], cc=[]))
    assert raised.value.field == "to"
    assert server.messages == []


@pytest.mark.parametrize("field", ["in_reply_to", "message_id"])
@pytest.mark.parametrize("value", ["first@prospect.example.com", "<no-at-sign>", "<a b@c>"])
def test_malformed_message_ids_are_refused(mailer: SmtpMailer, field: str, value: str) -> None:
    with pytest.raises(InvalidMessageId) as raised:
        mailer.send(_email(**{field: value}))
    assert raised.value.field == field


def test_the_date_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_message(_email(), domain="salesync.example.com", now=datetime(2026, 3, 2, 9, 0))


def test_a_bad_message_id_domain_is_refused() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with pytest.raises(HeaderInjection):
        build_message(_email(), domain="salesync.example.com\r\nX: y", now=now)
    with pytest.raises(InvalidAddress):
        build_message(_email(), domain="not a domain", now=now)


def test_no_bcc_header_is_built_whatever_the_envelope() -> None:
    message, _ = build_message(
        _email(envelope_bcc=[BCC, "second@log.example.com"]),
        domain="salesync.example.com",
        now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    assert "Bcc" not in message
    assert b"log.example.com" not in message.as_bytes()
