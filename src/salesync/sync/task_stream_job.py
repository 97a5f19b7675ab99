"""The worker's side of the Task change streams: which endpoint, which worker, which thread.

:class:`TaskStreamJob` is a periodic job of the worker. Each round it starts a thread for
every team and org with synced reps whose lease it can take (one worker streams each org),
unless the org fell back to polling less than ``RETRY_AFTER`` ago. The thread runs a
:class:`~salesync.sync.task_stream.TaskStream` until the worker stops, another worker takes
the lease, or the org falls back to polling.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from salesync.runtime import Runtime
from salesync.salesforce.pubsub import PubSubClient
from salesync.store import task_streams
from salesync.store.db import unit_of_work
from salesync.sync.task_api import ApiOpener
from salesync.sync.task_pull import TaskPullJob
from salesync.sync.task_stream import RETRY_AFTER, WAIT_SECONDS, TaskStream, stream_connection

log = logging.getLogger(__name__)

#: A worker holds an org's stream this long without renewing before another may take it.
LEASE = dt.timedelta(seconds=120)

#: API-FACTS §8.1: the global endpoint.
SALESFORCE_ENDPOINT = "api.pubsub.salesforce.com:7443"
_SALESFORCE_DOMAINS = (".salesforce.com", ".force.com", ".salesforce.mil")

#: A Pub/Sub client for an org's instance URL, or None when it has no Pub/Sub endpoint.
PubSubFactory = Callable[[str], PubSubClient | None]


def default_pubsub(runtime: Runtime) -> PubSubFactory | None:
    """Clients of the org's Pub/Sub endpoint; None when real-time sync is off."""
    settings = runtime.settings
    if not settings.realtime_sync:
        return None

    def connect(instance_url: str) -> PubSubClient | None:
        endpoint = settings.pubsub_endpoint
        if not endpoint:
            host = urlsplit(instance_url).hostname or ""
            if not host.endswith(_SALESFORCE_DOMAINS):
                return None  # never send a token for another host to Salesforce
            endpoint = SALESFORCE_ENDPOINT
        return PubSubClient(endpoint, tls=settings.pubsub_tls)

    return connect


NO_ENDPOINT = (
    "This org is not on Salesforce's domains and no Pub/Sub API endpoint is configured "
    "(SALESYNC_PUBSUB_ENDPOINT)."
)


def _mark_polling(runtime: Runtime, team_id: int, org_id: str, reason: str) -> None:
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        state = task_streams.load(session, team_id, org_id)
        state = dataclasses.replace(
            state,
            mode=task_streams.POLLING,
            reason=reason,
            heartbeat_at=None,
            retry_at=now + RETRY_AFTER,
        )
        task_streams.save(session, team_id, org_id, state, now=now)


class TaskStreamJob:
    """Keeps one stream running per team and org, on whichever worker holds its lease.

    A periodic job of the worker: each round it starts a thread for every org with synced
    reps whose lease it can take, unless the org fell back to polling less than
    ``RETRY_AFTER`` ago.
    """

    name = "task_stream"
    interval_seconds = 5.0

    def __init__(
        self,
        runtime: Runtime,
        *,
        puller: TaskPullJob,
        worker_id: str,
        pubsub: PubSubFactory | None = None,
        opener: ApiOpener | None = None,
    ) -> None:
        self.runtime = runtime
        self.puller = puller
        self.worker_id = worker_id
        self.pubsub = pubsub if pubsub is not None else default_pubsub(runtime)
        self.opener = opener
        self.stop_event = threading.Event()
        self._threads: dict[tuple[int, str], threading.Thread] = {}

    def run_once(self) -> None:
        if self.pubsub is None or self.stop_event.is_set():
            return
        now = self.runtime.clock.now()
        for group in self.puller.groups():
            key = (group.team_id, group.org_id)
            running = self._threads.get(key)
            if running is not None and running.is_alive():
                continue
            with unit_of_work(self.runtime.sessions) as session:
                state = task_streams.load(session, *key)
                if state.retry_at is not None and now < state.retry_at:
                    continue
                if not self._renew(session, key):
                    continue
            thread = threading.Thread(
                target=self._run, args=key, name=f"task-stream-{key[1]}", daemon=True
            )
            self._threads[key] = thread
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for thread in self._threads.values():
            thread.join(timeout)

    def _renew(self, session: Any, key: tuple[int, str]) -> bool:
        return task_streams.claim_lease(
            session,
            key[0],
            key[1],
            holder=self.worker_id,
            now=self.runtime.clock.now(),
            lease=LEASE,
        )

    def _run(self, team_id: int, org_id: str) -> None:
        assert self.pubsub is not None
        connection = stream_connection(self.runtime, self.puller, team_id, org_id)
        client = self.pubsub(connection.instance_url) if connection is not None else None
        if client is None:
            _mark_polling(self.runtime, team_id, org_id, NO_ENDPOINT)
            with unit_of_work(self.runtime.sessions) as session:
                task_streams.release_lease(session, team_id, org_id, holder=self.worker_id)
            return
        stream = TaskStream(
            self.runtime,
            team_id,
            org_id,
            client=client,
            puller=self.puller,
            opener=self.opener,
        )
        try:
            if not stream.open():
                return
            while not self.stop_event.is_set():
                with unit_of_work(self.runtime.sessions) as session:
                    if not self._renew(session, (team_id, org_id)):
                        break  # another worker took the org over
                if not stream.step(min(WAIT_SECONDS, 1.0)):
                    break
        except Exception:
            log.exception("task stream of org %s crashed; the poll covers it", org_id)
            stream.fall_back("salesync hit an internal error in the stream; it polls meanwhile.")
        finally:
            stream.close()
            client.close()
            with unit_of_work(self.runtime.sessions) as session:
                task_streams.release_lease(session, team_id, org_id, holder=self.worker_id)
                state = task_streams.load(session, team_id, org_id)
                if state.mode == task_streams.CDC:
                    # Not live any more: the poll covers the org until a stream resumes from
                    # the stored replay id.
                    stopped = dataclasses.replace(state, heartbeat_at=None)
                    now = self.runtime.clock.now()
                    task_streams.save(session, team_id, org_id, stopped, now=now)
