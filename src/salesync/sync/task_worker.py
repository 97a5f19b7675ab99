"""The task sync parts a worker runs: the push and enable handlers and the poll job."""

from __future__ import annotations

from salesync.runtime import Runtime
from salesync.sync.task_api import ApiOpener
from salesync.sync.task_enable import TaskSyncEnableHandler
from salesync.sync.task_pull import TaskPullJob
from salesync.sync.task_push import TaskPushHandler
from salesync.sync.task_stream_job import PubSubFactory, TaskStreamJob
from salesync.sync.worker import Handler, PeriodicJob


def task_handlers(runtime: Runtime, *, opener: ApiOpener | None = None) -> list[Handler]:
    """Outbox handlers of task sync: the first import or catch-up, and the pushes."""
    return [TaskSyncEnableHandler(runtime, opener=opener), TaskPushHandler(runtime, opener=opener)]


def task_periodic_jobs(
    runtime: Runtime,
    *,
    worker_id: str,
    opener: ApiOpener | None = None,
    pubsub: PubSubFactory | None = None,
) -> list[PeriodicJob]:
    """The poll of Salesforce Task changes, every ``poll_interval_seconds``, and the Change
    Data Capture streams that replace it where they run; ``worker_id`` names the worker in
    the poll gate and the stream leases."""
    puller = TaskPullJob(runtime, opener=opener, worker_id=worker_id)
    stream = TaskStreamJob(
        runtime, puller=puller, worker_id=worker_id, pubsub=pubsub, opener=opener
    )
    return [puller, stream]
