"""A small real SMTP server (aiosmtpd) that captures what it receives, for tests and the demo.

It speaks SMTP over TCP on 127.0.0.1 from a background thread, records each message with its
envelope, and can refuse senders, recipients or messages, offer STARTTLS (with a certificate
made at start) and require AUTH LOGIN/PLAIN with one fixed user.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from salesync.mail.tls import SelfSignedCertificate

RefusedCommand = Literal["MAIL", "RCPT", "DATA"]

#: aiosmtpd's logger; it warns on every successful AUTH about its own deprecated attribute.
_AIOSMTPD_LOGGER = logging.getLogger("mail.log")


class _DropLoginDataDeprecation(logging.Filter):
    """Drops aiosmtpd's internal ``login_data`` deprecation notice, which no caller can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Session.login_data is deprecated")


_AIOSMTPD_LOGGER.addFilter(_DropLoginDataDeprecation())


@dataclass(frozen=True)
class Refusal:
    """Answer ``code text`` instead of accepting one command for one address.

    ``address`` is the sender for MAIL and DATA and the recipient for RCPT; ``"*"`` matches any.
    """

    command: RefusedCommand
    address: str = "*"
    code: int = 550
    text: str = "5.7.1 Refused by policy"

    def matches(self, command: RefusedCommand, address: str) -> bool:
        return self.command == command and self.address in ("*", address.lower())

    @property
    def reply(self) -> str:
        return f"{self.code} {self.text}"


@dataclass(frozen=True)
class CapturedMessage:
    """One message the server accepted."""

    #: Envelope sender (MAIL FROM).
    mail_from: str
    #: Envelope recipients the server accepted (RCPT TO), in order.
    rcpt_tos: list[str]
    #: The DATA bytes exactly as received (dot-unstuffed), headers and body.
    data: bytes
    #: The user that logged in with AUTH, if any.
    authenticated_as: str | None
    #: Whether the connection was encrypted (STARTTLS or implicit TLS).
    encrypted: bool

    @property
    def message(self) -> EmailMessage:
        """``data`` parsed with the modern email policy."""
        return message_from_bytes(self.data, policy=policy.default)


class CapturingSmtpServer:
    """An SMTP server on an ephemeral port of 127.0.0.1; use ``with`` or ``start``/``stop``.

    ``messages`` holds what was accepted. ``credentials=(user, password)`` makes AUTH required
    before MAIL. ``starttls`` offers STARTTLS; ``implicit_tls`` speaks TLS from the first byte.
    ``client_ssl_context()`` trusts the generated certificate.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        refusals: Iterable[Refusal] = (),
        starttls: bool = False,
        implicit_tls: bool = False,
        credentials: tuple[str, str] | None = None,
        server_name: str = "localhost",
    ) -> None:
        if starttls and implicit_tls:
            raise ValueError("choose starttls or implicit_tls, not both")
        self.host = host
        self._requested_port = port
        self.port = 0
        self.server_name = server_name
        self.credentials = credentials
        self.certificate: SelfSignedCertificate | None = None
        self._server_tls: ssl.SSLContext | None = None
        self._starttls = starttls
        self._implicit_tls = implicit_tls
        self._refusals = [_normalised(refusal) for refusal in refusals]
        self._messages: list[CapturedMessage] = []
        self._received = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        user = self.credentials[0] if self.credentials else None
        return f"CapturingSmtpServer(host={self.host!r}, port={self.port}, user={user!r})"

    # -- what the tests look at ---------------------------------------------------------------

    @property
    def messages(self) -> list[CapturedMessage]:
        with self._received:
            return list(self._messages)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[CapturedMessage]:
        """Block until at least ``count`` messages arrived; raises ``TimeoutError`` otherwise."""
        with self._received:
            if not self._received.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)} of {count} messages arrived")
            return list(self._messages)

    def clear(self) -> None:
        with self._received:
            self._messages.clear()

    def refuse(self, refusal: Refusal) -> None:
        """Add a refusal rule; it applies to the next commands."""
        with self._received:
            self._refusals.append(_normalised(refusal))

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and nothing else)."""
        if self.certificate is None:
            raise RuntimeError("the server offers no TLS, or is not started")
        return self.certificate.client_context()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the SMTP server is already running")
        if self._starttls or self._implicit_tls:
            self.certificate = SelfSignedCertificate.generate(now=datetime.now(UTC))
            self._server_tls = self.certificate.server_context()
        # Binding here, before the thread starts, gives the port at once and no race for it.
        listener = _listen(self.host, self._requested_port)
        self.port = listener.getsockname()[1]
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(target=self._serve, args=(loop, listener, ready), daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"SMTP server on {self.host}:{self.port} did not start")
        self._loop, self._thread = loop, thread

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop, self._thread = None, None

    def __enter__(self) -> CapturingSmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(
        self, loop: asyncio.AbstractEventLoop, listener: socket.socket, ready: threading.Event
    ) -> None:
        asyncio.set_event_loop(loop)
        implicit_tls = self._server_tls if self._implicit_tls else None
        server = loop.run_until_complete(
            loop.create_server(lambda: self._protocol(loop), sock=listener, ssl=implicit_tls)
        )
        loop.call_soon(ready.set)
        loop.run_forever()
        server.close()
        _cancel_remaining_tasks(loop)
        loop.run_until_complete(server.wait_closed())
        loop.close()

    def _protocol(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        return SMTP(
            _Handler(self),
            hostname=self.server_name,
            tls_context=self._server_tls if self._starttls else None,
            authenticator=self._authenticate if self.credentials else None,
            # Without TLS on offer, AUTH must work in clear text for tests of plain servers.
            auth_require_tls=self._starttls,
            loop=loop,
        )

    # -- called from the server's event loop --------------------------------------------------

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self.credentials or ("", "")
        given_user = data.login.decode("utf-8", "replace")
        given_password = data.password.decode("utf-8", "replace")
        if (given_user, given_password) != (user, password):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=given_user)

    def _refusal(self, command: RefusedCommand, address: str) -> Refusal | None:
        with self._received:
            return next((r for r in self._refusals if r.matches(command, address)), None)

    def _record(self, message: CapturedMessage) -> None:
        with self._received:
            self._messages.append(message)
            self._received.notify_all()


class _Handler:
    """aiosmtpd hooks: refusals, required AUTH, and capture on DATA."""

    def __init__(self, server: CapturingSmtpServer) -> None:
        self._server = server

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._server.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        refusal = self._server._refusal("MAIL", address)
        if refusal is not None:
            return refusal.reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._server._refusal("RCPT", address)
        if refusal is not None:
            return refusal.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        sender = envelope.mail_from or ""
        refusal = self._server._refusal("DATA", sender)
        if refusal is not None:
            return refusal.reply
        auth_data = session.auth_data
        self._server._record(
            CapturedMessage(
                mail_from=sender,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content or b"",
                authenticated_as=auth_data if isinstance(auth_data, str) else None,
                encrypted=_is_encrypted(server),
            )
        )
        return "250 2.0.0 Message accepted"


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket.

    The protocol is named explicitly: asyncio turns Nagle's algorithm off only for sockets whose
    ``proto`` is TCP, and with Nagle on, each multi-line reply (EHLO) waits ~40 ms for an ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen()
    return listener


def _is_encrypted(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def _normalised(refusal: Refusal) -> Refusal:
    return Refusal(refusal.command, refusal.address.lower(), refusal.code, refusal.text)


def _cancel_remaining_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel open client sessions so stopping never leaves pending tasks behind."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
