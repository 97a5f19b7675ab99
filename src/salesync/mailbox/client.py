"""The seam between mailbox sync and an IMAP server: what the sync asks, in plain values."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from salesync.mailbox.auth import Authenticator

#: How much of a message's text part is read; the Task Description keeps 32,000 characters.
TEXT_LIMIT_BYTES = 64 * 1024
#: How many messages one FETCH asks for (keeps command lines and answers bounded).
FETCH_CHUNK = 200


class Security(enum.StrEnum):
    """How the connection is protected."""

    #: Implicit TLS (port 993).
    TLS = "tls"
    #: Plain connection upgraded with STARTTLS (port 143).
    STARTTLS = "starttls"
    #: No encryption: only accepted for a server on this machine (loopback).
    PLAIN = "plain"


@dataclass(frozen=True)
class ServerAddress:
    host: str
    port: int
    security: Security
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class FolderInfo:
    """A folder as LIST shows it: its name and its flags (SPECIAL-USE ones included)."""

    name: str
    flags: frozenset[str]


@dataclass(frozen=True)
class FolderState:
    """What SELECT (or EXAMINE) says about a folder."""

    uid_validity: int
    uid_next: int | None
    exists: int


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the sync reads it: headers, the text part (cut), never attachments."""

    uid: int
    size: int
    headers: bytes
    #: The decoded text part (plain text, or text taken from HTML), cut to TEXT_LIMIT_BYTES.
    text: str = ""
    #: For a ``multipart/report``: headers and the start of the body, to read the DSN from.
    report: bytes | None = None
    problems: tuple[str, ...] = field(default=())


class MailboxSession(Protocol):
    """An authenticated IMAP session."""

    capabilities: frozenset[str]

    def folders(self) -> list[FolderInfo]: ...

    def examine(self, folder: str) -> FolderState:
        """Open ``folder`` read-only, so nothing (``\\Seen`` included) can change."""
        ...

    def uids_after(self, last_uid: int, *, since: dt.date | None = None) -> list[int]:
        """UIDs greater than ``last_uid`` (and, when given, of messages since ``since``)."""
        ...

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]: ...

    def wait_for_change(self, seconds: float) -> bool:
        """IDLE up to ``seconds`` (RFC 2177); True when the server reported new mail."""
        ...


class MailboxConnector(Protocol):
    """Opens sessions; the only way the sync reaches a mail server."""

    def open(
        self, address: ServerAddress, auth: Authenticator
    ) -> AbstractContextManager[MailboxSession]: ...


def special_use_folder(folders: Sequence[FolderInfo], flag: str) -> str | None:
    """The folder with SPECIAL-USE ``flag`` (RFC 6154), e.g. ``\\Sent``."""
    for folder in folders:
        if flag.lower() in {f.lower() for f in folder.flags}:
            return folder.name
    return None


def inbox_folder(folders: Sequence[FolderInfo]) -> str:
    """RFC 3501 §5.1: INBOX is case-insensitive and always exists."""
    for folder in folders:
        if folder.name.upper() == "INBOX":
            return folder.name
    return "INBOX"


def sent_folder(folders: Sequence[FolderInfo]) -> str | None:
    """``\\Sent`` by SPECIAL-USE, else the folder most clients name Sent."""
    found = special_use_folder(folders, "\\Sent")
    if found:
        return found
    names = {f.name.lower(): f.name for f in folders}
    for candidate in ("sent", "sent items", "sent messages", "inbox.sent", "[gmail]/sent mail"):
        if candidate in names:
            return names[candidate]
    return None
