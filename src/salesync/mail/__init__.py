"""Outgoing sales email: message building, SMTP sending, and fakes and a capturing server for tests.

``salesync.mail.catcher.CapturingSmtpServer`` (a real SMTP server for tests and the demo) is not
re-exported here, so importing the package never starts anything.
"""

from __future__ import annotations

from salesync.mail.errors import (
    HeaderInjection,
    InvalidAddress,
    InvalidMessage,
    InvalidMessageId,
    MailAuthenticationFailed,
    MailError,
    MailRecipientsRefused,
    MailRejected,
    MailServerUnavailable,
    MailTlsFailed,
)
from salesync.mail.message import BuiltMessage, OutgoingEmail, build_message
from salesync.mail.smtp import Mailer, SentMessage, SmtpMailer, SmtpSettings
from salesync.mail.testing import InMemoryMailer, RecordedEmail

__all__ = [
    "BuiltMessage",
    "HeaderInjection",
    "InMemoryMailer",
    "InvalidAddress",
    "InvalidMessage",
    "InvalidMessageId",
    "MailAuthenticationFailed",
    "MailError",
    "MailRecipientsRefused",
    "MailRejected",
    "MailServerUnavailable",
    "MailTlsFailed",
    "Mailer",
    "OutgoingEmail",
    "RecordedEmail",
    "SentMessage",
    "SmtpMailer",
    "SmtpSettings",
    "build_message",
]
