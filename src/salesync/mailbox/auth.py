"""How salesync proves who it is to an IMAP server: one small interface, one class per method.

Password (``LOGIN``) is what exists today; XOAUTH2 for Gmail and Microsoft 365 will be another
``Authenticator`` (``imap.authenticate("XOAUTH2", ...)``) without touching the sync.
"""

from __future__ import annotations

import imaplib
from dataclasses import dataclass, field
from typing import Protocol


class Authenticator(Protocol):
    """Authenticates an open, not yet authenticated IMAP connection."""

    @property
    def username(self) -> str: ...

    def authenticate(self, connection: imaplib.IMAP4) -> None:
        """Raise ``imaplib.IMAP4.error`` with the server's answer when refused."""
        ...


@dataclass(frozen=True)
class PasswordAuth:
    """IMAP ``LOGIN`` with a username and an (app) password."""

    username: str
    password: str = field(repr=False)

    def authenticate(self, connection: imaplib.IMAP4) -> None:
        connection.login(self.username, self.password)
