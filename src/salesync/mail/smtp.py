"""Send sales email over SMTP (STARTTLS or implicit TLS, AUTH, timeouts) behind the Mailer seam."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Annotated, NoReturn, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from salesync.clock import Clock, SystemClock
from salesync.mail.errors import (
    SERVICE_NOT_AVAILABLE,
    MailAuthenticationFailed,
    MailError,
    MailRecipientsRefused,
    MailRejected,
    MailServerUnavailable,
    MailTlsFailed,
)
from salesync.mail.message import OutgoingEmail, build_message, envelope_recipients
from salesync.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
#: RFC 5321 §4.2.2: 250 "OK" and 251 "User not local; will forward" both accept a recipient.
_ACCEPTED_RECIPIENT_CODES = frozenset({250, 251})


class SmtpSettings(BaseModel):
    """Where and how to reach one SMTP server (the team's, or a rep's own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    #: Empty means no AUTH.
    username: str = ""
    #: Never logged: ``SecretStr`` shows as ``**********`` in repr and str.
    password: SecretStr = SecretStr("")
    #: Upgrade the connection with STARTTLS; sending fails if the server does not offer it.
    starttls: bool = False
    #: Implicit TLS from the first byte (port 465 style).
    ssl: bool = False
    #: Applies to connecting and to every single SMTP reply.
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = DEFAULT_TIMEOUT_SECONDS

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpSettings:
        if self.starttls and self.ssl:
            raise ValueError("choose STARTTLS or implicit TLS (ssl), not both")
        return self

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings:
        """The team SMTP server from ``SALESYNC_SMTP_*``."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout_seconds=settings.smtp_timeout_seconds,
        )


@dataclass(frozen=True)
class SentMessage:
    """What the server accepted; partial refusals are reported here, not raised."""

    message_id: str
    #: Envelope recipients the server accepted.
    accepted: list[str]
    #: Envelope recipients the server refused: address -> (SMTP code, server text).
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


class Mailer(Protocol):
    """Sends one email; raises ``MailError`` (sending) or ``InvalidMessage`` (building)."""

    def send(self, email: OutgoingEmail) -> SentMessage: ...


class SmtpMailer:
    """A ``Mailer`` that opens one SMTP connection per email with smtplib."""

    def __init__(
        self,
        settings: SmtpSettings,
        domain: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``domain`` names this service in EHLO and in Message-IDs; ``ssl_context`` decides
        which certificates are trusted (the system's by default)."""
        self.settings = settings
        self.domain = domain
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"SmtpMailer(settings={self.settings!r}, domain={self.domain!r})"

    def send(self, email: OutgoingEmail) -> SentMessage:
        """Build and send ``email``; envelope recipients are To + Cc + ``envelope_bcc``."""
        message, message_id = build_message(email, domain=self.domain, now=self._clock.now())
        recipients = envelope_recipients(email)
        visible = {address.lower() for address in [*email.to, *email.cc]}
        with _translate_smtp_errors(self.settings), self._connect() as connection:
            refused = _transmit(connection, email.from_address, recipients, visible, message)
        accepted = [address for address in recipients if address not in refused]
        logger.info(
            "mail sent",
            extra={
                "action": "mail_sent",
                "message_id": message_id,
                "accepted": len(accepted),
                "refused": len(refused),
            },
        )
        return SentMessage(message_id, accepted, refused)

    @contextmanager
    def _connect(self) -> Iterator[smtplib.SMTP]:
        settings = self.settings
        connection = self._open()
        try:
            connection.ehlo_or_helo_if_needed()
            if settings.starttls:
                _start_tls(connection, self._ssl_context)
            if settings.username:
                _log_in(connection, settings.username, settings.password)
            yield connection
            _quit_politely(connection)
        finally:
            connection.close()

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.ssl:
            return smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                local_hostname=self.domain,
                timeout=settings.timeout_seconds,
                context=self._ssl_context,
            )
        # local_hostname spares smtplib a DNS lookup of our own name for EHLO.
        return smtplib.SMTP(
            settings.host,
            settings.port,
            local_hostname=self.domain,
            timeout=settings.timeout_seconds,
        )


def _quit_politely(connection: smtplib.SMTP) -> None:
    """QUIT after the server took the email; a failure here must not turn into a resend."""
    try:
        connection.quit()
    except OSError:  # smtplib.SMTPException is an OSError too
        logger.debug("QUIT failed after sending", extra={"action": "mail_quit_failed"})


def _start_tls(connection: smtplib.SMTP, context: ssl.SSLContext) -> None:
    if not connection.has_extn("starttls"):
        # Sending in clear text when TLS was asked for would leak the password and the email.
        raise MailTlsFailed("The mail server does not offer STARTTLS; check the SMTP settings")
    try:
        connection.starttls(context=context)
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == SERVICE_NOT_AVAILABLE:
            raise
        raise MailTlsFailed(
            f"The mail server refused STARTTLS: {exc.smtp_code} {_text(exc.smtp_error)}"
        ) from exc
    connection.ehlo_or_helo_if_needed()


def _log_in(connection: smtplib.SMTP, username: str, password: SecretStr) -> None:
    if not connection.has_extn("auth"):
        raise MailAuthenticationFailed(
            "The mail server does not offer AUTH (some servers offer it only after STARTTLS)"
        )
    try:
        connection.login(username, password.get_secret_value())
    except smtplib.SMTPException as exc:
        if type(exc) is not smtplib.SMTPException:
            raise  # answered or disconnected: mapped with the others
        # smtplib found no mechanism it shares with the server.
        raise MailAuthenticationFailed(f"Cannot log in to the mail server: {exc}") from exc


def _transmit(
    connection: smtplib.SMTP,
    sender: str,
    recipients: list[str],
    visible: set[str],
    message: EmailMessage,
) -> dict[str, tuple[int, str]]:
    """MAIL, RCPT for each recipient, DATA; returns the refused recipients.

    Unlike ``smtplib.sendmail``, DATA is sent only when a To/Cc recipient was accepted: an email
    that reaches nobody but the Email-to-Salesforce address must not be logged as sent.
    """
    code, reply = connection.mail(sender)
    if code != 250:
        _abort(connection, code, reply, "MAIL FROM")
    refused: dict[str, tuple[int, str]] = {}
    for address in recipients:
        code, reply = connection.rcpt(address)
        if code not in _ACCEPTED_RECIPIENT_CODES:
            refused[address] = (code, _text(reply))
    if visible <= {address.lower() for address in refused}:
        _reset(connection)
        raise MailRecipientsRefused(refused)
    code, reply = connection.data(message.as_bytes())
    if code != 250:
        _abort(connection, code, reply, "DATA")
    return refused


def _abort(connection: smtplib.SMTP, code: int, reply: bytes, command: str) -> NoReturn:
    if code == SERVICE_NOT_AVAILABLE:
        raise MailServerUnavailable(f"The mail server is not available: {code} {_text(reply)}")
    _reset(connection)
    raise MailRejected(code, _text(reply), command=command)


def _reset(connection: smtplib.SMTP) -> None:
    """RSET so the server drops the transaction; the refusal, not this, is what we report."""
    try:
        connection.rset()
    except OSError:
        logger.debug("RSET failed", extra={"action": "mail_rset_failed"})


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


@contextmanager
def _translate_smtp_errors(settings: SmtpSettings) -> Iterator[None]:
    """Map smtplib, ssl and socket errors to ``MailError`` once, here, keeping the cause."""
    server = f"The mail server {settings.host}:{settings.port}"
    try:
        yield
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        code, text = exc.smtp_code, _text(exc.smtp_error)
        raise MailAuthenticationFailed(
            f"{server} refused the SMTP login: {code} {text}", code=code, text=text
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailAuthenticationFailed(f"{server} cannot log us in: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        # SMTPDataError, SMTPSenderRefused, SMTPHeloError, SMTPConnectError and friends.
        code, text = exc.smtp_code, _text(exc.smtp_error)
        if code == SERVICE_NOT_AVAILABLE or isinstance(exc, smtplib.SMTPConnectError):
            raise MailServerUnavailable(f"{server} is not available: {code} {text}") from exc
        raise MailRejected(code, text, command=_command_of(exc)) from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise MailServerUnavailable(f"{server} closed the connection: {exc}") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"Sending through {server} failed: {exc}") from exc
    except ssl.SSLError as exc:
        raise MailTlsFailed(f"TLS with {server} failed: {exc}") from exc
    except OSError as exc:
        # Refused connection, unknown host, timeout (TimeoutError is an OSError). One answer
        # for all: telling them apart would let a caller map which hosts and ports are open.
        # The operator finds the precise cause in the log.
        logger.warning(
            "mail server unreachable",
            extra={
                "action": "mail_unreachable",
                "server": f"{settings.host}:{settings.port}",
                "cause": f"{type(exc).__name__}: {exc}",
            },
        )
        raise MailServerUnavailable(f"{server} cannot be reached") from exc


def _command_of(exc: smtplib.SMTPResponseException) -> str:
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "MAIL FROM"
    if isinstance(exc, smtplib.SMTPDataError):
        return "DATA"
    if isinstance(exc, smtplib.SMTPHeloError):
        return "EHLO"
    return "SMTP"
