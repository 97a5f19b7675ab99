"""Query locators: the server-side cursors behind nextRecordsUrl (API-FACTS §2.7)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from salesync.sandbox.ids import IdFactory

#: A user has at most 10 open cursors; opening an 11th frees the oldest (API-FACTS §2.7).
MAX_CURSORS_PER_USER = 10
#: Rows per stored chunk: the smallest page size, so any page decodes few spare rows.
CHUNK_ROWS = 200


@dataclass
class Cursor:
    """The rows of a query after its first page, kept as compact JSON chunks.

    Wire records are plain JSON values, so encoding them costs a little time once and keeps
    ten open 100,000-row cursors from holding ten copies of every row as Python objects.
    """

    locator: str
    user_id: str
    #: Index of the first stored row in the whole result.
    start: int
    total: int
    chunks: list[bytes]
    last_used: datetime
    #: The page size chosen by the first request; later pages keep it.
    batch_size: int

    def rows(self, offset: int, count: int) -> list[dict[str, Any]]:
        """Rows ``offset`` .. ``offset + count`` of the whole result (offset >= start)."""
        relative = offset - self.start
        first, last = relative // CHUNK_ROWS, (relative + count - 1) // CHUNK_ROWS
        decoded = [row for chunk in self.chunks[first : last + 1] for row in json.loads(chunk)]
        skip = relative - first * CHUNK_ROWS
        return decoded[skip : skip + count]


def _encode(rows: Sequence[dict[str, Any]]) -> list[bytes]:
    return [
        json.dumps(rows[i : i + CHUNK_ROWS], separators=(",", ":")).encode()
        for i in range(0, len(rows), CHUNK_ROWS)
    ]


@dataclass
class CursorBook:
    ttl: timedelta = timedelta(minutes=15)
    cursors: dict[str, Cursor] = field(default_factory=dict)
    _ids: IdFactory = field(default_factory=IdFactory)

    def open(
        self,
        user_id: str,
        records: Sequence[dict[str, Any]],
        start: int,
        now: datetime,
        batch_size: int,
    ) -> str:
        """Keep ``records[start:]`` for later pages; returns the locator."""
        mine = sorted(
            (c for c in self.cursors.values() if c.user_id == user_id), key=lambda c: c.last_used
        )
        for stale in mine[: max(0, len(mine) - MAX_CURSORS_PER_USER + 1)]:
            del self.cursors[stale.locator]
        locator = self._ids.new_id("01g")
        chunks = _encode(records[start:])
        self.cursors[locator] = Cursor(
            locator, user_id, start, len(records), chunks, now, batch_size
        )
        return locator

    def get(self, locator: str, user_id: str, now: datetime) -> Cursor | None:
        """The live cursor, touched; None when unknown, someone else's, or expired."""
        self.expire(now)
        cursor = self.cursors.get(locator)
        if cursor is None or cursor.user_id != user_id:
            return None
        cursor.last_used = now
        return cursor

    def expire(self, now: datetime) -> None:
        # Locators expire after 15 minutes of inactivity on the sandbox clock.
        for locator in [k for k, c in self.cursors.items() if now - c.last_used > self.ttl]:
            del self.cursors[locator]
