"""The Diagnostics page's content: grouped failures with cause and fix, retries, export,
setup checks, API usage against the budget, and the backlog."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from salesync.domain import budget, error_catalog
from salesync.domain.own_codes import own_code
from salesync.domain.spreadsheet import safe_row
from salesync.domain.wording import Translatable, tr
from salesync.errors import NotFound
from salesync.runtime import Runtime
from salesync.store import accounts, connections, outbox, task_streams
from salesync.store import diagnostics as store
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, Role, Team, User

#: Order of the groups on the page: what needs a person first.
CATEGORY_ORDER = (
    "authentication",
    "access_validation",
    "setup",
    "unmatched",
    "other",
    "intermittent",
)


@dataclass(frozen=True)
class EntryView:
    id: int
    user_id: int | None
    user_name: str
    item_type: str
    item_id: int | None
    message: str
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    retryable: bool


@dataclass(frozen=True)
class GroupView:
    category: str
    code: str
    message: str
    cause: str
    fix: str
    entries: tuple[EntryView, ...]

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class UsageView:
    org_id: str
    org_used: int
    org_max: int
    salesync_calls_24h: int
    allowance: int


@dataclass(frozen=True)
class StreamView:
    """How Salesforce Task changes reach salesync for one org: "cdc" (real time) or
    "polling", the last change event, its lag, and why polling runs."""

    org_id: str
    mode: str
    last_event_at: datetime | None
    lag_ms: int | None
    reason: str


@dataclass(frozen=True)
class Overview:
    groups: tuple[GroupView, ...]
    backlog: dict[str, int]
    usage: tuple[UsageView, ...]
    setup_checks: tuple[tuple[str, str, str], ...] = field(default=())
    streams: tuple[StreamView, ...] = field(default=())


def _texts(code: str) -> tuple[str, str, str]:
    own = own_code(code)
    if own is not None:
        return own.category, own.cause, own.fix
    entry = error_catalog.lookup(code)
    return entry.category.value, entry.cause, entry.fix


def _visible_user_ids(session: Session, viewer: User, only_user: int | None) -> list[int] | None:
    """Admins see the team (or one member); reps only ever see themselves."""
    if viewer.role is not Role.ADMIN:
        return [viewer.id]
    if only_user is None:
        return None
    member = accounts.user_by_id(session, only_user)
    if member is None or member.team_id != viewer.team_id:
        raise NotFound(tr("user {only_user} is not in your team", only_user=only_user))
    return [only_user]


def overview(
    session: Session, viewer: User, *, only_user: int | None = None, now: datetime
) -> Overview:
    user_ids = _visible_user_ids(session, viewer, only_user)
    names = {u.id: u.name for u in accounts.team_users(session, viewer.team_id)}
    grouped: dict[tuple[str, str], list[DiagnosticEntry]] = defaultdict(list)
    for entry in store.open_entries(session, viewer.team_id, user_ids=user_ids):
        grouped[(entry.category, entry.code)].append(entry)
    groups = []
    for (category, code), entries in grouped.items():
        _, cause, fix = _texts(code)
        views = tuple(
            EntryView(
                e.id,
                e.user_id,
                names.get(e.user_id or 0) or tr("team"),
                e.item_type,
                e.item_id,
                store.shown_message(e),
                e.occurrences,
                e.first_seen_at,
                e.last_seen_at,
                retryable=e.outbox_id is not None or e.item_type == "connection",
            )
            for e in entries
        )
        groups.append(GroupView(category, code, views[0].message, cause, fix, views))
    groups.sort(
        key=lambda g: (
            CATEGORY_ORDER.index(g.category) if g.category in CATEGORY_ORDER else 99,
            -g.count,
            g.code,
        )
    )
    return Overview(
        tuple(groups),
        outbox.backlog(session, viewer.team_id),
        _usage(session, viewer, now),
        _setup_checks(session, viewer, user_ids),
        _streams(session, viewer),
    )


def _streams(session: Session, viewer: User) -> tuple[StreamView, ...]:
    states = task_streams.load_all(session, viewer.team_id)
    return tuple(
        StreamView(org_id, state.mode, state.last_event_at, state.lag_ms, state.reason)
        for org_id, state in sorted(states.items())
    )


def _usage(session: Session, viewer: User, now: datetime) -> tuple[UsageView, ...]:
    team = session.get(Team, viewer.team_id)
    share = (team.api_budget_share if team else 50) / 100
    seen: dict[str, UsageView] = {}
    for connection in connections.connected_for_team(session, viewer.team_id):
        usage = connections.usage(session, connection.org_id)
        if usage is None or connection.org_id in seen:
            continue
        seen[connection.org_id] = UsageView(
            connection.org_id,
            usage.used,
            usage.max,
            connections.calls_in_last_day(session, connection.org_id, now=now),
            budget.allowance(usage.max, share),
        )
    return tuple(seen.values())


def _setup_checks(
    session: Session, viewer: User, user_ids: list[int] | None
) -> tuple[tuple[str, str, str], ...]:
    """(user, level, text) of each connection's org discovery checks."""
    checks: list[tuple[str, str, str]] = []
    names = {u.id: u.name for u in accounts.team_users(session, viewer.team_id)}
    for connection in connections.connected_for_team(session, viewer.team_id):
        if user_ids is not None and connection.user_id not in user_ids:
            continue
        for check in (connection.org_profile or {}).get("checks", []):
            who = names.get(connection.user_id or 0) or tr("team sync connection")
            checks.append((who, str(check.get("level")), check_text(check)))
    return tuple(checks)


def check_text(check: Mapping[str, Any]) -> str:
    """A stored setup check's text, as a :class:`Translatable` when its wording was kept."""
    wording = check.get("text_i18n")
    if isinstance(wording, dict) and "msgid" in wording:
        return Translatable.from_json(wording)
    return str(check.get("text"))


def retry(runtime: Runtime, viewer: User, entry_ids: Sequence[int]) -> int:
    """Retry the items behind these entries now; returns how many were requeued."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        user_ids = _visible_user_ids(session, viewer, None)
        entries = [
            e
            for e in store.open_entries(session, viewer.team_id, user_ids=user_ids)
            if e.id in set(entry_ids)
        ]
        outbox_ids = [e.outbox_id for e in entries if e.outbox_id is not None]
        requeued = outbox.retry_failed(session, outbox_ids, now=now) if outbox_ids else 0
        for entry in entries:
            skipped = ("TASK_FIELDS_SKIPPED", "ENGAGEMENT_FIELDS_SKIPPED")
            if entry.item_type == "connection" and entry.code in skipped:
                # Rediscover the org on the next batch: the admin may have fixed the fields.
                row = connections.by_id(session, entry.item_id or 0)
                if row is not None:
                    row.org_profile = None
            entry.resolved_at = now
        return requeued


def retry_group(runtime: Runtime, viewer: User, category: str, code: str) -> int:
    with runtime.sessions() as session:
        user_ids = _visible_user_ids(session, viewer, None)
        ids = [
            e.id
            for e in store.open_entries(session, viewer.team_id, user_ids=user_ids)
            if e.category == category and e.code == code
        ]
    return retry(runtime, viewer, ids)


def export_csv(data: Overview) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "category",
            "code",
            "user",
            "item_type",
            "item_id",
            "message",
            "cause",
            "fix",
            "occurrences",
            "first_seen_at",
            "last_seen_at",
        ]
    )
    for group in data.groups:
        for entry in group.entries:
            writer.writerow(
                safe_row(
                    [
                        group.category,
                        group.code,
                        entry.user_name,
                        entry.item_type,
                        entry.item_id or "",
                        entry.message,
                        group.cause,
                        group.fix,
                        entry.occurrences,
                        entry.first_seen_at.isoformat(),
                        entry.last_seen_at.isoformat(),
                    ]
                )
            )
    return buffer.getvalue()
