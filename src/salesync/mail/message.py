"""Build a sales email as an RFC 5322 message: validated headers, a unique Message-ID, no Bcc.

The Email-to-Salesforce address of BCC logging (BCC-1..4) lives in ``envelope_bcc``: it is given
to the SMTP server as an envelope recipient only and never written into a header, so no
recipient can see it.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, NamedTuple

from salesync.domain.addresses import DOMAIN, address_problem
from salesync.mail.errors import (
    HeaderInjection,
    InvalidAddress,
    InvalidMessage,
    InvalidMessageId,
)

#: Characters that end a line for the email package or a mail server (``str.splitlines``), and NUL.
#: Any of them in a header value could start a forged header.
FORBIDDEN_HEADER_CHARACTERS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

_DOMAIN_RE = re.compile(DOMAIN)
_MESSAGE_ID_RE = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")
#: RFC 5322 §2.1.1 recommends lines of at most 78 characters.
_MAX_LINE = 78


#: Headers whose values repeat from one email to the next (the Date within a second): each
#: value is parsed once and the header object shared; the others are parsed every time.
_REPEATING_HEADERS = frozenset(
    {"date", "mime-version", "content-type", "content-transfer-encoding", "list-unsubscribe-post"}
)
#: Parsed values kept at most (then forgotten all at once).
_MAX_PARSED = 256


class _HeaderClasses(HeaderRegistry):
    """The email package's header registry, with each header name's class made once:
    ``HeaderRegistry`` makes a new class at every lookup, a tenth of building a message.

    The values of ``_REPEATING_HEADERS`` are parsed once: a header object is an immutable
    ``str`` (a message replaces it, never changes it), the same for the same name and value,
    so sharing it between messages changes no byte of any message.
    """

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if type(value) is not str or name.lower() not in _REPEATING_HEADERS:
            return super().__call__(name, value)
        key = (name, value)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = super().__call__(name, value)
            if len(self._parsed) >= _MAX_PARSED:
                self._parsed.clear()
            self._parsed[key] = parsed
        return parsed

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = super().__getitem__(name)
            if len(self._made) < 256:  # our own header names: a handful
                self._made[key] = made
        return made


#: ``policy.SMTP``, building the same headers faster.
_SMTP = policy.SMTP.clone(header_factory=_HeaderClasses())


@dataclass(frozen=True)
class OutgoingEmail:
    """One sales email as the rep wrote it, plus the envelope-only BCC of BCC logging."""

    #: The rep's sending address, ``local@domain``.
    from_address: str
    #: Visible recipients; plain addresses (``local@domain``), no display names.
    to: Sequence[str]
    subject: str
    body_text: str
    #: Display name shown next to ``from_address``; empty for none.
    from_name: str = ""
    cc: Sequence[str] = ()
    #: Optional HTML alternative of ``body_text``.
    body_html: str | None = None
    #: Message-ID of the email this one answers, ``<id@domain>``.
    in_reply_to: str | None = None
    #: Message-IDs of the thread, oldest first.
    references: Sequence[str] = ()
    #: SMTP envelope recipients that appear in no header (the Email-to-Salesforce address, BCC-1).
    envelope_bcc: Sequence[str] = ()
    #: A Message-ID chosen by the caller (e.g. kept from an earlier attempt); generated when None.
    message_id: str | None = None
    #: Further headers, e.g. ``List-Unsubscribe`` (RFC 2369) and ``List-Unsubscribe-Post``.
    headers: Sequence[tuple[str, str]] = ()


class BuiltMessage(NamedTuple):
    """The message ready for SMTP DATA and its Message-ID (kept for reply tracking, REPLY-5)."""

    message: EmailMessage
    message_id: str


def build_message(email: OutgoingEmail, *, domain: str, now: datetime) -> BuiltMessage:
    """Validate ``email`` and build its MIME message.

    Parameters
    ----------
    email: what to send.
    domain: right-hand side of generated Message-IDs (the sending service's domain).
    now: the Date header; must carry a time zone.

    Returns
    -------
    The message (policy ``SMTP``, no Bcc header) and its Message-ID.

    Raises ``HeaderInjection``, ``InvalidAddress``, ``InvalidMessageId`` or ``InvalidMessage``.
    """
    validate_email(email)
    message_id = email.message_id or new_message_id(domain)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware for the Date header")
    message = EmailMessage(policy=_SMTP)
    message["From"] = _from_header(email.from_name, email.from_address)
    message["To"] = [Address(addr_spec=address) for address in email.to]
    if email.cc:
        message["Cc"] = [Address(addr_spec=address) for address in email.cc]
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    if email.in_reply_to:
        message["In-Reply-To"] = email.in_reply_to
    if email.references:
        message["References"] = " ".join(email.references)
    for name, value in email.headers:
        message[name] = value
    _set_body(message, email)
    return BuiltMessage(message, message_id)


@functools.lru_cache(maxsize=_MAX_PARSED)
def _from_header(name: str, address: str) -> BaseHeader:
    """The From header of a rep: built once per name and address (a rep sends many emails),
    shared like ``_REPEATING_HEADERS``."""
    header: BaseHeader = _SMTP.header_factory("From", Address(display_name=name, addr_spec=address))
    return header


def new_message_id(domain: str) -> str:
    """A globally unique RFC 5322 Message-ID: 122 random bits at ``domain``."""
    _check_header_value("domain", domain)
    if not _DOMAIN_RE.fullmatch(domain):
        raise InvalidAddress("domain", domain, "is not a valid domain name")
    return f"<{uuid.uuid4().hex}@{domain}>"


def envelope_recipients(email: OutgoingEmail) -> list[str]:
    """To, Cc and the envelope-only BCC, each address once (compared case-insensitively)."""
    seen: set[str] = set()
    recipients: list[str] = []
    for address in [*email.to, *email.cc, *email.envelope_bcc]:
        if address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


def validate_email(email: OutgoingEmail) -> None:
    """Refuse anything that could forge headers or is not a valid address or message id."""
    _check_header_value("subject", email.subject)
    _check_header_value("from_name", email.from_name)
    _check_address("from_address", email.from_address)
    if not email.to and not email.cc:
        raise InvalidMessage("The email needs at least one To or Cc recipient", field="to")
    for field_name, addresses in (("to", email.to), ("cc", email.cc)):
        _check_addresses(field_name, addresses)
    _check_addresses("envelope_bcc", email.envelope_bcc)
    if email.in_reply_to is not None:
        _check_message_id("in_reply_to", email.in_reply_to)
    for reference in email.references:
        _check_message_id("references", reference)
    if email.message_id is not None:
        _check_message_id("message_id", email.message_id)
    for name, value in email.headers:
        _check_header_value("headers", name)
        _check_header_value("headers", value)


def _check_header_value(field_name: str, value: str) -> None:
    if not FORBIDDEN_HEADER_CHARACTERS.isdisjoint(value):
        raise HeaderInjection(field_name)


def _check_addresses(field_name: str, addresses: Iterable[str]) -> None:
    if isinstance(addresses, str):
        # A bare string would be checked character by character; say what is expected instead.
        raise InvalidAddress(field_name, addresses, "must be a list of addresses, not a string")
    for address in addresses:
        _check_address(field_name, address)


def _check_address(field_name: str, address: str) -> None:
    _check_header_value(field_name, address)
    problem = address_problem(address)  # the same rule people are saved with
    if problem is not None:
        raise InvalidAddress(field_name, address, problem)


def _check_message_id(field_name: str, value: str) -> None:
    _check_header_value(field_name, value)
    if not _MESSAGE_ID_RE.fullmatch(value):
        raise InvalidMessageId(field_name, value)


def _set_body(message: EmailMessage, email: OutgoingEmail) -> None:
    message.set_content(email.body_text, cte=_transfer_encoding(email.body_text))
    if email.body_html is not None:
        message.add_alternative(
            email.body_html, subtype="html", cte=_transfer_encoding(email.body_html)
        )


def _transfer_encoding(text: str) -> str | None:
    """7bit when it fits (the default), quoted-printable otherwise.

    The SMTP policy would pick 8bit for non-ASCII text, which a server without 8BITMIME may
    refuse or mangle; quoted-printable goes through any server.
    """
    if text.isascii() and all(len(line) <= _MAX_LINE for line in text.splitlines()):
        return None
    return "quoted-printable"
