"""Raw messages as mail clients and servers write them, for the mailbox sync tests."""

from __future__ import annotations

import datetime as dt
import email.utils
from email.message import EmailMessage
from email.policy import SMTP


def _date(when: dt.datetime | None) -> str:
    return email.utils.format_datetime(when or dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC))


def mail(
    *,
    sender: str,
    to: str | list[str],
    subject: str = "Hello",
    body: str = "Hi there",
    message_id: str | None = "<m1@client.example>",
    cc: str | list[str] | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    when: dt.datetime | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to) if isinstance(to, list) else to
    if cc:
        message["Cc"] = ", ".join(cc) if isinstance(cc, list) else cc
    message["Subject"] = subject
    message["Date"] = _date(when)
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (extra or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def dsn(
    *,
    to: str,
    original_id: str,
    recipient: str,
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <pat@prospect.test>: Recipient address rejected: "
    "User unknown",
    action: str = "failed",
    message_id: str = "<dsn1@mx.example>",
    include_original: bool = True,
) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes one."""
    boundary = "dsn-boundary-42"
    original = (
        f"From: rep1@salesync.test\r\nTo: {recipient}\r\nSubject: Pricing\r\n"
        f"Message-ID: {original_id}\r\n\r\n"
    )
    parts = [
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.example.\r\n\r\nI'm sorry to have to inform you "
        "that your message could not be delivered.\r\n",
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\nArrival-Date: Mon, 2 Mar 2026 15:00:00 +0000\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nRemote-MTA: dns; mx.prospect.test\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n",
    ]
    if include_original:
        parts.append(f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{original}")
    head = (
        "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\n"
        f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id}\r\nDate: {_date(None)}\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
    )
    return (head + "".join(parts) + f"--{boundary}--\r\n").encode()
