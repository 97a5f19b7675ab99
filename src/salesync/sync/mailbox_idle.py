"""IDLE (RFC 2177): new mail in a rep's Inbox is read at once instead of at the next poll.

For each mailbox a worker has synced and whose server offers IDLE, a background thread keeps
one read-only session open on the Inbox. When the server reports new mail, the thread only
marks the mailbox due; the sync itself stays the leased job, so exactly-once and the cursors
work the same with or without IDLE. Without IDLE (or past ``max_watched``) the poll remains.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import update

from salesync.mailbox.auth import Authenticator
from salesync.mailbox.client import MailboxConnector, ServerAddress
from salesync.mailbox.errors import MailboxError
from salesync.runtime import Runtime
from salesync.store.db import unit_of_work
from salesync.store.tables import MailboxAccount

log = logging.getLogger(__name__)

#: RFC 2177: clients should re-issue IDLE at least every 29 minutes.
IDLE_SECONDS = 25 * 60
#: How long a watcher waits after its session failed (the poll covers the gap).
RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class Watch:
    mailbox_id: int
    address: ServerAddress
    auth: Authenticator
    folder: str


class IdleWatcher:
    """One thread per watched mailbox; ``close`` stops them all."""

    def __init__(
        self,
        runtime: Runtime,
        connector: MailboxConnector,
        *,
        max_watched: int = 100,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.connector = connector
        self.max_watched = max_watched
        self.idle_seconds = idle_seconds
        self._stop = threading.Event()
        self._threads: dict[int, tuple[Watch, threading.Thread]] = {}
        self._lock = threading.Lock()

    def watch(self, watch: Watch) -> bool:
        """Start watching (or keep watching) a mailbox; False when not taken on."""
        with self._lock:
            current = self._threads.get(watch.mailbox_id)
            if current is not None and current[0] == watch and current[1].is_alive():
                return True
            if current is None and len(self._threads) >= self.max_watched:
                return False
            thread = threading.Thread(
                target=self._run, args=(watch,), name=f"idle-{watch.mailbox_id}", daemon=True
            )
            self._threads[watch.mailbox_id] = (watch, thread)
        thread.start()
        return True

    def watched(self) -> list[int]:
        with self._lock:
            return [m for m, (_, t) in self._threads.items() if t.is_alive()]

    def close(self) -> None:
        self._stop.set()

    def _current(self, watch: Watch) -> bool:
        with self._lock:
            entry = self._threads.get(watch.mailbox_id)
            return entry is not None and entry[0] == watch and not self._stop.is_set()

    def _run(self, watch: Watch) -> None:
        while self._current(watch):
            try:
                with self.connector.open(watch.address, watch.auth) as session:
                    if "IDLE" not in session.capabilities:
                        return
                    session.examine(watch.folder)
                    while self._current(watch):
                        if session.wait_for_change(self.idle_seconds) and self._mark_due(watch):
                            continue
            except MailboxError as exc:
                log.info(
                    "idle session ended",
                    extra={"action": "mailbox_idle_failed", "mailbox": watch.mailbox_id,
                           "why": exc.message},
                )  # fmt: skip
                self._stop.wait(RETRY_SECONDS)
            except Exception:
                log.exception("idle watcher crashed", extra={"action": "mailbox_idle_crashed"})
                self._stop.wait(RETRY_SECONDS)

    def _mark_due(self, watch: Watch) -> bool:
        """Make the mailbox due now; False (and the watch ends) when it is gone or disabled."""
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            result = session.execute(
                update(MailboxAccount)
                .where(MailboxAccount.id == watch.mailbox_id, MailboxAccount.enabled.is_(True))
                .values(next_sync_at=now)
                .execution_options(synchronize_session=False)
            )
        if not int(result.rowcount):  # type: ignore[attr-defined]
            with self._lock:
                self._threads.pop(watch.mailbox_id, None)
            return False
        return True
