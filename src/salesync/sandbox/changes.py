"""Change history (with the caller's change origin) and the delete log behind getDeleted."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from salesync.sandbox.records import Journal
from salesync.sandbox.timefmt import format_datetime

_HISTORY_LIMIT = 50_000


@dataclass(frozen=True)
class Change:
    """One committed write, shaped like a CDC ChangeEventHeader (API-FACTS §5)."""

    seq: int
    at: datetime
    record_id: str
    sobject: str
    change_type: str  # CREATE | UPDATE | DELETE | UNDELETE | BUMP
    changed_fields: tuple[str, ...]
    user_id: str
    client: str
    #: `com/salesforce/api/rest/<ver>;client=<id>` for API writes, "" otherwise (API-FACTS §5).
    change_origin: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "commitTimestamp": format_datetime(self.at),
            "recordId": self.record_id,
            "entityName": self.sobject,
            "changeType": self.change_type,
            "changedFields": list(self.changed_fields),
            "commitUser": self.user_id,
            "client": self.client,
            "changeOrigin": self.change_origin,
        }


@dataclass
class ChangeLog:
    entries: deque[Change] = field(default_factory=lambda: deque(maxlen=_HISTORY_LIMIT))
    next_seq: int = 1
    #: Called with each change after it is logged, in the same transaction (change events).
    listener: Callable[[Change], None] | None = None

    def append(self, journal: Journal, **values: Any) -> Change:
        change = Change(seq=self.next_seq, **values)
        self.next_seq += 1
        self.entries.append(change)
        journal.record(self._undo_append)
        if self.listener is not None:
            self.listener(change)
        return change

    def _undo_append(self) -> None:
        self.entries.pop()
        self.next_seq -= 1

    def after(self, seq: int) -> list[Change]:
        """The changes logged after ``seq``, oldest first (read from the tail: seqs ascend)."""
        newer: list[Change] = []
        for change in reversed(self.entries):
            if change.seq <= seq:
                break
            newer.append(change)
        newer.reverse()
        return newer

    def select(self, record_id: str | None = None, since_seq: int = 0) -> list[Change]:
        return [
            c
            for c in self.entries
            if c.seq > since_seq and (record_id is None or c.record_id == record_id)
        ]


@dataclass(frozen=True)
class Deletion:
    record_id: str
    sobject: str
    deleted_at: datetime


@dataclass
class DeleteLog:
    """Deleted records still in the Recycle Bin; purges move ``purged_through`` forward."""

    entries: dict[str, Deletion] = field(default_factory=dict)
    #: Deletes before this instant are gone (it feeds earliestDateAvailable).
    purged_through: datetime | None = None

    def add(self, journal: Journal, deletion: Deletion) -> None:
        self.entries[deletion.record_id] = deletion
        journal.record(lambda: self.forget(deletion.record_id))

    def undelete(self, journal: Journal, record_id: str) -> None:
        deletion = self.entries.pop(record_id, None)
        if deletion is not None:
            journal.record(lambda: self.entries.__setitem__(record_id, deletion))

    def due_for_purge(self, before: datetime) -> list[Deletion]:
        return [d for d in self.entries.values() if d.deleted_at < before]

    def forget(self, record_id: str) -> None:
        self.entries.pop(record_id, None)

    def mark_purged(self, through: datetime) -> None:
        if self.purged_through is None or through > self.purged_through:
            self.purged_through = through

    def select(self, sobject: str, start: datetime, end: datetime) -> list[Deletion]:
        found = [
            d for d in self.entries.values() if d.sobject == sobject and start <= d.deleted_at < end
        ]
        return sorted(found, key=lambda d: (d.deleted_at, d.record_id))
