"""Read the facts salesync needs from a message's header block, whatever state it is in.

Mail found in a mailbox was written by any client: 8-bit bytes in headers, RFC 2047 encoded
words, addresses that do not parse, several Message-IDs or none. Every function here takes
bytes or text and returns values; none raises on bad input. A defect is kept in ``problems``
so the caller can show it, and a message without a Message-ID gets a stable key made from the
headers that stay the same when the message is moved or copied (RFC 5322 §3.6.4 makes the
Message-ID optional).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import hashlib
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

#: A msg-id token of RFC 5322 §3.6.4; clients are lax, so anything between angle brackets.
_MSG_ID = re.compile(r"<([^<>\s]{1,250})>")
#: What a header address needs to be usable as a matching key.
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
#: Prefix of keys made from headers for messages without a Message-ID.
HEADER_KEY_PREFIX = "hdr-"
#: The domain of such keys, reserved so it never collides with a real Message-ID (RFC 6761).
HEADER_KEY_DOMAIN = "salesync.invalid"


@dataclasses.dataclass(frozen=True)
class MessageFacts:
    """What salesync uses of one message, read from its headers."""

    #: The Message-ID with its angle brackets, or the stable key when there is none.
    key: str
    #: True when ``key`` is the message's own Message-ID.
    has_message_id: bool
    from_address: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: dt.datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    #: Lower-cased ``type/subtype`` of the whole message.
    content_type: str
    #: The ``report-type`` parameter of a ``multipart/report`` (RFC 6522), lower-cased.
    report_type: str | None
    #: RFC 3834 ``Auto-Submitted`` value, lower-cased ("no" when absent).
    auto_submitted: str
    #: Defects found while reading, in words (empty for a clean message).
    problems: tuple[str, ...] = ()

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Every Message-ID this message answers: In-Reply-To first, then References."""
        seen: dict[str, None] = {}
        for value in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(value, None)
        return tuple(seen)

    @property
    def recipients(self) -> tuple[str, ...]:
        """To then Cc, each address once (case-insensitively)."""
        unique: dict[str, str] = {}
        for address in (*self.to, *self.cc):
            unique.setdefault(address.lower(), address)
        return tuple(unique.values())


def parse_message(raw: bytes) -> EmailMessage:
    """Parse bytes into a message with the modern policy; never raises on malformed MIME."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def read_facts(raw_headers: bytes) -> MessageFacts:
    """The facts of a message from its header block (the body may be absent or cut)."""
    message = BytesParser(policy=policy.default).parsebytes(raw_headers, headersonly=True)
    problems: list[str] = []
    message_ids = message_ids_in(_header(message, "Message-ID", problems))
    from_list = addresses_in(message, "From", problems)
    to = addresses_in(message, "To", problems)
    cc = addresses_in(message, "Cc", problems)
    subject = one_line(_header(message, "Subject", problems))
    date = _date(_header(message, "Date", problems), problems)
    content_type, report_type = _content_type(message, problems)
    facts_key = message_ids[0] if message_ids else header_key(message, problems)
    return MessageFacts(
        key=facts_key,
        has_message_id=bool(message_ids),
        from_address=from_list[0] if from_list else None,
        to=to,
        cc=cc,
        subject=subject,
        date=date,
        in_reply_to=message_ids_in(_header(message, "In-Reply-To", problems)),
        references=message_ids_in(_header(message, "References", problems)),
        content_type=content_type,
        report_type=report_type,
        auto_submitted=(_header(message, "Auto-Submitted", problems) or "no").strip().lower(),
        problems=tuple(dict.fromkeys(problems)),
    )


def message_ids_in(value: str | None) -> tuple[str, ...]:
    """The ``<…>`` tokens of a Message-ID, In-Reply-To or References value, in order."""
    if not value:
        return ()
    return tuple(dict.fromkeys(f"<{token}>" for token in _MSG_ID.findall(value)))


def header_key(message: EmailMessage, problems: list[str] | None = None) -> str:
    """A stable Message-ID-shaped key from headers a move or a copy does not change."""
    sink: list[str] = problems if problems is not None else []
    parts = [(_header(message, name, sink) or "").strip() for name in ("From", "To", "Cc", "Date")]
    parts.append(one_line(_header(message, "Subject", sink)))
    digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
    return f"<{HEADER_KEY_PREFIX}{digest[:40]}@{HEADER_KEY_DOMAIN}>"


def addresses_in(
    message: EmailMessage, name: str, problems: list[str] | None = None
) -> tuple[str, ...]:
    """Usable addresses of an address header; unparseable entries are left out and noted."""
    sink: list[str] = problems if problems is not None else []
    values = _all_headers(message, name, sink)
    found: list[str] = []
    for _, address in email.utils.getaddresses(values):
        cleaned = address.strip().strip("<>")
        if not cleaned:
            continue
        if _ADDRESS.match(cleaned) and cleaned.isascii():
            found.append(cleaned)
        else:
            sink.append(f"{name}: {cleaned[:80]!r} is not an email address")
    return tuple(dict.fromkeys(found))


def one_line(value: str | None) -> str:
    """A header value on one line, without control characters."""
    if not value:
        return ""
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower().rstrip(".")


def _header(message: EmailMessage, name: str, problems: list[str]) -> str | None:
    values = _all_headers(message, name, problems)
    return values[0] if values else None


def _all_headers(message: EmailMessage, name: str, problems: list[str]) -> list[str]:
    """Decoded values of a header; a value the parser cannot decode falls back to its raw
    text (8-bit bytes come back as replacement characters, never as an exception)."""
    values: list[str] = []
    for raw_name, raw_value in message.raw_items():
        if raw_name.lower() != name.lower():
            continue
        try:
            values.append(str(policy.default.header_factory(raw_name, raw_value)))
        except Exception:  # the parser's failures are many and undocumented: keep the raw text
            problems.append(f"{name}: the header could not be decoded")
            values.append(_raw_text(raw_value))
    return values


def _raw_text(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _date(value: str | None, problems: list[str]) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        problems.append(f"Date: {value[:60]!r} is not a date")
        return None
    if parsed.tzinfo is None:
        # RFC 5322 §3.3: "-0000" means the zone is unknown; UTC is the least wrong reading.
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _content_type(message: EmailMessage, problems: list[str]) -> tuple[str, str | None]:
    try:
        content_type = message.get_content_type().lower()
        report_type = message.get_param("report-type", header="content-type")
    except Exception:  # a broken Content-Type is read as plain text (RFC 2045 §5.2)
        problems.append("Content-Type: the header could not be read")
        return "text/plain", None
    if isinstance(report_type, tuple):
        report_type = email.utils.collapse_rfc2231_value(report_type)
    return content_type, report_type.lower() if isinstance(report_type, str) else None
