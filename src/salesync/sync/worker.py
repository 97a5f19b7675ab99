"""The sync worker: claim outbox items, hand them to their handler, and run periodic jobs.

Any number of workers, in one process or on many machines, share the outbox through leases in
the database. A handler settles each item it is given (done, retry later, failed, paused) in
its own transaction; whatever a crashing handler leaves in flight goes back to the queue with a
short delay, so a bug can delay work but never lose it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus

log = logging.getLogger(__name__)

#: Long enough for a batch of 1,000 activities; a dead worker's items return after it.
DEFAULT_LEASE = timedelta(minutes=5)
#: How long an idle worker waits before looking again (the 2 s propagation bar needs < 1 s).
DEFAULT_IDLE_SECONDS = 0.25
#: Delay before an item whose handler crashed is tried again.
CRASH_RETRY_DELAY = timedelta(seconds=30)


class Handler(Protocol):
    """Processes claimed outbox items of some kinds; settles every item it is given."""

    kinds: tuple[str, ...]
    max_batch: int

    def process(self, items: Sequence[OutboxItem]) -> None: ...


class PeriodicJob(Protocol):
    """Work that runs every ``interval_seconds`` (e.g. polling Salesforce for changes)."""

    name: str
    interval_seconds: float

    def run_once(self) -> None: ...


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Worker:
    runtime: Runtime
    handlers: Sequence[Handler]
    periodic: Sequence[PeriodicJob] = ()
    worker_id: str = field(default_factory=default_worker_id)
    lease: timedelta = DEFAULT_LEASE
    idle_seconds: float = DEFAULT_IDLE_SECONDS
    _last_run: dict[str, float] = field(default_factory=dict)

    def run_once(self) -> int:
        """One round: every handler gets one batch, due periodic jobs run. Returns items seen."""
        seen = 0
        for handler in self.handlers:
            seen += self._run_handler(handler)
        self._run_due_periodic()
        return seen

    def drain(self, max_rounds: int = 1000) -> int:
        """Run rounds until no item is ready (tests, ``sync run --once``)."""
        total = 0
        for _ in range(max_rounds):
            seen = sum(self._run_handler(handler) for handler in self.handlers)
            total += seen
            if not seen:
                break
        return total

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker started", extra={"action": "worker_start", "worker": self.worker_id})
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                # The database or a handler failed outside its own error handling: keep the
                # loop alive; leases return the items to the queue.
                log.exception("worker round failed", extra={"action": "worker_round_failed"})
                busy = 0
            if not busy:
                stop.wait(self.idle_seconds)
        self.close()
        log.info("worker stopped", extra={"action": "worker_stop", "worker": self.worker_id})

    def close(self) -> None:
        """Stop the periodic jobs that run threads of their own (the Task change streams)."""
        for job in self.periodic:
            stop = getattr(job, "stop", None)
            if callable(stop):
                stop()

    def _run_handler(self, handler: Handler) -> int:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            items = outbox.claim(
                session,
                worker_id=self.worker_id,
                now=now,
                lease=self.lease,
                limit=handler.max_batch,
                kinds=handler.kinds,
            )
            session.expunge_all()
        if not items:
            return 0
        try:
            handler.process(items)
        except Exception:
            log.exception(
                "handler crashed", extra={"action": "handler_crashed", "kinds": handler.kinds}
            )
        finally:
            self._release_leftovers([item.id for item in items])
        return len(items)

    def _release_leftovers(self, item_ids: list[int]) -> None:
        """Requeue items a handler did not settle (it crashed or forgot)."""
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            leftovers = session.scalars(
                select(OutboxItem).where(
                    OutboxItem.id.in_(item_ids),
                    OutboxItem.status == OutboxStatus.IN_FLIGHT,
                    OutboxItem.lease_owner == self.worker_id,
                )
            ).all()
            for item in leftovers:
                outbox.reschedule(
                    item,
                    now=now,
                    at=now + CRASH_RETRY_DELAY,
                    code="INTERNAL_ERROR",
                    message="salesync hit an internal error; it will try again.",
                )

    def _run_due_periodic(self) -> None:
        for job in self.periodic:
            last = self._last_run.get(job.name)
            current = time.monotonic()
            if last is not None and current - last < job.interval_seconds:
                continue
            self._last_run[job.name] = current
            try:
                job.run_once()
            except Exception:
                log.exception(
                    "periodic job failed", extra={"action": "periodic_failed", "job": job.name}
                )
