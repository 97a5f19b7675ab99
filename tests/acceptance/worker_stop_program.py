"""A worker process for test_worker_stop: one handler that takes a batch of three items,
settles the first, says so on stdout, then holds the other two until the worker is asked to
stop (the situation SIGTERM meets in a real deployment: a batch in hand)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from datetime import timedelta

from salesync.runtime import Runtime, load_settings
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem
from salesync.sync.worker import Worker, install_stop_signals


class HoldingHandler:
    kinds = ("log_email",)
    max_batch = 3

    def __init__(self, runtime: Runtime, stop: threading.Event) -> None:
        self.runtime = runtime
        self.stop = stop

    def process(self, items: Sequence[OutboxItem]) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            first = session.get(OutboxItem, items[0].id)
            assert first is not None
            outbox.mark_done(first, now=self.runtime.clock.now())
        sys.stdout.write("holding\n")
        sys.stdout.flush()
        self.stop.wait(60)


def main() -> None:
    runtime = Runtime.build(load_settings(database_url=sys.argv[1], data_dir=sys.argv[2]))
    stop = threading.Event()
    install_stop_signals(stop)
    worker = Worker(
        runtime,
        [HoldingHandler(runtime, stop)],
        worker_id="stopping-worker",
        lease=timedelta(minutes=5),
    )
    worker.run_forever(stop)
    sys.stdout.write("stopped\n")


if __name__ == "__main__":
    main()
