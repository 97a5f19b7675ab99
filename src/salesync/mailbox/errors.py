"""What can go wrong reading a mailbox, by what the rep or admin can do about it.

* MailboxError
  + MailboxUnreachable   the server did not answer (host, port, TLS, network): try later
  + MailboxAuthFailed    the server refused the username or password: fix the credentials
  + MailboxProtocolError the server answered something we cannot use (folder gone, bad reply)

Each carries the server's own words in ``message`` (never the password).
"""

from __future__ import annotations


class MailboxError(Exception):
    """The mailbox could not be read."""

    code = "MAILBOX_ERROR"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        super().__init__(self.message)


class MailboxUnreachable(MailboxError):
    """The mail server could not be reached."""

    code = "MAILBOX_UNREACHABLE"


class MailboxAuthFailed(MailboxError):
    """The mail server refused the username or password."""

    code = "MAILBOX_AUTH_FAILED"


class MailboxProtocolError(MailboxError):
    """The mail server's answer could not be used."""

    code = "MAILBOX_PROTOCOL_ERROR"
