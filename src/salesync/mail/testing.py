"""An in-memory ``Mailer`` for tests: records what would have been sent, refuses what it is told to.

It builds every message with the real ``build_message``, so header injection and bad addresses
fail exactly as they would with SMTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from salesync.clock import Clock, SystemClock
from salesync.mail.errors import MailRecipientsRefused
from salesync.mail.message import OutgoingEmail, build_message, envelope_recipients
from salesync.mail.smtp import SentMessage

#: What a real server typically answers for an unknown mailbox (RFC 3463 status 5.1.1).
DEFAULT_REFUSAL = (550, "5.1.1 Mailbox unavailable")


@dataclass(frozen=True)
class RecordedEmail:
    """One email the fake accepted."""

    email: OutgoingEmail
    message: EmailMessage
    #: Envelope recipients that would have received it (the BCC included).
    envelope: list[str]
    result: SentMessage


class InMemoryMailer:
    """A ``Mailer`` that keeps sent emails in ``sent`` instead of talking to a server.

    For testing only. Addresses in ``refuse`` are refused as a server would refuse them: the
    email still goes to the others, unless no To/Cc recipient is left.
    """

    def __init__(
        self,
        *,
        domain: str = "salesync.test",
        refuse: Iterable[str] = (),
        clock: Clock | None = None,
    ) -> None:
        self.domain = domain
        self.refused_addresses = {address.lower() for address in refuse}
        self.sent: list[RecordedEmail] = []
        self._clock = clock or SystemClock()

    def send(self, email: OutgoingEmail) -> SentMessage:
        message, message_id = build_message(email, domain=self.domain, now=self._clock.now())
        recipients = envelope_recipients(email)
        refused = {
            address: DEFAULT_REFUSAL
            for address in recipients
            if address.lower() in self.refused_addresses
        }
        visible = {address.lower() for address in [*email.to, *email.cc]}
        if visible <= {address.lower() for address in refused}:
            raise MailRecipientsRefused(refused)
        accepted = [address for address in recipients if address not in refused]
        result = SentMessage(message_id, accepted, refused)
        self.sent.append(RecordedEmail(email, message, accepted, result))
        return result
