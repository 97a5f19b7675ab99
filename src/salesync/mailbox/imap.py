"""The real mailbox connector: IMAP4rev1 over the standard library's imaplib.

Folders are opened with EXAMINE (read-only) and bodies fetched with ``BODY.PEEK`` so nothing,
``\\Seen`` included, ever changes in the rep's mailbox. A message is read in two steps per
chunk of UIDs: its headers, size and BODYSTRUCTURE, then only its text part, cut at 64 KB, so
a 50 MB attachment is never downloaded. Every imaplib, socket and TLS error becomes a
``MailboxError`` carrying the server's own answer.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import re
import select
import ssl
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from salesync.domain.mail_text import part_text
from salesync.mailbox import structure
from salesync.mailbox.auth import Authenticator
from salesync.mailbox.client import (
    FETCH_CHUNK,
    TEXT_LIMIT_BYTES,
    FetchedMessage,
    FolderInfo,
    FolderState,
    Security,
    ServerAddress,
)
from salesync.mailbox.errors import (
    MailboxAuthFailed,
    MailboxError,
    MailboxProtocolError,
    MailboxUnreachable,
)

_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>"[^"]*"|NIL) (?P<name>.+)$')
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def is_loopback(host: str) -> bool:
    return host.strip().lower() in _LOOPBACK or host.startswith("127.")


class ImapConnector:
    """Opens IMAP sessions; ``ssl_context`` lets a deployment (or a test) trust its own CA."""

    def __init__(self, ssl_context: Callable[[], ssl.SSLContext] | None = None) -> None:
        self._context = ssl_context or ssl.create_default_context

    @contextmanager
    def open(self, address: ServerAddress, auth: Authenticator) -> Iterator[ImapSession]:
        connection = self._connect(address)
        try:
            with _translated("log in"):
                try:
                    auth.authenticate(connection)
                except imaplib.IMAP4.error as exc:
                    raise MailboxAuthFailed(_answer(exc)) from None
            yield ImapSession(connection)
        finally:
            _logout(connection)

    def _connect(self, address: ServerAddress) -> imaplib.IMAP4:
        if address.security is Security.PLAIN and not is_loopback(address.host):
            raise MailboxUnreachable("an unencrypted connection is only allowed to this machine")
        with _translated(f"connect to {address.host}:{address.port}"):
            if address.security is Security.TLS:
                return imaplib.IMAP4_SSL(
                    address.host,
                    address.port,
                    ssl_context=self._context(),
                    timeout=address.timeout_seconds,
                )
            connection = imaplib.IMAP4(address.host, address.port, timeout=address.timeout_seconds)
            if address.security is Security.STARTTLS:
                try:
                    connection.starttls(ssl_context=self._context())
                except BaseException:
                    _logout(connection)
                    raise
            return connection


class ImapSession:
    """An authenticated session (see ``client.MailboxSession``)."""

    def __init__(self, connection: imaplib.IMAP4) -> None:
        self._imap = connection
        self.capabilities = frozenset(c.upper() for c in connection.capabilities)

    def folders(self) -> list[FolderInfo]:
        with _translated("list folders"):
            status, lines = self._imap.list()
        _check(status, lines, "LIST")
        found: list[FolderInfo] = []
        for line in lines:
            if isinstance(line, tuple):  # a name sent as a literal
                head, literal = line
                line = head.rpartition(b"{")[0] + b'"' + literal + b'"'
            if not isinstance(line, bytes):
                continue
            match = _LIST_LINE.match(line)
            if match is None:
                continue
            flags = frozenset(f.decode() for f in match["flags"].split())
            if "\\Noselect" in flags or "\\NonExistent" in flags:
                continue
            found.append(FolderInfo(_folder_name(match["name"]), flags))
        return found

    def examine(self, folder: str) -> FolderState:
        with _translated(f"open {folder}"):
            status, data = self._imap.select(_quote(folder), readonly=True)
            _check(status, data, f"EXAMINE {folder}")
            validity = self._imap.response("UIDVALIDITY")[1]
            uid_next = self._imap.response("UIDNEXT")[1]
        if not validity or validity[0] is None:
            raise MailboxProtocolError(f"{folder}: the server gave no UIDVALIDITY")
        exists = int(data[0]) if data and data[0] else 0
        next_value = int(uid_next[0]) if uid_next and uid_next[0] else None
        return FolderState(int(validity[0]), next_value, exists)

    def uids_after(self, last_uid: int, *, since: dt.date | None = None) -> list[int]:
        criteria = [f"UID {last_uid + 1}:*"]
        if since is not None:
            criteria.append(f"SINCE {since.day}-{_MONTHS[since.month - 1]}-{since.year}")
        with _translated("search"):
            status, data = self._imap.uid("SEARCH", *criteria)
        _check(status, data, "UID SEARCH")
        uids = [int(u) for u in b" ".join(d for d in data if d).split()]
        # "n:*" always matches the last message, even when its UID is not above n.
        return sorted(u for u in uids if u > last_uid)

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        messages: list[FetchedMessage] = []
        for start in range(0, len(uids), FETCH_CHUNK):
            messages.extend(self._fetch_chunk(uids[start : start + FETCH_CHUNK]))
        return messages

    def _fetch_chunk(self, uids: Sequence[int]) -> list[FetchedMessage]:
        if not uids:
            return []
        heads = self._uid_fetch(uids, "(UID RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER])")
        by_section: dict[str, list[int]] = defaultdict(list)
        parts: dict[int, structure.TextPart | None] = {}
        for uid, answer in heads.items():
            shape = answer.get("BODYSTRUCTURE")
            if structure.content_type(shape) == "multipart/report":
                parts[uid] = structure.TextPart("TEXT", "report", None, None)
            else:
                parts[uid] = structure.text_part(shape)
            part = parts[uid]
            if part is not None:
                by_section[part.section].append(uid)
        bodies: dict[int, bytes] = {}
        for section, members in by_section.items():
            item = f"BODY.PEEK[{section}]<0.{TEXT_LIMIT_BYTES}>"
            for uid, answer in self._uid_fetch(members, f"(UID {item})").items():
                bodies[uid] = _body(answer, section)
        return [self._message(uid, heads[uid], parts[uid], bodies.get(uid, b"")) for uid in heads]

    def _message(
        self,
        uid: int,
        answer: dict[str, structure.Value],
        part: structure.TextPart | None,
        body: bytes,
    ) -> FetchedMessage:
        headers = _body(answer, "HEADER")
        size_value = answer.get("RFC822.SIZE")
        size = int(size_value) if isinstance(size_value, bytes) and size_value.isdigit() else 0
        if part is None:
            return FetchedMessage(uid, size, headers)
        if part.subtype == "report":
            return FetchedMessage(uid, size, headers, report=headers + body)
        text = part_text(
            body,
            transfer_encoding=part.transfer_encoding,
            charset=part.charset,
            subtype=part.subtype,
        )
        return FetchedMessage(uid, size, headers, text=text)

    def _uid_fetch(self, uids: Sequence[int], items: str) -> dict[int, dict[str, structure.Value]]:
        with _translated("fetch"):
            status, data = self._imap.uid("FETCH", ",".join(str(u) for u in uids), items)
        _check(status, data, "UID FETCH")
        answers: dict[int, dict[str, structure.Value]] = {}
        for answer in structure.parse_fetch(data):
            uid = answer.get("UID")
            if isinstance(uid, bytes) and uid.isdigit():
                answers[int(uid)] = answer
        return answers

    def wait_for_change(self, seconds: float) -> bool:
        if "IDLE" not in self.capabilities or seconds <= 0:
            return False
        imap: Any = self._imap
        with _translated("idle"):
            tag = imap._new_tag()
            imap.send(tag + b" IDLE\r\n")
            if not imap.readline().startswith(b"+"):
                raise MailboxProtocolError("the server refused IDLE")
            changed = False
            readable, _, _ = select.select([imap.sock], [], [], seconds)
            if readable:
                line = imap.readline()
                changed = b"EXISTS" in line or b"RECENT" in line
            imap.send(b"DONE\r\n")
            # Read up to the tagged completion of IDLE; untagged lines before it are news too.
            for _ in range(1000):
                line = imap.readline()
                if not line or line.startswith(tag):
                    break
                changed = changed or b"EXISTS" in line
        return changed


def _body(answer: dict[str, structure.Value], section: str) -> bytes:
    wanted = f"BODY[{section}]"
    for name, value in answer.items():
        if name == wanted or name.startswith(wanted + "<"):
            return value if isinstance(value, bytes) else b""
    return b""


def _folder_name(raw: bytes) -> str:
    name = raw.strip()
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
    # RFC 3501 §5.1.3 modified UTF-7 is left as it is: it is what EXAMINE expects back.
    return name.decode("utf-8", "replace")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(status: str, data: Sequence[object], command: str) -> None:
    if status != "OK":
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailboxProtocolError(f"{command}: {text or status}")


def _answer(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text or type(exc).__name__


@contextmanager
def _translated(doing: str) -> Iterator[None]:
    """imaplib, socket and TLS errors as MailboxError, with the server's words."""
    try:
        yield
    except MailboxError:
        raise
    except imaplib.IMAP4.abort as exc:
        raise MailboxUnreachable(
            f"the server closed the connection ({doing}): {_answer(exc)}"
        ) from None
    except imaplib.IMAP4.error as exc:
        raise MailboxProtocolError(f"{doing}: {_answer(exc)}") from None
    except ssl.SSLError as exc:
        raise MailboxUnreachable(f"TLS failed ({doing}): {exc.reason or exc}") from None
    except TimeoutError:
        raise MailboxUnreachable(f"no answer in time ({doing})") from None
    except OSError as exc:
        raise MailboxUnreachable(f"cannot {doing}: {exc.strerror or exc}") from None


def _logout(connection: imaplib.IMAP4) -> None:
    try:
        connection.logout()
    except (imaplib.IMAP4.error, OSError):
        pass  # the session is over either way
