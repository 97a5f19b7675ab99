"""Query locators: the server-side cursors behind nextRecordsUrl (API-FACTS §2.7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from salesync.sandbox.ids import IdFactory

#: A user has at most 10 open cursors; opening an 11th frees the oldest (API-FACTS §2.7).
MAX_CURSORS_PER_USER = 10


@dataclass
class Cursor:
    locator: str
    user_id: str
    records: list[dict[str, Any]]
    last_used: datetime
    #: The page size chosen by the first request; later pages keep it.
    batch_size: int


@dataclass
class CursorBook:
    ttl: timedelta = timedelta(minutes=15)
    cursors: dict[str, Cursor] = field(default_factory=dict)
    _ids: IdFactory = field(default_factory=IdFactory)

    def open(
        self, user_id: str, records: list[dict[str, Any]], now: datetime, batch_size: int
    ) -> str:
        mine = sorted(
            (c for c in self.cursors.values() if c.user_id == user_id), key=lambda c: c.last_used
        )
        for stale in mine[: max(0, len(mine) - MAX_CURSORS_PER_USER + 1)]:
            del self.cursors[stale.locator]
        locator = self._ids.new_id("01g")
        self.cursors[locator] = Cursor(locator, user_id, records, now, batch_size)
        return locator

    def get(self, locator: str, user_id: str, now: datetime) -> Cursor | None:
        """The live cursor, touched; None when unknown, someone else's, or expired."""
        self.expire(now)
        cursor = self.cursors.get(locator)
        if cursor is None or cursor.user_id != user_id:
            return None
        cursor.last_used = now
        return cursor

    def close(self, locator: str) -> None:
        self.cursors.pop(locator, None)

    def expire(self, now: datetime) -> None:
        # Locators expire after 15 minutes of inactivity on the sandbox clock.
        for locator in [k for k, c in self.cursors.items() if now - c.last_used > self.ttl]:
            del self.cursors[locator]
