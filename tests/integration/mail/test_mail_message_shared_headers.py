"""Building a message parses the headers that repeat from one email to the next once (From,
Date, the MIME headers, List-Unsubscribe-Post) and shares them: every message must still be
byte for byte the one the email package builds with every header parsed afresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from salesync.mail import OutgoingEmail, build_message

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNSUBSCRIBE = (
    ("List-Unsubscribe", "<https://salesync.example.com/u/u2.2.QVQYUeR7NRaPK2n4JsbPgw>"),
    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
)


def _reference(email: OutgoingEmail, now: datetime) -> bytes:
    """The message as the email package builds it with its own registry, nothing shared
    (the steps of ``build_message``)."""
    assert email.message_id is not None
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=email.from_name, addr_spec=email.from_address)
    message["To"] = [Address(addr_spec=address) for address in email.to]
    if email.cc:
        message["Cc"] = [Address(addr_spec=address) for address in email.cc]
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = email.message_id
    if email.in_reply_to:
        message["In-Reply-To"] = email.in_reply_to
    if email.references:
        message["References"] = " ".join(email.references)
    for name, value in email.headers:
        message[name] = value
    qp = "quoted-printable"
    text = email.body_text
    short = text.isascii() and all(len(line) <= 78 for line in text.splitlines())
    message.set_content(text, cte=None if short else qp)
    if email.body_html is not None:
        html = email.body_html
        short = html.isascii() and all(len(line) <= 78 for line in html.splitlines())
        message.add_alternative(html, subtype="html", cte=None if short else qp)
    return _fixed_boundary(message)


def _fixed_boundary(message: EmailMessage) -> bytes:
    """The message's bytes, its random multipart boundary (if any) replaced by a fixed one."""
    data = message.as_bytes()
    boundary = message.get_boundary()
    return data.replace(boundary.encode(), b"BOUNDARY") if boundary else data


def _email(number: int, **changes: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "from_address": "ada@acme.example.com",
        "from_name": "Ada Lovelace",
        "to": [f"grace{number}@prospect.example.com"],
        "subject": f"Our call on Tuesday ({number})",
        "body_text": "Hi Grace,\n\nthanks for your time.\n",
        "message_id": f"<{number}.abc@salesync.example.com>",
        "headers": UNSUBSCRIBE,
    }
    values.update(changes)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


CASES: dict[str, dict[str, object]] = {
    "plain": {},
    "non-ASCII display name": {"from_name": "Zoë Müller-Łukasiewicz"},
    "display name with specials": {"from_name": "Lovelace, Ada (Sales)"},
    "no display name": {"from_name": ""},
    "non-ASCII subject": {"subject": "Ihr Angebot für nächste Woche – 見積もり"},
    "long subject": {"subject": "A subject that goes on " * 8},
    "cc and thread": {
        "cc": ["alan@prospect.example.com", "joan@prospect.example.com"],
        "in_reply_to": "<parent.1@salesync.example.com>",
        "references": ("<root.0@salesync.example.com>", "<parent.1@salesync.example.com>"),
    },
    "long body line": {"body_text": "Unsubscribe: https://salesync.example.com/u/" + "x" * 90},
    "non-ASCII body": {"body_text": "Grüße aus Zürich\n"},
    "tracked HTML": {
        "body_html": '<p>Hi <a href="https://salesync.example.com/c/1">Grace</a></p>'
        '<img src="https://salesync.example.com/o/1" alt="">\n'
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_message_is_the_one_built_with_every_header_parsed_afresh(case: str) -> None:
    for number, now in enumerate([NOW, NOW, NOW + timedelta(seconds=1), NOW]):
        email = _email(number, **CASES[case])
        built = build_message(email, domain="salesync.example.com", now=now).message
        assert _fixed_boundary(built) == _reference(email, now)


def test_a_shared_header_reads_back_as_its_own_message_set_it() -> None:
    zone = timezone(timedelta(hours=2))
    first = build_message(_email(1), domain="salesync.example.com", now=NOW).message
    second = build_message(
        _email(2, from_name="Ada L."), domain="salesync.example.com", now=NOW.astimezone(zone)
    ).message
    assert str(first["From"]) == "Ada Lovelace <ada@acme.example.com>"
    assert str(second["From"]) == '"Ada L." <ada@acme.example.com>'
    assert first["Date"].datetime == second["Date"].datetime
    assert str(first["Date"]) != str(second["Date"])
    assert first["Content-Type"].params == {"charset": "utf-8"}
