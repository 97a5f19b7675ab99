"""The sandbox's controllable clock: real time plus an offset, or frozen at an instant."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """A UTC clock that tests and demos can set, advance and freeze.

    It runs at real speed from wherever it was last set, unless frozen. Token expiry,
    query locators, replication windows and the recycle bin all read this clock.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        return {"offset": self._offset, "frozen_at": self._frozen_at}

    def __setstate__(self, state: dict[str, object]) -> None:
        offset, frozen_at = state["offset"], state["frozen_at"]
        assert isinstance(offset, timedelta)
        assert frozen_at is None or isinstance(frozen_at, datetime)
        self._offset, self._frozen_at = offset, frozen_at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the sandbox's current time (timezone-aware UTC)."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return datetime.now(UTC) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def set(self, instant: datetime) -> None:
        """Jump to ``instant``; a frozen clock stays frozen there."""
        instant = instant.astimezone(UTC)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or back, with a negative delta)."""
        self.set(self.now() + delta)

    def freeze(self) -> None:
        """Stop the clock at its current reading."""
        current = self.now()
        with self._lock:
            self._frozen_at = current

    def unfreeze(self) -> None:
        """Let the clock run again from its frozen reading."""
        with self._lock:
            if self._frozen_at is None:
                return
            self._offset = self._frozen_at - datetime.now(UTC)
            self._frozen_at = None
