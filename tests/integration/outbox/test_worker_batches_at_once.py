"""A handler with ``batches_at_once`` gets its next batch claimed and started while one runs.

Activity logging sets 2: while one batch waits on Salesforce, the next is read and looked up.
The handlers here settle their items themselves and note what ran at the same time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from salesync.runtime import Runtime
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus
from salesync.sync.worker import Worker
from tests.integration.outbox.test_worker_plain_items import _enqueue

WAIT_SECONDS = 10


class _Overlapping:
    """Settles each batch of 2 once another batch has started beside it (or after a wait)."""

    kinds: tuple[str, ...] = ("log_email",)
    max_batch: int = 2
    plain_items: bool = True
    batches_at_once: int = 2

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.started = 0
        self.another_started = threading.Event()

    def process(self, items: Sequence[outbox.ClaimedItem]) -> None:
        with self.lock:
            self.running += 1
            self.started += 1
            self.most_at_once = max(self.most_at_once, self.running)
            if self.started > 1:
                self.another_started.set()
        try:
            self.another_started.wait(WAIT_SECONDS)
            with unit_of_work(self.runtime.sessions) as session:
                outbox.mark_done_many(session, [i.id for i in items], now=self.runtime.clock.now())
        finally:
            with self.lock:
                self.running -= 1


def _statuses(runtime: Runtime, ids: Sequence[int]) -> list[OutboxStatus]:
    with runtime.sessions() as session:
        return [session.get_one(OutboxItem, i).status for i in ids]


def test_the_next_batch_starts_while_the_first_runs(runtime: Runtime) -> None:
    ids = _enqueue(runtime, "log_email", 6)
    handler = _Overlapping(runtime)
    worker = Worker(runtime, [handler])
    started = time.monotonic()
    try:
        assert worker.drain() == 6
    finally:
        worker.close()
    # One batch at a time, the first would have waited out WAIT_SECONDS for a second.
    assert time.monotonic() - started < WAIT_SECONDS
    assert handler.most_at_once == 2
    assert handler.started == 3
    assert set(_statuses(runtime, ids)) == {OutboxStatus.DONE}


def test_run_once_ends_when_every_batch_it_started_has(runtime: Runtime) -> None:
    ids = _enqueue(runtime, "log_email", 6)
    handler = _Overlapping(runtime)
    worker = Worker(runtime, [handler])
    try:
        assert worker.run_once() == 4  # two batches of two, at once
        assert handler.running == 0
        assert _statuses(runtime, ids) == [OutboxStatus.DONE] * 4 + [OutboxStatus.PENDING] * 2
    finally:
        worker.close()


class _StoppedMidway:
    """The first batch asks the worker to stop and leaves its items unsettled; the second,
    running beside it, waits until the first has ended and then settles its own."""

    kinds: tuple[str, ...] = ("log_email",)
    max_batch: int = 2
    plain_items: bool = True
    batches_at_once: int = 2

    def __init__(self, runtime: Runtime, stop: threading.Event) -> None:
        self.runtime = runtime
        self.stop = stop
        self.batches: list[list[int]] = []
        self.second_saw: list[OutboxStatus] = []
        self.lock = threading.Lock()
        self.both_started = threading.Barrier(2, timeout=WAIT_SECONDS)

    def process(self, items: Sequence[outbox.ClaimedItem]) -> None:
        with self.lock:
            first = not self.batches
            self.batches.append([i.id for i in items])
        self.both_started.wait()
        if first:
            self.stop.set()
            return  # unsettled: the worker gives these back as it stops
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if _statuses(self.runtime, self.batches[0]) == [OutboxStatus.PENDING] * 2:
                break
            time.sleep(0.01)
        self.second_saw = _statuses(self.runtime, [i.id for i in items])
        with unit_of_work(self.runtime.sessions) as session:
            outbox.mark_done_many(session, [i.id for i in items], now=self.runtime.clock.now())


def test_stopping_gives_back_the_ending_batchs_items_not_those_another_batch_holds(
    runtime: Runtime,
) -> None:
    ids = _enqueue(runtime, "log_email", 4)
    stop = threading.Event()
    handler = _StoppedMidway(runtime, stop)
    worker = Worker(runtime, [handler])
    worker.run_forever(stop)
    first, second = handler.batches
    assert handler.second_saw == [OutboxStatus.IN_FLIGHT] * 2  # still its own to settle
    assert _statuses(runtime, first) == [OutboxStatus.PENDING] * 2
    assert _statuses(runtime, second) == [OutboxStatus.DONE] * 2
    with runtime.sessions() as session:
        for item_id in first:
            item = session.get_one(OutboxItem, item_id)
            assert item.attempts == 0 and item.lease_owner is None  # given back, not failed
    assert sorted(first + second) == ids
