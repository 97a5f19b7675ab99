"""Builds the worker with every handler and periodic job salesync runs."""

from __future__ import annotations

from salesync.mailbox.imap import ImapConnector
from salesync.runtime import Runtime
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.email_task_updates import EmailTaskUpdateHandler
from salesync.sync.engagement_updates import EngagementUpdateHandler
from salesync.sync.mailbox_idle import IdleWatcher
from salesync.sync.mailbox_sync import MailboxSyncJob
from salesync.sync.opt_outs import OptOutPullJob, OptOutPushHandler
from salesync.sync.task_worker import task_handlers, task_periodic_jobs
from salesync.sync.worker import Handler, PeriodicJob, Worker, default_worker_id


def build_worker(runtime: Runtime, *, worker_id: str | None = None) -> Worker:
    """Activity logging first: near the API budget it is what must not wait (DESIGN §3)."""
    worker_id = worker_id or default_worker_id()
    handlers: list[Handler] = [
        ActivityLoggingHandler(runtime),
        EmailTaskUpdateHandler(runtime),
        *task_handlers(runtime),
    ]
    periodic: list[PeriodicJob] = [
        *task_periodic_jobs(runtime, worker_id=worker_id),
        MailboxSyncJob(runtime, worker_id=worker_id, idle=IdleWatcher(runtime, ImapConnector())),
    ]
    handlers += [EngagementUpdateHandler(runtime), OptOutPushHandler(runtime)]
    periodic.append(OptOutPullJob(runtime))
    return Worker(runtime, handlers, periodic, worker_id=worker_id)
