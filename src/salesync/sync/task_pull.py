"""Poll Salesforce for Task changes of the reps with two-way task sync on.

Every poll interval (``SALESYNC_POLL_INTERVAL_SECONDS``, 30 s by default), per team and org:

- one ``queryAll`` of the Tasks owned by the synced reps whose SystemModstamp is at or after
  the oldest rep cursor minus an overlap (API-FACTS "Cursor safety"): updates, creates and
  deletes (``IsDeleted = true`` rows) in one call, through the team's sync connection when there
  is one; without it, one query per rep through the rep's own connection;
- versions read twice (the overlap) are skipped by their SystemModstamp; our own writes and
  automation that changed no synced field match the stored fingerprint and change nothing;
- the cursors advance to the newest SystemModstamp seen, never past the poll's start.

A gate row per team and org makes sure that, however many workers run, one polls each org per
interval. Near the API budget cap, the poll waits first (DESIGN §3 rationing).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync.domain import budget
from salesync.domain.soql import chunk_in_clause
from salesync.domain.sync_windows import DELETE_WINDOW, advance_cursor, query_from
from salesync.domain.wording import tr
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.salesforce.results import Record
from salesync.services import task_sync
from salesync.store import connections as connections_store
from salesync.store import diagnostics, task_streams
from salesync.store import tasks as store
from salesync.store.db import unit_of_work
from salesync.store.tables import SalesforceConnection, Team, User
from salesync.sync import task_api, task_apply
from salesync.sync import task_records as records
from salesync.sync.task_api import ApiOpener, TaskApi
from salesync.sync.worker import default_worker_id

#: The poll query; ``{}`` takes the synced reps' Salesforce user ids. Only reminders are read
#: (TaskSubtype Task or empty): logged emails and calls never sync (DESIGN §3).
CHANGES_SOQL = (
    "SELECT {fields:literal} FROM Task WHERE SystemModstamp >= {since} AND OwnerId IN {} "
    "AND (TaskSubtype = 'Task' OR TaskSubtype = null) ORDER BY SystemModstamp, Id"
)
#: Diagnostics code of a poll that failed (the next poll retries from the same cursor).
POLL_FAILED_CODE = "TASK_POLL_FAILED"
_GATE = "task_poll"
#: A rep not polled for this long may have missed deletes Salesforce has purged since (it
#: keeps them 15 days, API-FACTS §2.8): catch up like after a pause instead of polling.
STALE_CURSOR = DELETE_WINDOW - dt.timedelta(days=1)
#: A stream silent for this long is presumed dead and the poll takes over: the Pub/Sub API
#: sends a keepalive within 270 s (API-FACTS §8.4).
STREAM_STALE = dt.timedelta(seconds=330)


#: SOQL's own limit on a statement's length (API-FACTS §2.10): a statement too long for a URL
#: goes in a composite body, where this is the only limit.
MAX_SOQL_CHARS = 100_000


def changes_queries(owner_sf_ids: Sequence[str], since: dt.datetime) -> list[str]:
    """The poll queries: one, unless the owners' ids pass SOQL's 100,000 characters (about
    4,000 reps; a statement too long for a URL is sent in a composite body, one call)."""
    fields = ", ".join(records.TASK_QUERY_FIELDS)
    return chunk_in_clause(
        CHANGES_SOQL,
        sorted(owner_sf_ids),
        max_uri_chars=MAX_SOQL_CHARS,
        fields=fields,
        since=since,
    )


@dataclasses.dataclass(frozen=True)
class _Rep:
    user_id: int
    sf_user_id: str
    connection_id: int
    cursor: dt.datetime


@dataclasses.dataclass
class _Group:
    """The synced reps of one team in one org, and the connection that polls for them."""

    team_id: int
    org_id: str
    reps: list[_Rep]
    #: The team's sync connection, when it is connected to this org.
    team_connection_id: int | None

    @property
    def gate_scope(self) -> str:
        return f"team:{self.team_id}:org:{self.org_id}"


@dataclasses.dataclass
class PollReport:
    """What one poll did, for logs, tests and the benchmark."""

    orgs_polled: int = 0
    queries: int = 0
    outcomes: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped: list[str] = dataclasses.field(default_factory=list)
    #: Orgs not polled because their Change Data Capture stream is live.
    streamed: list[str] = dataclasses.field(default_factory=list)

    def add(self, report: task_apply.ApplyReport) -> None:
        for outcome in report.outcomes.values():
            self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1


class TaskPullJob:
    """The periodic job that polls Salesforce for Task changes."""

    name = "task_pull"

    def __init__(
        self, runtime: Runtime, *, opener: ApiOpener | None = None, worker_id: str | None = None
    ) -> None:
        self.runtime = runtime
        self.interval_seconds = runtime.settings.poll_interval_seconds
        self.opener = opener or task_api.default_opener(runtime)
        self.worker_id = worker_id or default_worker_id()

    def run_once(self) -> None:
        self.poll()

    def poll(self) -> PollReport:
        """Poll every org with synced reps whose gate is free; returns what happened.

        Orgs whose Change Data Capture stream is live are skipped: their changes arrive
        through it (see :mod:`salesync.sync.task_stream`).
        """
        report = PollReport()
        for group in self.groups():
            if self._streamed(group):
                report.streamed.append(group.gate_scope)
                continue
            if self._take_gate(group) and self._budget_allows(group, report):
                self._poll_group(group, report)
        return report

    def poll_org_now(self, team_id: int, org_id: str) -> PollReport:
        """Poll one team's org at once, whatever its gate says: the reconcile query of the
        stream (first start, gap events, an expired replay id)."""
        report = PollReport()
        for group in self.groups():
            if (group.team_id, group.org_id) == (team_id, org_id):
                self._poll_group(group, report)
        return report

    def _streamed(self, group: _Group) -> bool:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            state = task_streams.load(session, group.team_id, group.org_id)
        return task_streams_live(state, now)

    # -- who to poll ---------------------------------------------------------------------------

    def groups(self) -> list[_Group]:
        """The synced reps grouped by team and org (stale cursors are restarted first)."""
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            for team in session.scalars(select(Team).order_by(Team.id)):
                task_sync.reconcile_team(session, team, now=now)
        with unit_of_work(self.runtime.sessions) as session:
            groups: dict[tuple[int, str], _Group] = {}
            for user_id, state in sorted(task_sync.users_on(session).items()):
                connection = connections_store.for_user(session, user_id)
                if not task_sync.is_usable(connection) or connection is None:
                    continue
                key = (connection.team_id, connection.org_id)
                if key not in groups:
                    team_connection = connections_store.team_sync_connection(
                        session, connection.team_id
                    )
                    groups[key] = _Group(
                        connection.team_id,
                        connection.org_id,
                        [],
                        _team_connection_id(team_connection, connection.org_id),
                    )
                cursor = state.cursor or state.enabled_at or now
                if now - cursor > STALE_CURSOR:
                    user = session.get(User, user_id)
                    assert user is not None
                    task_sync.restart_from_stale_cursor(session, user, now=now)
                    continue  # its catch-up runs in the worker; polled again from now on
                rep = _Rep(user_id, connection.sf_user_id, connection.id, cursor)
                groups[key].reps.append(rep)
            return list(groups.values())

    def _take_gate(self, group: _Group) -> bool:
        """One poll per org per interval, whichever worker gets there first."""
        now = self.runtime.clock.now()
        min_gap = dt.timedelta(seconds=self.interval_seconds * 0.9)
        for _ in range(2):
            with unit_of_work(self.runtime.sessions) as session:
                taken = store.take_gate(
                    session,
                    group.gate_scope,
                    _GATE,
                    holder=self.worker_id,
                    now=now,
                    min_gap=min_gap,
                )
            if taken is not None:
                return taken
            try:
                with unit_of_work(self.runtime.sessions) as session:
                    store.add_gate(session, group.gate_scope, _GATE, now=now)
            except IntegrityError:
                pass  # another worker made it at the same moment
        return False

    def _budget_allows(self, group: _Group, report: PollReport) -> bool:
        calls = 1 if group.team_connection_id is not None else len(group.reps)
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            team = session.get(Team, group.team_id)
            assert team is not None
            decision = task_api.budget_check(
                session, team, group.org_id, budget.WorkKind.TASK_PULL, calls=calls, now=now
            )
            if isinstance(decision, budget.Defer):
                task_api.record_budget_wait(session, group.team_id, None, decision.reason, now=now)
                report.skipped.append(group.gate_scope)
                return False
        return True

    # -- polling -------------------------------------------------------------------------------

    def _poll_group(self, group: _Group, report: PollReport) -> None:
        report.orgs_polled += 1
        if group.team_connection_id is not None:
            self._poll_reps(group, group.team_connection_id, group.reps, report)
            return
        for rep in group.reps:
            self._poll_reps(group, rep.connection_id, [rep], report)

    def _poll_reps(
        self, group: _Group, connection_id: int, reps: list[_Rep], report: PollReport
    ) -> None:
        """Read and apply page by page (memory stays flat however long the gap); the cursors
        move only once everything was applied, so a failure half-way reads it all again."""
        started = self.runtime.clock.now()
        since = query_from(min(rep.cursor for rep in reps))
        connection = self._connection(connection_id)
        applied = task_apply.ApplyReport()
        try:
            with self.opener(connection) as api:
                rows = self._read(api, [rep.sf_user_id for rep in reps], since, report)
                for page in _in_pages(rows):
                    _combine(applied, self._apply(group, reps, page, started, report))
        except SalesforceError as error:
            self._record_failure(group, reps, connection, error)
            task_api.break_connection_if_revoked(self.runtime, connection_id, error)
            return
        with unit_of_work(self.runtime.sessions) as session:
            _advance_cursors(session, reps, applied, started, self.runtime.clock.now(), [])

    def _read(
        self, api: TaskApi, owners: list[str], since: dt.datetime, report: PollReport
    ) -> Iterator[Record]:
        for soql in changes_queries(owners, since):
            report.queries += 1
            # A long gap (a reconcile) can read many rows: past 10,000, through Bulk API 2.0.
            yield from api.query_all_large(
                soql,
                bulk_above=self.runtime.settings.bulk_above_rows,
                booleans=records.TASK_BOOLEAN_FIELDS,
            )

    def _apply(
        self,
        group: _Group,
        reps: list[_Rep],
        versions: list[Record],
        started: dt.datetime,
        report: PollReport,
    ) -> task_apply.ApplyReport:
        with unit_of_work(self.runtime.sessions) as session:
            now = self.runtime.clock.now()
            applied = apply_in_session(
                session, group, reps, versions, started, now=now, advance=False
            )
        report.add(applied)
        return applied

    def _connection(self, connection_id: int) -> SalesforceConnection:
        with unit_of_work(self.runtime.sessions) as session:
            connection = connections_store.by_id(session, connection_id)
            assert connection is not None
            session.expunge(connection)
            return connection

    def _record_failure(
        self,
        group: _Group,
        reps: list[_Rep],
        connection: SalesforceConnection,
        error: SalesforceError,
    ) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            for rep in reps:
                diagnostics.record(
                    session,
                    team_id=group.team_id,
                    user_id=rep.user_id,
                    item_type="task_sync",
                    item_id=None,
                    code=POLL_FAILED_CODE,
                    category=error.category.value,
                    message=(
                        tr(
                            "Reading Salesforce Task changes through {sf_username} failed "
                            "({code}: {message}); the next poll tries again from the same point.",
                            sf_username=connection.sf_username,
                            code=error.error_code or "error",
                            message=error.message,
                        )
                    ),
                    now=now,
                    detail={"error_code": error.error_code},
                )


def apply_in_session(
    session: Session,
    group: _Group,
    reps: list[_Rep],
    versions: list[Record],
    started: dt.datetime,
    *,
    now: dt.datetime,
    seen: list[dt.datetime] | None = None,
    reread: bool = False,
    advance: bool = True,
) -> task_apply.ApplyReport:
    """Apply Task versions read for ``reps`` and move their cursors, in the caller's
    transaction: the poll's rules, shared by the Change Data Capture stream. ``seen`` adds
    instants the reps' changes are known to be read up to (a stream's commit times);
    ``reread`` merges versions even when their SystemModstamp was seen (a change event says
    the record changed, and two saves within one second share a SystemModstamp)."""
    owners = {rep.sf_user_id: task_apply.Owner(rep.user_id, rep.sf_user_id) for rep in reps}
    in_doubt = store.pushes_in_doubt(
        session,
        [rep.user_id for rep in reps],
        unknown_outcome_codes=task_api.UNKNOWN_OUTCOME_CODES,
    )
    context = task_apply.ApplyContext(
        session=session,
        now=now,
        team_id=group.team_id,
        org_id=group.org_id,
        owners=owners,
        defer_new_of=in_doubt,
        reread=reread,
    )
    applied = task_apply.apply_versions(context, versions)
    if advance:
        _advance_cursors(session, reps, applied, started, now, seen or [])
    return applied


#: Versions applied per transaction by the poll.
APPLY_PAGE = 2000


def _in_pages(rows: Iterator[Record]) -> Iterator[list[Record]]:
    page: list[Record] = []
    for row in rows:
        page.append(row)
        if len(page) >= APPLY_PAGE:
            yield page
            page = []
    if page:
        yield page


def _combine(total: task_apply.ApplyReport, page: task_apply.ApplyReport) -> None:
    """Fold one page's report into the poll's: newest stamp seen, earliest left behind."""
    total.outcomes.update(page.outcomes)
    stamps = [s for s in (total.newest_modstamp, page.newest_modstamp) if s is not None]
    total.newest_modstamp = max(stamps) if stamps else None
    deferred = [s for s in (total.earliest_deferred, page.earliest_deferred) if s is not None]
    total.earliest_deferred = min(deferred) if deferred else None


def _advance_cursors(
    session: Session,
    reps: list[_Rep],
    applied: task_apply.ApplyReport,
    started: dt.datetime,
    now: dt.datetime,
    extra_seen: list[dt.datetime],
) -> None:
    """Move each rep's cursor to the newest SystemModstamp seen (never past the poll's start,
    never back) but not past a version left for the next poll."""
    seen = [applied.newest_modstamp] if applied.newest_modstamp else []
    seen.extend(extra_seen)
    for rep in reps:
        cursor = advance_cursor(rep.cursor, seen, started)
        if applied.earliest_deferred is not None:
            cursor = max(rep.cursor, min(cursor, applied.earliest_deferred))
        state = task_sync.state_of(session, rep.user_id)
        if state.on:
            state = dataclasses.replace(state, cursor=cursor, polled_at=now)
            task_sync.save_state(session, rep.user_id, state, now=now)
        diagnostics.resolve_code_for_user(session, rep.user_id, POLL_FAILED_CODE, now=now)


def task_streams_live(state: task_streams.StreamState, now: dt.datetime) -> bool:
    """Whether an org's stream delivers changes now (its worker answered lately)."""
    return (
        state.mode == task_streams.CDC
        and state.heartbeat_at is not None
        and now - state.heartbeat_at <= STREAM_STALE
    )


def _team_connection_id(connection: SalesforceConnection | None, org_id: str) -> int | None:
    if connection is None or not task_sync.is_usable(connection) or connection.org_id != org_id:
        return None
    return connection.id
