"""Salesforce -> salesync in real time: one Change Data Capture stream per team and org.

Per team and org with synced reps, one Pub/Sub API subscription to ``/data/TaskChangeEvent``
runs through the team's sync connection (else a rep's). Each FetchResponse is applied in one
transaction together with its last replay id, through the poll's own code
(:func:`salesync.sync.task_pull.apply_in_session`: field mapping, values that do not sync,
conflicts, cursors):

- DELETE events are applied from the event; CREATE events from their values; UPDATE and
  UNDELETE events read the records' current versions (one query per response, and only when
  a synced field changed);
- events whose ``changeOrigin`` says ``client=salesync`` are our own writes and are skipped;
- GAP events and an expired replay id trigger the reconcile query: the poll of that org, from
  the reps' cursors, right away;
- the first start subscribes at LATEST and then polls once (nothing between the last poll and
  the subscription is lost); every later start resumes after the stored replay id (CUSTOM);
- an expired session refreshes the connection's token and resubscribes;
- where CDC is off for Task (the topic does not exist), or the stream keeps failing, the org
  falls back to polling and the stream is tried again later.

While a stream is live the poll skips its org (``TaskPullJob`` reads the stream's heartbeat).
:mod:`salesync.sync.task_stream_job` runs the streams in the worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from salesync.domain.dates import format_salesforce_datetime
from salesync.domain.soql import chunk_in_clause
from salesync.runtime import Runtime
from salesync.salesforce.auth import OAuthRefresher
from salesync.salesforce.change_events import ChangeEvent, decode
from salesync.salesforce.client import DEFAULT_TIMEOUT
from salesync.salesforce.errors import SalesforceError
from salesync.salesforce.pubsub import (
    CUSTOM,
    LATEST,
    Batch,
    PubSubAuth,
    PubSubClient,
    PubSubError,
    Subscription,
)
from salesync.salesforce.results import Record
from salesync.services.connections import SerializedRefresher, StoredTokens, oauth_config
from salesync.store import connections as connections_store
from salesync.store import diagnostics, task_streams
from salesync.store.db import unit_of_work
from salesync.store.tables import SalesforceConnection
from salesync.store.task_streams import StreamState
from salesync.sync import task_api
from salesync.sync import task_records as records
from salesync.sync.task_api import ApiOpener
from salesync.sync.task_pull import TaskPullJob, apply_in_session

log = logging.getLogger(__name__)

TOPIC = "/data/TaskChangeEvent"
#: The ``client=`` our REST calls send in Sforce-Call-Options; CDC echoes it in changeOrigin.
CLIENT_ID = "salesync"
#: Diagnostics code while an org polls because Change Data Capture is off for Task.
CDC_OFF_CODE = "TASK_CDC_OFF"
CDC_OFF_MESSAGE = (
    "Salesforce changes to Tasks arrive by polling (every {interval:.0f} s) because Change "
    "Data Capture is not enabled for Task in this org. For real-time sync, an admin selects "
    "Task under Setup > Change Data Capture; salesync switches over by itself."
)
#: Failed reconnects in a row before the org falls back to polling.
MAX_FAILURES = 5
#: How long an org polls before its stream is tried again.
RETRY_AFTER = dt.timedelta(minutes=10)
#: Seconds a stream waits for a response before renewing its lease and looking again.
WAIT_SECONDS = 5.0
_QUERY_BY_ID = "SELECT {fields:literal} FROM Task WHERE Id IN {}"
#: Changes of only these fields never need a read (automation bumps, our own stamps).
_STAMPS = frozenset({"SystemModstamp", "LastModifiedDate", "LastModifiedById"})
_SYNCED = frozenset(records.TASK_QUERY_FIELDS) - _STAMPS - {"Id", "CreatedDate", "IsDeleted"}


@dataclasses.dataclass
class StreamReport:
    """What a stream did so far, for tests and the benchmark."""

    responses: int = 0
    events: int = 0
    echoes: int = 0
    reads: int = 0
    reconciles: int = 0
    reconnects: int = 0
    refreshes: int = 0
    outcomes: dict[str, int] = dataclasses.field(default_factory=dict)


class TaskStream:
    """The Change Data Capture stream of one team's org; :meth:`open`, then :meth:`step`."""

    def __init__(
        self,
        runtime: Runtime,
        team_id: int,
        org_id: str,
        *,
        client: PubSubClient,
        puller: TaskPullJob,
        opener: ApiOpener | None = None,
    ) -> None:
        self.runtime = runtime
        self.team_id = team_id
        self.org_id = org_id
        self.client = client
        self.puller = puller
        self.opener = opener or task_api.default_opener(runtime)
        self.report = StreamReport()
        self.subscription: Subscription | None = None
        self.failures = 0
        self._connection: SalesforceConnection | None = None
        self._auth: PubSubAuth | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> bool:
        """Subscribe; False when the org polls instead (CDC off, no connection, refusals)."""
        connection = self._pick_connection()
        if connection is None:
            return False
        self._connection = connection
        try:
            self._auth = self._load_auth()
            self._call_with_refresh(lambda auth: self.client.get_topic(auth, TOPIC))
        except PubSubError as error:
            if error.topic_missing:
                self.fall_back("Change Data Capture is not enabled for Task.", cdc_off=True)
            else:
                self.fall_back(f"The Pub/Sub API refused the subscription ({error}).")
            return False
        except SalesforceError as error:
            task_api.break_connection_if_revoked(self.runtime, connection.id, error)
            self.fall_back(f"The connection's session could not be renewed ({error.message}).")
            return False
        self._subscribe()
        return True

    def close(self) -> None:
        if self.subscription is not None:
            self.subscription.cancel()
            self.subscription = None

    def step(self, timeout: float = WAIT_SECONDS) -> bool:
        """Take one response (or wait up to ``timeout``); False once the org polls instead."""
        assert self.subscription is not None, "open() first"
        try:
            batch = self.subscription.next_batch(timeout)
        except PubSubError as error:
            return self._recover(error)
        except EOFError:
            return self._resubscribe()
        if batch is None:
            return True
        group = self._group()
        if group is None:
            # No rep of the team syncs with this org any more: nothing to stream for.
            self.fall_back("No rep of the team syncs Tasks with this org.")
            return False
        try:
            self._handle(batch, group)
        except PubSubError as error:  # GetSchema failed: nothing of the response was stored
            return self._recover(error)
        except SalesforceError as error:
            # Nothing of this response was stored: resuming from the stored replay id gets
            # its events again.
            assert self._connection is not None
            task_api.break_connection_if_revoked(self.runtime, self._connection.id, error)
            return self._failed(f"reading changed Tasks failed ({error.message})")
        self.failures = 0
        return True

    # -- subscribing -----------------------------------------------------------------------

    def _subscribe(self) -> None:
        """CUSTOM after the stored replay id; on the first start LATEST, then a full poll."""
        self.close()
        state = self._state()
        auth = self._require_auth()
        if state.replay_id:
            self.subscription = self.client.subscribe(
                auth, TOPIC, preset=CUSTOM, replay_id=state.replay_id
            )
        else:
            self.subscription = self.client.subscribe(auth, TOPIC, preset=LATEST)
            self._reconcile()
        self._save(dataclasses.replace(state, mode=task_streams.CDC, reason="", retry_at=None))
        self._resolve_cdc_off()

    def _resubscribe(self) -> bool:
        self.report.reconnects += 1
        self._subscribe()
        return True

    def _recover(self, error: PubSubError) -> bool:
        log.info("task stream of org %s failed: %s", self.org_id, error)
        if error.topic_missing:
            self.fall_back("Change Data Capture is not enabled for Task.", cdc_off=True)
            return False
        if error.auth_failed:
            try:
                self._refresh()
            except SalesforceError as refresh_error:
                assert self._connection is not None
                task_api.break_connection_if_revoked(
                    self.runtime, self._connection.id, refresh_error
                )
                self.fall_back(f"The connection's session could not be renewed ({refresh_error}).")
                return False
            return self._resubscribe()
        if error.replay_id_invalid:
            # Past the 72-hour window (or unknown): start from now, reconcile the gap.
            state = self._state()
            self._save(dataclasses.replace(state, replay_id=None))
            return self._resubscribe()
        return self._failed(str(error))

    def _failed(self, reason: str) -> bool:
        self.failures += 1
        if self.failures >= MAX_FAILURES:
            self.fall_back(f"The stream failed {self.failures} times in a row: {reason}.")
            return False
        time.sleep(min(0.2 * 2**self.failures, 10.0))
        return self._resubscribe()

    def fall_back(self, reason: str, *, cdc_off: bool = False) -> None:
        """Poll this org from now on; the stream is tried again after ``RETRY_AFTER``."""
        self.close()
        now = self.runtime.clock.now()
        state = dataclasses.replace(
            self._state(),
            mode=task_streams.POLLING,
            reason=reason,
            heartbeat_at=None,
            retry_at=now + RETRY_AFTER,
        )
        self._save(state)
        if cdc_off:
            self._record_cdc_off()

    # -- applying --------------------------------------------------------------------------

    def _handle(self, batch: Batch, group: Any) -> None:
        self.report.responses += 1
        auth = self._require_auth()
        events = [
            decode(e.replay_id, e.payload, self.client.schema_json(auth, e.schema_id))
            for e in batch.events
        ]
        self.report.events += len(events)
        owners = {rep.sf_user_id for rep in group.reps}
        theirs = [e for e in events if not e.is_gap and not e.made_by_client(CLIENT_ID)]
        self.report.echoes += sum(1 for e in events if e.made_by_client(CLIENT_ID))
        versions = self._versions(theirs, owners)
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            state = task_streams.load(session, self.team_id, self.org_id)
            if group.reps:
                seen = [e.commit_timestamp for e in events] or [now]
                applied = apply_in_session(
                    session, group, group.reps, versions, now, now=now, seen=seen, reread=True
                )
                for outcome in applied.outcomes.values():
                    key = outcome.value
                    self.report.outcomes[key] = self.report.outcomes.get(key, 0) + 1
            state = dataclasses.replace(
                state,
                mode=task_streams.CDC,
                replay_id=events[-1].replay_id if events else batch.latest_replay_id,
                heartbeat_at=now,
                reason="",
            )
            if events:
                last = max(e.commit_timestamp for e in events)
                lag = max(0, int((now - last) / dt.timedelta(milliseconds=1)))
                state = dataclasses.replace(state, last_event_at=last, lag_ms=lag)
            task_streams.save(session, self.team_id, self.org_id, state, now=now)
        if any(e.is_gap for e in events):
            self._reconcile()

    def _versions(self, events: list[ChangeEvent], owners: set[str]) -> list[Record]:
        """Task versions the apply step reads, like the poll's query rows."""
        versions: list[Record] = []
        to_read: list[str] = []
        for event in events:
            if event.entity != "Task":
                continue
            if event.change_type == "DELETE":
                stamp = format_salesforce_datetime(event.commit_timestamp)
                versions.extend(
                    {"Id": i, "IsDeleted": True, "SystemModstamp": stamp} for i in event.record_ids
                )
            elif event.change_type == "CREATE" and {"OwnerId", "SystemModstamp"} <= set(
                event.values
            ):
                versions.extend(
                    {**event.values, "Id": i, "IsDeleted": False} for i in event.record_ids
                )
            elif event.change_type == "UNDELETE" or event.changed_fields & _SYNCED:
                to_read.extend(event.record_ids)
        if to_read:
            versions.extend(self._read(sorted(set(to_read))))
        return [v for v in versions if v.get("IsDeleted") is True or _synced_row(v, owners)]

    def _read(self, sf_ids: list[str]) -> list[Record]:
        assert self._connection is not None
        fields = ", ".join(records.TASK_QUERY_FIELDS)
        found: list[Record] = []
        with self.opener(self._connection) as api:
            for soql in chunk_in_clause(_QUERY_BY_ID, sf_ids, fields=fields):
                self.report.reads += 1
                found.extend(api.query_all(soql))
        return found

    def _reconcile(self) -> None:
        """The poll of this org, now: the changes a gap or a lost replay id may hide."""
        self.report.reconciles += 1
        self.puller.poll_org_now(self.team_id, self.org_id)

    # -- auth --------------------------------------------------------------------------------

    def _load_auth(self) -> PubSubAuth:
        assert self._connection is not None
        tokens = StoredTokens(self.runtime, self._connection.id).load()
        return PubSubAuth(tokens.access_token, tokens.instance_url, self._connection.org_id)

    def _require_auth(self) -> PubSubAuth:
        assert self._auth is not None
        return self._auth

    def _call_with_refresh(self, call: Callable[[PubSubAuth], Any]) -> Any:
        try:
            return call(self._require_auth())
        except PubSubError as error:
            if not error.auth_failed:
                raise
        self._refresh()
        return call(self._require_auth())

    def _refresh(self) -> None:
        """A new access token for the connection (once per expiry, across workers)."""
        connection = self._connection
        assert connection is not None
        config = dataclasses.replace(
            oauth_config(self.runtime, connection.environment), login_url=connection.login_url
        )
        stale = StoredTokens(self.runtime, connection.id).load()
        with httpx.Client(timeout=DEFAULT_TIMEOUT) as http:
            refresher = SerializedRefresher(
                self.runtime, connection.id, OAuthRefresher(config, http)
            )
            fresh = refresher(stale)
        self.report.refreshes += 1
        self._auth = PubSubAuth(fresh.access_token, fresh.instance_url, connection.org_id)

    # -- state -------------------------------------------------------------------------------

    def _pick_connection(self) -> SalesforceConnection | None:
        return stream_connection(self.runtime, self.puller, self.team_id, self.org_id)

    def _group(self) -> Any:
        for group in self.puller.groups():
            if (group.team_id, group.org_id) == (self.team_id, self.org_id):
                return group
        return None

    def _state(self) -> StreamState:
        with unit_of_work(self.runtime.sessions) as session:
            return task_streams.load(session, self.team_id, self.org_id)

    def _save(self, state: StreamState) -> None:
        now = self.runtime.clock.now()
        if state.mode == task_streams.CDC:
            state = dataclasses.replace(state, heartbeat_at=now)
        with unit_of_work(self.runtime.sessions) as session:
            task_streams.save(session, self.team_id, self.org_id, state, now=now)

    def _record_cdc_off(self) -> None:
        group = self._group()
        if group is None:
            return
        now = self.runtime.clock.now()
        message = CDC_OFF_MESSAGE.format(interval=self.runtime.settings.poll_interval_seconds)
        with unit_of_work(self.runtime.sessions) as session:
            for rep in group.reps:
                diagnostics.record(
                    session,
                    team_id=self.team_id,
                    user_id=rep.user_id,
                    item_type="task_sync",
                    item_id=None,
                    code=CDC_OFF_CODE,
                    category="setup",
                    message=message,
                    now=now,
                    detail={"org_id": self.org_id},
                )

    def _resolve_cdc_off(self) -> None:
        group = self._group()
        if group is None:
            return
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            for rep in group.reps:
                diagnostics.resolve_code_for_user(session, rep.user_id, CDC_OFF_CODE, now=now)


def stream_connection(
    runtime: Runtime, puller: TaskPullJob, team_id: int, org_id: str
) -> SalesforceConnection | None:
    """The connection an org's stream runs through: the team's sync connection, else the
    first synced rep's (it must see every synced rep's Tasks)."""
    for group in puller.groups():
        if (group.team_id, group.org_id) == (team_id, org_id) and group.reps:
            connection_id = group.team_connection_id or group.reps[0].connection_id
            with unit_of_work(runtime.sessions) as session:
                connection = connections_store.by_id(session, connection_id)
                if connection is not None:
                    session.expunge(connection)
                return connection
    return None


def _synced_row(record: Record, owners: set[str]) -> bool:
    """What the poll's query selects: reminders (subtype Task or none) of synced reps."""
    owner = records.normalized_id(record.get("OwnerId"))
    return owner in owners and record.get("TaskSubtype") in ("Task", None)
