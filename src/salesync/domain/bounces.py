"""Read a delivery status notification (RFC 3464) into the bounce facts salesync keeps.

A DSN is a ``multipart/report; report-type=delivery-status`` message (RFC 6522) whose
``message/delivery-status`` part holds one block of per-message fields, then one block per
recipient (``Final-Recipient``, ``Action``, ``Status``, ``Diagnostic-Code``). Its third part
returns the original message or its headers, which names the Message-ID that bounced.
Servers are sloppy: every field may be missing, so everything here is optional and nothing
raises.
"""

from __future__ import annotations

import dataclasses
import re
from email.message import EmailMessage, Message

from salesync.domain.mail_headers import message_ids_in, one_line, parse_message

#: RFC 3464 §2.3.4: a status code is class.subject.detail; class 5 is permanent, 4 transient.
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
#: Diagnostic codes can be long SMTP transcripts; keep what a person will read.
DIAGNOSTIC_MAX_LENGTH = 500


@dataclasses.dataclass(frozen=True)
class DsnRecipient:
    """One recipient block of a DSN."""

    final_recipient: str | None
    action: str
    status: str | None
    diagnostic_code: str | None

    @property
    def failed(self) -> bool:
        """RFC 3464 §2.3.3: ``failed`` is a bounce; delayed/delivered/relayed are not."""
        return self.action == "failed" or (self.action == "" and _is_permanent(self.status))


@dataclasses.dataclass(frozen=True)
class Dsn:
    """A delivery status notification: which message, and what happened to each recipient."""

    original_message_id: str | None
    recipients: tuple[DsnRecipient, ...]

    @property
    def failures(self) -> tuple[DsnRecipient, ...]:
        return tuple(r for r in self.recipients if r.failed)


def is_dsn(content_type: str, report_type: str | None) -> bool:
    return content_type == "multipart/report" and report_type == "delivery-status"


def parse_dsn(raw: bytes) -> Dsn | None:
    """The DSN in ``raw`` (headers and body, possibly cut), or None when it is not one."""
    try:
        message = parse_message(raw)
        if message.get_content_type() != "multipart/report":
            return None
        status_part, original = _parts(message)
    except Exception:  # malformed MIME: not a DSN we can read, and not an error to raise
        return None
    if status_part is None:
        return None
    blocks = _field_blocks(status_part)
    recipients = tuple(_recipient(block) for block in blocks[1:] if _looks_like_recipient(block))
    return Dsn(_original_id(original, message), recipients)


def summary(recipient: DsnRecipient) -> str:
    """One line for the email and Diagnostics, e.g. ``5.1.1 550 5.1.1 User unknown``."""
    parts = [recipient.status or "", recipient.diagnostic_code or ""]
    return one_line(" ".join(p for p in parts if p))[:DIAGNOSTIC_MAX_LENGTH] or "bounced"


def _parts(message: EmailMessage) -> tuple[Message | None, Message | None]:
    status_part: Message | None = None
    original: Message | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status" and status_part is None:
            status_part = part
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = part
    return status_part, original


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a ``message/delivery-status`` part, field names lower-cased."""
    payload = part.get_payload()
    if isinstance(payload, list):
        # The parser already split the blocks into header-only messages.
        return [
            {k.lower(): one_line(str(v)) for k, v in block.items()}
            for block in payload
            if isinstance(block, Message)
        ]
    text = payload if isinstance(payload, str) else ""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields: dict[str, str] = {}
        name = ""
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                fields[name] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _looks_like_recipient(block: dict[str, str]) -> bool:
    return any(k in block for k in ("final-recipient", "original-recipient", "action", "status"))


def _recipient(block: dict[str, str]) -> DsnRecipient:
    address = block.get("final-recipient") or block.get("original-recipient")
    if address and ";" in address:
        address = address.split(";", 1)[1].strip()  # "rfc822; pat@example.com"
    status_match = _STATUS.search(block.get("status", ""))
    diagnostic = block.get("diagnostic-code")
    if diagnostic and ";" in diagnostic:
        diagnostic = diagnostic.split(";", 1)[1].strip()  # "smtp; 550 5.1.1 ..."
    return DsnRecipient(
        final_recipient=address or None,
        action=block.get("action", "").strip().lower(),
        status=status_match.group(0) if status_match else None,
        diagnostic_code=diagnostic[:DIAGNOSTIC_MAX_LENGTH] if diagnostic else None,
    )


def _original_id(original: Message | None, report: EmailMessage) -> str | None:
    if original is not None:
        payload = original.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            found = message_ids_in(str(inner.get("Message-ID", "")))
            if found:
                return found[0]
        if isinstance(payload, str):
            match = re.search(r"(?im)^message-id:\s*(.+)$", payload)
            found = message_ids_in(match.group(1)) if match else ()
            if found:
                return found[0]
    # Some servers leave the original out but thread the report to it.
    threaded = message_ids_in(str(report.get("In-Reply-To", ""))) or message_ids_in(
        str(report.get("References", ""))
    )
    return threaded[0] if threaded else None


def _is_permanent(status: str | None) -> bool:
    return bool(status) and str(status).startswith("5.")
