"""The mail catcher: every message the sandbox's SMTP listener received, with its outcome.

Mail to an Email-to-Salesforce address is logged (or refused); any other mail is only kept
here, so a demo can point salesync's SMTP at the sandbox and read every email it sent.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from salesync.sandbox.timefmt import format_datetime

#: The catcher keeps this many messages; older ones are dropped first.
MAX_CAUGHT = 1000

#: logged: Tasks on matching records; unresolved: an open Task without WhoId; discarded:
#: nothing matched and unresolved items are off; refused: not processed (see ``reason``);
#: failed: Salesforce could not save the Task (e.g. a validation rule).
E2sStatus = Literal["logged", "unresolved", "discarded", "refused", "failed"]


@dataclass(frozen=True)
class E2sOutcome:
    """What Email to Salesforce did with the message for one of its addresses."""

    recipient: str
    user_id: str
    username: str
    status: E2sStatus
    reason: str = ""
    task_ids: tuple[str, ...] = ()
    #: Searched address -> ids of the Leads/Contacts it was logged on.
    matched: dict[str, list[str]] = field(default_factory=dict)
    #: Ids named by a ``(ref: ...)`` tag that were used.
    referenced: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "userId": self.user_id,
            "username": self.username,
            "status": self.status,
            "reason": self.reason,
            "taskIds": list(self.task_ids),
            "matched": self.matched,
            "referenced": list(self.referenced),
        }


@dataclass(frozen=True)
class CaughtMail:
    """One SMTP transaction: the envelope, the SMTP answers, the message and its outcome."""

    id: int
    received_at: datetime
    mail_from: str
    #: Every RCPT TO address, accepted or not, in order.
    rcpt_tos: tuple[str, ...]
    #: Refused recipients -> the SMTP reply they got.
    refused: dict[str, str]
    #: The reply to DATA, or "" when no message was sent (every recipient refused).
    data_reply: str
    headers: tuple[tuple[str, str], ...] = ()
    body_text: str = ""
    raw: str = ""
    e2s: tuple[E2sOutcome, ...] = ()

    @property
    def accepted(self) -> list[str]:
        return [address for address in self.rcpt_tos if address not in self.refused]

    @property
    def delivered(self) -> bool:
        return self.data_reply.startswith("250")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def to_json(self, *, with_raw: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "receivedAt": format_datetime(self.received_at),
            "mailFrom": self.mail_from,
            "rcptTos": list(self.rcpt_tos),
            "accepted": self.accepted,
            "refused": self.refused,
            "delivered": self.delivered,
            "dataReply": self.data_reply,
            "subject": self.header("Subject"),
            "messageId": self.header("Message-ID"),
            "headers": [[key, value] for key, value in self.headers],
            "bodyText": self.body_text,
            "emailToSalesforce": [outcome.to_json() for outcome in self.e2s],
        }
        if with_raw:
            body["raw"] = self.raw
        return body


class MailCatcher:
    """A thread-safe, bounded list of caught mail (the listener writes, the control plane
    reads)."""

    def __init__(self, limit: int = MAX_CAUGHT) -> None:
        self._lock = threading.Lock()
        self._messages: deque[CaughtMail] = deque(maxlen=limit)
        self._next_id = 1
        #: ``host:port`` of the SMTP listener feeding this catcher, when one runs.
        self.listening_on: str | None = None

    def add(self, **values: Any) -> CaughtMail:
        with self._lock:
            caught = CaughtMail(id=self._next_id, **values)
            self._next_id += 1
            self._messages.append(caught)
            return caught

    def messages(self, *, recipient: str | None = None) -> list[CaughtMail]:
        """Every kept message, oldest first; only those sent to ``recipient`` when given."""
        with self._lock:
            kept = list(self._messages)
        if recipient is None:
            return kept
        wanted = recipient.lower()
        return [m for m in kept if wanted in (a.lower() for a in m.rcpt_tos)]

    def get(self, message_id: int) -> CaughtMail | None:
        with self._lock:
            return next((m for m in self._messages if m.id == message_id), None)

    def clear(self) -> int:
        with self._lock:
            count = len(self._messages)
            self._messages.clear()
            return count
