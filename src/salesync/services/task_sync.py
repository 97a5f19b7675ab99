"""The "Sync Tasks/Reminders to Salesforce Tasks" option and what turning it on or off does.

Each rep's task sync state is kept beside the option (see :class:`SyncState`): when the current
period of sync began (TASK-6: only tasks created from then on are pushed), when it was paused
(TASK-8: the catch-up after a pause applies Salesforce deletes) and the rep's pull cursor.
Turning sync on queues the first import (TASK-7) or the catch-up after a pause; the worker runs
it within seconds, through the rep's own connection, and holds it while the rep is not
connected (it is released when they connect).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from salesync.domain import settings as rules
from salesync.domain.settings import TaskSyncMode
from salesync.domain.wording import tr
from salesync.errors import PermissionDenied
from salesync.runtime import Runtime
from salesync.services import sync_settings
from salesync.store import accounts as accounts_store
from salesync.store import connections as connections_store
from salesync.store import outbox
from salesync.store import sync_settings as settings_store
from salesync.store import tasks as store
from salesync.store.db import unit_of_work
from salesync.store.tables import ConnectionStatus, Role, SalesforceConnection, Team, User

SETTING = "task_sync"
_STATE_NAME = "task_sync"


def _scope(user_id: int) -> str:
    return f"user:{user_id}"


@dataclasses.dataclass(frozen=True)
class SyncState:
    """Where one rep's task sync stands."""

    #: Two-way sync is on for the rep.
    on: bool = False
    #: When the current (or last) period of sync began; tasks created before it never push.
    enabled_at: datetime | None = None
    #: When sync was last turned off; None while on.
    paused_at: datetime | None = None
    #: The rep's pull cursor: Salesforce SystemModstamp seen up to here (API-FACTS "Cursor
    #: safety"); the next poll reads from it minus the overlap.
    cursor: datetime | None = None
    #: When the rep's tasks were last polled, for the status panel.
    polled_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "enabled_at": _iso(self.enabled_at),
            "paused_at": _iso(self.paused_at),
            "cursor": _iso(self.cursor),
            "polled_at": _iso(self.polled_at),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SyncState:
        return cls(
            on=bool(value.get("on")),
            enabled_at=_parse(value.get("enabled_at")),
            paused_at=_parse(value.get("paused_at")),
            cursor=_parse(value.get("cursor")),
            polled_at=_parse(value.get("polled_at")),
        )


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def state_of(session: Session, user_id: int) -> SyncState:
    value = store.state(session, _scope(user_id), _STATE_NAME)
    return SyncState.from_json(value) if value is not None else SyncState()


def states_of(session: Session, user_ids: list[int]) -> dict[int, SyncState]:
    found = store.states(session, [_scope(user_id) for user_id in user_ids], _STATE_NAME)
    return {
        user_id: SyncState.from_json(found[_scope(user_id)])
        for user_id in user_ids
        if _scope(user_id) in found
    }


def users_on(session: Session) -> dict[int, SyncState]:
    """Every rep with two-way task sync on, and their state."""
    found = store.states_named(session, _STATE_NAME, "user:")
    states = {
        int(scope.split(":", 1)[1]): SyncState.from_json(value) for scope, value in found.items()
    }
    return {user_id: state for user_id, state in states.items() if state.on}


def save_state(session: Session, user_id: int, state: SyncState, *, now: datetime) -> None:
    store.put_state(session, _scope(user_id), _STATE_NAME, state.to_json(), now=now)


def is_on(session: Session, user_id: int) -> bool:
    """Tell whether the rep's task changes should go to Salesforce now."""
    return state_of(session, user_id).on


# -- turning sync on and off -------------------------------------------------------------------


def set_mode(runtime: Runtime, user: User, mode: TaskSyncMode | str) -> rules.EffectiveSettings:
    """Save the rep's task sync option and, in the same transaction, start or pause the sync.

    Raises InvalidInput (field ``task_sync``) when the value is unknown or the admin locked
    the option.
    """
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        actor = _attached(session, user)
        effective = sync_settings.save_my_settings(session, actor, {SETTING: str(mode)}, now=now)
        apply_mode(session, actor, effective.settings.task_sync, now=now)
        return effective


def set_team_mode(
    runtime: Runtime, admin: User, mode: TaskSyncMode | str, *, locked: bool | None = None
) -> rules.TeamPolicy:
    """Admin: the team default of the option, optionally locked, applied to every rep now."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        actor = _attached(session, admin)
        if actor.role is not Role.ADMIN:
            raise PermissionDenied(tr("only an admin can change team settings"))
        locks = _locks_after(session, actor, locked)
        policy = sync_settings.save_team_settings(
            session, actor, defaults={SETTING: str(mode)}, locked=locks, now=now
        )
        reconcile_team(session, actor.team, now=now)
        return policy


def _locks_after(session: Session, admin: User, locked: bool | None) -> set[str] | None:
    if locked is None:
        return None
    row = settings_store.settings_row(session, admin.team_id, None)
    current = set(row.locks) if row is not None else set()
    return current | {SETTING} if locked else current - {SETTING}


def reconcile_team(session: Session, team: Team, *, now: datetime) -> int:
    """Start or pause sync for every rep whose effective option differs from their state
    (team defaults and locks change it without the rep saving anything). Returns changes."""
    policy = sync_settings.team_policy(session, team)
    values = {row.user_id: row.values for row in settings_store.user_rows(session, team.id)}
    users = accounts_store.team_users(session, team.id)
    states = states_of(session, [user.id for user in users])
    changed = 0
    for user in users:
        effective = rules.effective_settings(values.get(user.id, {}), policy).settings
        wanted = effective.task_sync is TaskSyncMode.TWO_WAY and user.is_active
        if wanted != states.get(user.id, SyncState()).on:
            apply_mode(session, user, effective.task_sync if user.is_active else None, now=now)
            changed += 1
    return changed


def apply_mode(
    session: Session, user: User, mode: TaskSyncMode | None, *, now: datetime
) -> SyncState:
    """Move the rep's sync state to ``mode`` (None: off), queueing the import or catch-up."""
    state = state_of(session, user.id)
    if mode is TaskSyncMode.TWO_WAY and not state.on:
        state = _turn_on(session, user, state, now)
    elif mode is not TaskSyncMode.TWO_WAY and state.on:
        state = dataclasses.replace(state, on=False, paused_at=now)
        save_state(session, user.id, state, now=now)
    return state


def _turn_on(session: Session, user: User, previous: SyncState, now: datetime) -> SyncState:
    # TASK-6: tasks created from now on are pushed; TASK-7/8: import or catch up first.
    state = SyncState(on=True, enabled_at=now, paused_at=None, cursor=now)
    save_state(session, user.id, state, now=now)
    resuming = previous.enabled_at is not None and previous.paused_at is not None
    since = previous.paused_at if resuming else None
    _queue_catch_up(session, user, "resume" if resuming else "first", since, now)
    return state


def restart_from_stale_cursor(session: Session, user: User, *, now: datetime) -> SyncState:
    """The rep was not polled for so long (e.g. a broken connection) that Salesforce may have
    purged deletes since: catch up like after a pause, from the old cursor (TASK-8)."""
    state = state_of(session, user.id)
    _queue_catch_up(session, user, "resume", state.cursor, now)
    state = dataclasses.replace(state, cursor=now)
    save_state(session, user.id, state, now=now)
    return state


def _queue_catch_up(
    session: Session, user: User, mode: str, since: datetime | None, now: datetime
) -> None:
    connection = connections_store.for_user(session, user.id)
    outbox.enqueue(
        session,
        team_id=user.team_id,
        user_id=user.id,
        kind=store.ENABLE_KIND,
        subject_type="user",
        subject_id=user.id,
        payload={"mode": mode, "paused_at": _iso(since), "enabled_at": _iso(now)},
        now=now,
        # Held until the rep connects; connecting releases the rep's paused items.
        paused=not is_usable(connection),
    )


def is_usable(connection: SalesforceConnection | None) -> bool:
    return connection is not None and connection.status is ConnectionStatus.CONNECTED


def _attached(session: Session, user: User) -> User:
    found = accounts_store.user_by_id(session, user.id)
    if found is None:
        raise PermissionDenied(tr("this user no longer exists"))
    return found


# -- status for the API and the settings card ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SyncStatus:
    mode: TaskSyncMode
    origin: rules.SettingOrigin
    state: SyncState
    connected: bool


def status(runtime: Runtime, user: User) -> SyncStatus:
    with unit_of_work(runtime.sessions) as session:
        actor = _attached(session, user)
        effective = sync_settings.effective_for(session, actor)
        connection = connections_store.for_user(session, actor.id)
        return SyncStatus(
            mode=effective.settings.task_sync,
            origin=effective.origin_of(SETTING),
            state=state_of(session, actor.id),
            connected=is_usable(connection),
        )
