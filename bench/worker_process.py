"""One salesync worker in its own process, as ``salesync worker`` runs it, timed for a bench.

Started by a benchmark with the launch time; it builds its runtime, says ``ready``, waits for
``go`` on its standard input, drains the activity logging queue and prints one JSON line:
start-up seconds (launch to ready) and CPU, then the wall time and CPU of the drain itself and
the moment it saw the queue empty.

Usage: python -m bench.worker_process DATABASE_URL FOLDER SALESFORCE_URL LAUNCHED_AT NAME
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    database_url, folder, salesforce_url, launched_at, name = sys.argv[1:6]
    from salesync.collector import starting_up

    with starting_up():  # as ``salesync worker`` starts
        from sqlalchemy import func, select

        from bench.support import SystemClock, runtime_at
        from salesync.store.tables import OutboxItem, OutboxStatus
        from salesync.sync.activity_logging import ActivityLoggingHandler
        from salesync.sync.worker import Worker

        runtime = runtime_at(database_url, folder, salesforce_url, SystemClock())
        handler = ActivityLoggingHandler(runtime)
        worker = Worker(runtime, [handler], worker_id=name)
    ready, startup_cpu = time.time(), _cpu()
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu_before = time.perf_counter(), _cpu()
    items = 0
    while True:
        items += worker.drain(max_rounds=100_000)
        # A round finds nothing while another worker's claim holds the rows, or while its
        # items are in flight: keep looking until the queue is empty, as a running worker does.
        with runtime.sessions() as session:
            open_items = session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT]))
            )
        if not open_items:
            break
        time.sleep(0.05)
    wall, cpu, done_at = time.perf_counter() - started, _cpu() - cpu_before, time.time()
    worker.close()
    report = {
        "startup_s": ready - float(launched_at),
        "startup_cpu": startup_cpu,
        "wall": wall,
        "cpu": cpu,
        "items": items,
        # When this worker saw the queue empty: what a user waits for ends here, not when
        # the process has closed its clients and exited.
        "done_at": done_at,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
