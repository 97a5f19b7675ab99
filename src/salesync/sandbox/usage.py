"""API-call accounting: the rolling 24-hour window behind Sforce-Limit-Info (API-FACTS §2.9)."""

from __future__ import annotations

import json
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from salesync.sandbox.timefmt import format_datetime

_WINDOW = timedelta(hours=24)
_RECENT_CALLS = 2000


def _minute(instant: datetime) -> int:
    return int(instant.timestamp()) // 60


@dataclass
class ApiUsage:
    """Counts calls per minute for the rolling window, plus totals per user and client."""

    daily_cap: int = 100_000
    _per_minute: dict[int, int] = field(default_factory=dict)
    per_user: Counter[str] = field(default_factory=Counter)
    per_client: Counter[str] = field(default_factory=Counter)
    total: int = 0
    #: The last calls as JSON texts: the org is saved after every call, and a list of texts
    #: pickles many times faster than as many dicts. ``report`` reads them back.
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=_RECENT_CALLS))

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A file saved before the texts kept the calls as dicts.
        recent = (e if isinstance(e, str) else json.dumps(e) for e in state.pop("recent"))
        self.__dict__.update(state)
        self.recent = deque(recent, maxlen=_RECENT_CALLS)

    def used(self, now: datetime) -> int:
        """Calls in the 24 hours before ``now`` (API-FACTS §6: a rolling window)."""
        oldest = _minute(now - _WINDOW)
        for minute in [m for m in self._per_minute if m <= oldest]:
            del self._per_minute[minute]
        return sum(self._per_minute.values())

    def exhausted(self, now: datetime) -> bool:
        return self.used(now) >= self.daily_cap

    def record(self, now: datetime, username: str, method: str, path: str, client: str) -> None:
        minute = _minute(now)
        self._per_minute[minute] = self._per_minute.get(minute, 0) + 1
        self.per_user[username] += 1
        self.per_client[client or "(none)"] += 1
        self.total += 1
        entry = {
            "at": format_datetime(now),
            "user": username,
            "method": method,
            "path": path,
            "client": client,
        }
        self.recent.append(json.dumps(entry))

    def header(self, now: datetime) -> str:
        return f"api-usage={self.used(now)}/{self.daily_cap}"

    def reset(self) -> None:
        self._per_minute.clear()
        self.per_user.clear()
        self.per_client.clear()
        self.total = 0
        self.recent.clear()

    def report(self, now: datetime) -> dict[str, Any]:
        return {
            "total": self.total,
            "last24h": self.used(now),
            "dailyCap": self.daily_cap,
            "perUser": dict(self.per_user),
            "perClient": dict(self.per_client),
            "calls": [json.loads(text) for text in self.recent],
        }
