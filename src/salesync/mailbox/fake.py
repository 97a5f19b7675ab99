"""An in-memory mail server for tests of the sync logic: folders, UIDs, UIDVALIDITY, faults.

It answers like ``imap.ImapConnector`` does (same values, same errors) and records what it
was asked, so a test can assert that nothing was fetched twice and that no flag changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from salesync.domain.mail_headers import parse_message
from salesync.domain.mail_text import decode_charset, html_to_text
from salesync.mailbox.auth import Authenticator, PasswordAuth
from salesync.mailbox.client import (
    TEXT_LIMIT_BYTES,
    FetchedMessage,
    FolderInfo,
    FolderState,
    ServerAddress,
)
from salesync.mailbox.errors import MailboxAuthFailed, MailboxProtocolError, MailboxUnreachable


@dataclass
class FakeFolder:
    flags: frozenset[str] = frozenset()
    uid_validity: int = 1
    next_uid: int = 1
    messages: dict[int, tuple[bytes, dt.date]] = field(default_factory=dict)


@dataclass
class FakeMailServer:
    """Folders of one account; ``down`` and ``password`` let a test break it."""

    username: str = "rep@example.com"
    password: str = "app-password"
    down: bool = False
    idle: bool = True
    folders: dict[str, FakeFolder] = field(
        default_factory=lambda: {
            "INBOX": FakeFolder(),
            "Sent": FakeFolder(frozenset({"\\Sent"})),
            "Junk": FakeFolder(frozenset({"\\Junk"})),
        }
    )
    #: (command, argument) in order: "login", "examine", "search", "fetch".
    log: list[tuple[str, str]] = field(default_factory=list)

    def append(self, folder: str, raw: bytes, *, date: dt.date | None = None) -> int:
        box = self.folders[folder]
        uid = box.next_uid
        box.messages[uid] = (raw, date or dt.date(2026, 3, 2))
        box.next_uid += 1
        return uid

    def renumber(self, folder: str) -> None:
        """What a server does when it rebuilds a folder: new UIDVALIDITY, new UIDs."""
        box = self.folders[folder]
        messages = list(box.messages.values())
        box.uid_validity += 1
        box.messages = {}
        box.next_uid = 1
        for raw, date in messages:
            box.messages[box.next_uid] = (raw, date)
            box.next_uid += 1

    def fetched_uids(self) -> list[str]:
        return [arg for command, arg in self.log if command == "fetch"]


@dataclass
class FakeConnector:
    server: FakeMailServer

    @contextmanager
    def open(self, address: ServerAddress, auth: Authenticator) -> Iterator[FakeSession]:
        if self.server.down:
            raise MailboxUnreachable(f"cannot connect to {address.host}:{address.port}: refused")
        password = auth.password if isinstance(auth, PasswordAuth) else ""
        self.server.log.append(("login", auth.username))
        if auth.username != self.server.username or password != self.server.password:
            raise MailboxAuthFailed("[AUTHENTICATIONFAILED] Authentication failed.")
        yield FakeSession(self.server)


class FakeSession:
    def __init__(self, server: FakeMailServer) -> None:
        self._server = server
        self._folder: FakeFolder | None = None
        base = {"IMAP4REV1", "SPECIAL-USE", "UIDPLUS"}
        self.capabilities = frozenset(base | ({"IDLE"} if server.idle else set()))

    def folders(self) -> list[FolderInfo]:
        return [FolderInfo(name, box.flags) for name, box in self._server.folders.items()]

    def examine(self, folder: str) -> FolderState:
        self._check_up()
        self._server.log.append(("examine", folder))
        box = self._server.folders.get(folder)
        if box is None:
            raise MailboxProtocolError(f"open {folder}: NO Mailbox doesn't exist: {folder}")
        self._folder = box
        return FolderState(box.uid_validity, box.next_uid, len(box.messages))

    def uids_after(self, last_uid: int, *, since: dt.date | None = None) -> list[int]:
        self._check_up()
        box = self._selected()
        self._server.log.append(("search", f"{last_uid + 1}:* since {since}"))
        return sorted(
            uid
            for uid, (_, date) in box.messages.items()
            if uid > last_uid and (since is None or date >= since)
        )

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        self._check_up()
        box = self._selected()
        self._server.log.append(("fetch", ",".join(map(str, uids))))
        return [_fetched(uid, box.messages[uid][0]) for uid in uids if uid in box.messages]

    def wait_for_change(self, seconds: float) -> bool:
        return False

    def _selected(self) -> FakeFolder:
        if self._folder is None:
            raise MailboxProtocolError("no folder selected")
        return self._folder

    def _check_up(self) -> None:
        if self._server.down:
            raise MailboxUnreachable("the server closed the connection")


def _fetched(uid: int, raw: bytes) -> FetchedMessage:
    split = re.search(rb"\r?\n\r?\n", raw)
    headers = raw[: split.end()] if split else raw
    message = parse_message(raw)
    if message.get_content_type() == "multipart/report":
        return FetchedMessage(uid, len(raw), headers, report=raw[: len(headers) + TEXT_LIMIT_BYTES])
    text = ""
    for wanted in ("plain", "html"):
        for part in message.walk():
            if part.get_content_type() == f"text/{wanted}" and not part.is_attachment():
                payload = part.get_payload(decode=True)
                data = payload[:TEXT_LIMIT_BYTES] if isinstance(payload, bytes) else b""
                text = decode_charset(data, part.get_content_charset())
                text = html_to_text(text) if wanted == "html" else text.replace("\r\n", "\n")
                break
        if text:
            break
    return FetchedMessage(uid, len(raw), headers, text=text)
