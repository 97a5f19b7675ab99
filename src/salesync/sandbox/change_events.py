"""A Change Data Capture-like stream: ChangeEventHeader payloads, replay ids, 72-hour retention."""

from __future__ import annotations

import bisect
import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from salesync.sandbox.changes import Change
from salesync.sandbox.records import Journal
from salesync.sandbox.schema import SObjectDef
from salesync.sandbox.values import to_wire

#: API-FACTS §5: change events are kept 72 hours; older replay ids can't be resumed from.
RETENTION = timedelta(hours=72)
GAP_TYPES = ("GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW")
#: The empty record id an overflow event carries [doc: cdc_other_events_overflow.htm].
EMPTY_RECORD_ID = "000000000000000AAA"
#: Pub/Sub and CometD conventions for "from the newest" and "from the oldest retained".
LATEST, EARLIEST = -1, -2
#: API-FACTS §5: changeOrigin is set for API changes only; other writes leave it empty.
_API_ORIGIN = "com/salesforce/api/"
#: The change log's types, as CDC names them (an automation bump is an UPDATE).
_CDC_TYPES = {
    "CREATE": "CREATE",
    "UPDATE": "UPDATE",
    "BUMP": "UPDATE",
    "DELETE": "DELETE",
    "UNDELETE": "UNDELETE",
}
#: API-FACTS §5: a user's UPDATE always lists LastModifiedDate; both stamps move on every save.
_USER_UPDATE_STAMPS = frozenset({"LastModifiedDate", "SystemModstamp"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_millis(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)


def channel_entity(channel: str) -> str | None:
    """``TaskChangeEvent`` -> ``Task``; ``ChangeEvents`` (every entity) -> None."""
    if channel == "ChangeEvents":
        return None
    if channel.endswith("ChangeEvent") and len(channel) > len("ChangeEvent"):
        return channel.removesuffix("ChangeEvent")
    raise ValueError(f"unknown channel {channel}: use <Entity>ChangeEvent or ChangeEvents")


class ReplayIdExpired(Exception):
    """The events after this replay id are no longer all retained."""

    def __init__(self, replay_id: int, earliest: int) -> None:
        super().__init__(
            f"replayId {replay_id} is older than the retained events (72 hours); "
            f"the earliest replayId accepted is {earliest}"
        )
        self.earliest = earliest


class InvalidReplayId(Exception):
    """A replay id the stream never handed out."""


@dataclass(frozen=True)
class ChangeEvent:
    """A committed event; the payload is kept as compact JSON text."""

    replay_id: int
    entity: str
    committed_at: datetime
    payload_json: str

    def to_json(self) -> dict[str, Any]:
        return {"replayId": self.replay_id, "payload": json.loads(self.payload_json)}


@dataclass
class _Pending:
    """An event of the open transaction: it gets its commit fields and replay id at commit."""

    entity: str
    change_type: str
    record_ids: list[str]
    origin: str = ""
    user_id: str = ""
    changed_fields: list[str] = field(default_factory=list)
    nulled_fields: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    sequence_number: int = 1

    def same_change(self, other: _Pending) -> bool:
        """Whether ``other`` (one record) can join this event's recordIds (API-FACTS §5)."""
        return (
            (self.entity, self.change_type, self.origin, self.user_id)
            == (other.entity, other.change_type, other.origin, other.user_id)
            and (self.changed_fields, self.nulled_fields, self.values)
            == (other.changed_fields, other.nulled_fields, other.values)
            and other.record_ids[0] not in self.record_ids
        )

    def header(
        self, transaction_key: str, committed_at: datetime, commit_number: int
    ) -> dict[str, Any]:
        return {
            "entityName": self.entity,
            "recordIds": self.record_ids,
            "changeType": self.change_type,
            "changeOrigin": self.origin,
            "transactionKey": transaction_key,
            "sequenceNumber": self.sequence_number,
            "commitTimestamp": epoch_millis(committed_at),
            "commitNumber": commit_number,
            "commitUser": self.user_id,
            "changedFields": self.changed_fields,
            "diffFields": [],
            "nulledFields": self.nulled_fields,
        }


@dataclass(frozen=True)
class EventPage:
    events: list[ChangeEvent]
    #: Where the next read resumes: the last event returned when the page is full, else the
    #: newest replay id of the stream (so a quiet channel still moves forward).
    resume_after: int


def _changed_fields(change: Change) -> list[str]:
    if change.change_type == "UPDATE":
        return sorted(set(change.changed_fields) | _USER_UPDATE_STAMPS)
    if change.change_type == "BUMP":
        return list(change.changed_fields)  # SystemModstamp only: LastModifiedDate stays
    return []


def _wire_values(
    obj: SObjectDef, record: Mapping[str, Any], names: Iterable[str]
) -> dict[str, Any]:
    return {
        name: to_wire(obj.fields[name], record.get(name)) for name in names if name in obj.fields
    }


def pending_for_change(change: Change, record: Mapping[str, Any], obj: SObjectDef) -> _Pending:
    """The event a change log entry stands for, with the record's values after the change."""
    change_type = _CDC_TYPES[change.change_type]
    origin = change.change_origin if change.change_origin.startswith(_API_ORIGIN) else ""
    event = _Pending(obj.name, change_type, [change.record_id], origin, change.user_id)
    event.changed_fields = _changed_fields(change)
    if change_type == "CREATE":
        names = [n for n, v in record.items() if v is not None and n != "Id"]
        event.values = _wire_values(obj, record, names)
    elif change_type == "UPDATE":
        event.nulled_fields = [n for n in event.changed_fields if record.get(n) is None]
        event.values = _wire_values(obj, record, event.changed_fields)
    return event


@dataclass
class ChangeEventStream:
    """Committed events in replay order, plus the events of the transaction still open."""

    events: list[ChangeEvent] = field(default_factory=list)
    last_replay_id: int = 0
    #: Replay ids up to this one were dropped (retention or a reset): resuming before it fails.
    expired_through: int = 0
    commit_number: int = 0
    _pending: list[_Pending] = field(default_factory=list, init=False, repr=False)
    _transaction_key: str = field(default="", init=False, repr=False)

    @classmethod
    def starting_after(cls, replay_id: int) -> ChangeEventStream:
        """An empty stream whose ids continue after ``replay_id`` (older ones are expired)."""
        return cls(last_replay_id=replay_id, expired_through=replay_id)

    def __getstate__(self) -> dict[str, Any]:
        # The SQLite meta blob keeps the counters; the events have their own table.
        return {
            "last_replay_id": self.last_replay_id,
            "expired_through": self.expired_through,
            "commit_number": self.commit_number,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    # publishing (inside the org transaction: every step is undone on rollback)

    def publish_change(
        self, journal: Journal, change: Change, record: Mapping[str, Any], obj: SObjectDef
    ) -> None:
        self._publish(journal, pending_for_change(change, record, obj))

    def publish_gap(
        self, journal: Journal, entity: str, change_type: str, record_ids: list[str], user_id: str
    ) -> None:
        """A gap event: header only, changedFields empty [doc: cdc_other_events_gap.htm]."""
        if change_type not in GAP_TYPES:
            raise ValueError(f"changeType must be one of {', '.join(GAP_TYPES)}")
        if change_type == "GAP_OVERFLOW":
            if record_ids:
                raise ValueError("a GAP_OVERFLOW event names no records")
            record_ids = [EMPTY_RECORD_ID]
        elif not record_ids:
            raise ValueError(f"{change_type} needs recordIds")
        self._publish(journal, _Pending(entity, change_type, list(record_ids), "", user_id))

    def _publish(self, journal: Journal, event: _Pending) -> None:
        if not self._transaction_key:
            self._transaction_key = str(uuid.uuid4())
        last = self._pending[-1] if self._pending else None
        if last is not None and last.same_change(event):
            # API-FACTS §5: one event lists the records one change hit in a transaction.
            last.record_ids.append(event.record_ids[0])
            journal.record(lambda: self._unmerge(last))
            return
        event.sequence_number = len(self._pending) + 1
        self._pending.append(event)
        journal.record(self._unpublish)

    def _unmerge(self, event: _Pending) -> None:
        event.record_ids.pop()

    def _unpublish(self) -> None:
        self._pending.pop()

    def commit(self, now: datetime) -> list[ChangeEvent]:
        """Give the open transaction's events their commit fields and replay ids."""
        pending, self._pending, key = self._pending, [], self._transaction_key
        self._transaction_key = ""
        if not pending:
            return []
        self.commit_number += 1
        committed = [self._committed(event, key, now) for event in pending]
        self.events.extend(committed)
        return committed

    def _committed(self, event: _Pending, key: str, now: datetime) -> ChangeEvent:
        self.last_replay_id += 1
        header = event.header(key, now, self.commit_number)
        text = json.dumps({"ChangeEventHeader": header, **event.values}, separators=(",", ":"))
        return ChangeEvent(self.last_replay_id, event.entity, now, text)

    # reading and retention

    def expire(self, now: datetime) -> None:
        """Drop events committed more than 72 hours ago on the sandbox clock."""
        cutoff = now - RETENTION
        count = 0
        while count < len(self.events) and self.events[count].committed_at < cutoff:
            count += 1
        if count:
            self.expired_through = self.events[count - 1].replay_id
            del self.events[:count]

    def read(self, entity: str | None, after: int | None, limit: int) -> EventPage:
        """Events of ``entity`` (None: all) with a replay id above ``after``."""
        start = self._start_after(after)
        position = bisect.bisect_right(self.events, start, key=lambda e: e.replay_id)
        found: list[ChangeEvent] = []
        for event in islice(self.events, position, None):
            if entity is None or event.entity == entity:
                if len(found) == limit:
                    return EventPage(found, found[-1].replay_id)
                found.append(event)
        return EventPage(found, self.last_replay_id)

    def _start_after(self, after: int | None) -> int:
        if after is None or after == EARLIEST:
            return self.expired_through
        if after == LATEST:
            return self.last_replay_id
        if after < 0 or after > self.last_replay_id:
            raise InvalidReplayId(
                f"replayId {after} was never issued (latest {self.last_replay_id})"
            )
        if after < self.expired_through:
            raise ReplayIdExpired(after, self.expired_through)
        return after


_TABLE = """
CREATE TABLE IF NOT EXISTS change_events (
    replay_id INTEGER PRIMARY KEY, entity TEXT NOT NULL, committed_at TEXT NOT NULL,
    payload TEXT NOT NULL
)
"""


class EventTable:
    """The events of an org kept in SQLite, in a table next to the org's own.

    The org writes its events just before its records; on load, rows past the replay id the
    org's saved state knows are leftovers of a save that did not finish, and are dropped.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._saved_through = 0
        self._saved_expired = 0
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # The records' commit right after this one syncs the shared write-ahead log.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_TABLE)

    def close(self) -> None:
        self._conn.close()

    def load(self, stream: ChangeEventStream) -> None:
        """Fill ``stream`` (its counters already loaded) with its retained events."""
        self._conn.execute(
            "DELETE FROM change_events WHERE replay_id > ? OR replay_id <= ?",
            (stream.last_replay_id, stream.expired_through),
        )
        rows = self._conn.execute(
            "SELECT replay_id, entity, committed_at, payload FROM change_events ORDER BY replay_id"
        ).fetchall()
        stream.events = [ChangeEvent(r, e, datetime.fromisoformat(at), p) for r, e, at, p in rows]
        self._saved_through, self._saved_expired = stream.last_replay_id, stream.expired_through

    def save(self, stream: ChangeEventStream, *, replace_all: bool = False) -> None:
        """Write new events and forget expired ones (everything, with ``replace_all``)."""
        after = 0 if replace_all else self._saved_through
        start = bisect.bisect_right(stream.events, after, key=lambda e: e.replay_id)
        rows = [
            (e.replay_id, e.entity, e.committed_at.isoformat(), e.payload_json)
            for e in stream.events[start:]
        ]
        expired = stream.expired_through != self._saved_expired
        if replace_all:
            self._write("DELETE FROM change_events", (), rows)
        elif rows or expired:
            self._write(
                "DELETE FROM change_events WHERE replay_id <= ?", (stream.expired_through,), rows
            )
        self._saved_through, self._saved_expired = stream.last_replay_id, stream.expired_through

    def _write(
        self, prune: str, arguments: tuple[int, ...], rows: list[tuple[int, str, str, str]]
    ) -> None:
        cur = self._conn.cursor()
        cur.execute("BEGIN")
        try:
            cur.execute(prune, arguments)
            cur.executemany("INSERT OR REPLACE INTO change_events VALUES (?, ?, ?, ?)", rows)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
