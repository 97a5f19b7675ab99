"""The sandbox's SMTP listener (aiosmtpd): Email to Salesforce for the org's addresses, and
the mail catcher for every message, whoever it is for.

Mail to any other address is accepted and only kept in the catcher, so a demo can point
salesync's SMTP at the sandbox and see every email it sends. The server runs its own event
loop in a background thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from aiosmtpd.smtp import SMTP, Envelope, Session

from salesync.sandbox.e2s_state import E2sUser
from salesync.sandbox.email_to_salesforce import (
    RecipientCheck,
    body_text,
    check_recipient,
    header_sender,
    log_message,
    parse_message,
    refusal_for,
    username_of,
)
from salesync.sandbox.mail_catcher import CaughtMail, E2sOutcome

if TYPE_CHECKING:
    from salesync.sandbox.org import Org

DEFAULT_SMTP_HOST, DEFAULT_SMTP_PORT = "127.0.0.1", 2525
SERVER_NAME = "smtp.sandbox.salesync.test"


@dataclass
class Transaction:
    """One MAIL FROM ... DATA exchange as the listener saw it."""

    mail_from: str
    rcpt_tos: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    #: Accepted Email-to-Salesforce recipients and their users.
    e2s: dict[str, E2sUser] = field(default_factory=dict)


def deliver(org: Org, transaction: Transaction, data: bytes) -> CaughtMail:
    """Process a received message: log it for each E2S recipient, then catch it."""
    message = parse_message(data)
    # The From header must be acceptable too: the envelope was checked at RCPT.
    sender = header_sender(message, transaction.mail_from)
    outcomes = []
    for recipient, user in transaction.e2s.items():
        with org.lock:
            refusal = refusal_for(org, user, sender)
            username = username_of(org, user.user_id)
        if refusal is None:
            outcomes.append(log_message(org, user, message, recipient))
        else:
            outcomes.append(
                E2sOutcome(recipient, user.user_id, username, "refused", reason=refusal)
            )
    return org.mail.add(
        received_at=org.clock.now(),
        mail_from=transaction.mail_from,
        rcpt_tos=tuple(transaction.rcpt_tos),
        refused=dict(transaction.refused),
        data_reply=_data_reply(transaction, outcomes),
        headers=tuple((key, str(value)) for key, value in message.items()),
        body_text=body_text(message),
        raw=data.decode("utf-8", "replace"),
        e2s=tuple(outcomes),
    )


def _data_reply(transaction: Transaction, outcomes: list[E2sOutcome]) -> str:
    """250, unless the message reaches nobody: only E2S recipients, all of them refusing."""
    caught = [
        address
        for address in transaction.rcpt_tos
        if address not in transaction.refused and address not in transaction.e2s
    ]
    if not caught and outcomes and all(o.status == "refused" for o in outcomes):
        return outcomes[0].reason
    if not outcomes:
        return "250 2.0.0 Message accepted"
    summary = ", ".join(f"{o.username}: {o.status}" for o in outcomes)
    return f"250 2.0.0 Message accepted; Email to Salesforce: {summary}"


def record_unsent(org: Org, transaction: Transaction) -> None:
    """Catch a transaction that ended without DATA (e.g. every recipient was refused)."""
    if transaction.rcpt_tos:
        org.mail.add(
            received_at=org.clock.now(),
            mail_from=transaction.mail_from,
            rcpt_tos=tuple(transaction.rcpt_tos),
            refused=dict(transaction.refused),
            data_reply="",
        )


class _Handler:
    """aiosmtpd hooks for one connection; org work runs in a worker thread."""

    def __init__(self, org: Org) -> None:
        self._org = org
        self._transaction: Transaction | None = None

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await self._finish_unsent()
        self._transaction = Transaction(address)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        transaction = self._transaction
        assert transaction is not None  # aiosmtpd answers 503 to RCPT before MAIL
        transaction.rcpt_tos.append(address)
        check = await asyncio.to_thread(self._check, address, transaction.mail_from)
        if check.refusal is not None:
            transaction.refused[address] = check.refusal
            return check.refusal
        if check.user is not None:
            transaction.e2s[address] = check.user
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None
        data = envelope.original_content or b""
        caught = await asyncio.to_thread(deliver, self._org, transaction, data)
        return caught.data_reply

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._finish_unsent()
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._finish_unsent()
        return "221 Bye"

    def _check(self, address: str, sender: str) -> RecipientCheck:
        with self._org.lock:
            return check_recipient(self._org, address, sender)

    async def _finish_unsent(self) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await asyncio.to_thread(record_unsent, self._org, transaction)


class SandboxSmtpServer:
    """The SMTP listener of one org, on ``host:port`` (port 0: an ephemeral port).

    Use it as a context manager, or ``start()`` / ``stop()``; ``port`` is known after start.
    """

    def __init__(
        self,
        org: Org,
        host: str = DEFAULT_SMTP_HOST,
        port: int = 0,
        *,
        server_name: str = SERVER_NAME,
    ) -> None:
        self.org = org
        self.host = host
        self._requested_port = port
        self.port = 0
        self.server_name = server_name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"SandboxSmtpServer(host={self.host!r}, port={self.port})"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the SMTP listener is already running")
        # Binding before the thread starts gives the port at once and no race for it.
        listener = _listen(self.host, self._requested_port)
        self.port = listener.getsockname()[1]
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=self._serve, args=(loop, listener, ready), name="sandbox-smtp", daemon=True
        )
        thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"SMTP listener on {self.address} did not start")
        self._loop, self._thread = loop, thread
        self.org.mail.listening_on = self.address

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop, self._thread = None, None
        self.org.mail.listening_on = None

    def __enter__(self) -> SandboxSmtpServer:
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
        server = loop.run_until_complete(
            loop.create_server(lambda: self._protocol(loop), sock=listener)
        )
        loop.call_soon(ready.set)
        loop.run_forever()
        server.close()
        _cancel_remaining_tasks(loop)
        loop.run_until_complete(server.wait_closed())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    def _protocol(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        return SMTP(_Handler(self.org), hostname=self.server_name, loop=loop)


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; naming the protocol lets asyncio turn Nagle's algorithm off,
    without which each multi-line reply (EHLO) waits for a delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen()
    return listener


def _cancel_remaining_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel open client sessions so stopping never leaves pending tasks behind."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
