"""Builds the worker with every handler and periodic job salesync runs."""

from __future__ import annotations

from salesync.runtime import Runtime
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Handler, PeriodicJob, Worker


def build_worker(runtime: Runtime, *, worker_id: str | None = None) -> Worker:
    handlers: list[Handler] = [ActivityLoggingHandler(runtime)]
    periodic: list[PeriodicJob] = []
    worker = Worker(runtime, handlers, periodic)
    if worker_id:
        worker.worker_id = worker_id
    return worker
