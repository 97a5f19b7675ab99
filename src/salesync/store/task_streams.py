"""Per team and org: the Change Data Capture stream's state and the lease of who runs it.

Kept in ``sync_cursors`` rows (scope ``team:{id}:org:{org}``) like the poll's gates: the
state (mode, stored replay id, last event, lag, why polling runs) and a lease whose
``updated_at`` is the holder's heartbeat, so one worker streams each org.
"""

from __future__ import annotations

import base64
import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync.store.tables import SyncCursor

STATE_NAME = "task_cdc"
LEASE_NAME = "task_cdc_lease"
CDC, POLLING, STARTING = "cdc", "polling", "starting"


def scope(team_id: int, org_id: str) -> str:
    return f"team:{team_id}:org:{org_id}"


@dataclasses.dataclass(frozen=True)
class StreamState:
    mode: str = POLLING
    #: The replay id after the last applied event (opaque bytes).
    replay_id: bytes | None = None
    last_event_at: datetime | None = None
    #: Commit in Salesforce to applied here, for the last event.
    lag_ms: int | None = None
    #: Why polling runs (CDC off for Task, the stream failing), for Diagnostics.
    reason: str = ""
    #: The last time the stream answered (event or keepalive).
    heartbeat_at: datetime | None = None
    #: Not before this instant does a worker try the stream again after falling back.
    retry_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "replay_id": base64.b64encode(self.replay_id).decode() if self.replay_id else None,
            "last_event_at": _iso(self.last_event_at),
            "lag_ms": self.lag_ms,
            "reason": self.reason,
            "heartbeat_at": _iso(self.heartbeat_at),
            "retry_at": _iso(self.retry_at),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> StreamState:
        replay = value.get("replay_id")
        return cls(
            mode=str(value.get("mode") or POLLING),
            replay_id=base64.b64decode(replay) if replay else None,
            last_event_at=_parse(value.get("last_event_at")),
            lag_ms=value.get("lag_ms"),
            reason=str(value.get("reason") or ""),
            heartbeat_at=_parse(value.get("heartbeat_at")),
            retry_at=_parse(value.get("retry_at")),
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _row(session: Session, scope_: str, name: str) -> SyncCursor | None:
    return session.scalars(
        select(SyncCursor).where(SyncCursor.scope == scope_, SyncCursor.name == name)
    ).first()


def load(session: Session, team_id: int, org_id: str) -> StreamState:
    row = _row(session, scope(team_id, org_id), STATE_NAME)
    return StreamState.from_json(dict(row.value)) if row is not None else StreamState()


def load_all(session: Session, team_id: int) -> dict[str, StreamState]:
    """Every org's stream state of a team, by org id."""
    prefix = f"team:{team_id}:org:"
    rows = session.scalars(
        select(SyncCursor).where(
            SyncCursor.name == STATE_NAME, SyncCursor.scope.startswith(prefix, autoescape=True)
        )
    )
    return {row.scope.removeprefix(prefix): StreamState.from_json(dict(row.value)) for row in rows}


def save(session: Session, team_id: int, org_id: str, state: StreamState, *, now: datetime) -> None:
    row = _row(session, scope(team_id, org_id), STATE_NAME)
    if row is None:
        session.add(
            SyncCursor(
                scope=scope(team_id, org_id), name=STATE_NAME, value=state.to_json(), updated_at=now
            )
        )
        session.flush()
        return
    row.value = state.to_json()
    row.updated_at = now


def claim_lease(
    session: Session, team_id: int, org_id: str, *, holder: str, now: datetime, lease: timedelta
) -> bool:
    """Take or renew the stream's lease: free, stale, or already ours. Commit right after."""
    row = _row(session, scope(team_id, org_id), LEASE_NAME)
    if row is None:
        try:
            with session.begin_nested():
                session.add(
                    SyncCursor(
                        scope=scope(team_id, org_id),
                        name=LEASE_NAME,
                        value={"holder": holder},
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False  # another worker made it at the same moment
        return True
    if row.value.get("holder") != holder and row.updated_at > now - lease:
        return False
    # Conditional on the heartbeat read: of two workers racing, one changes the row.
    result = session.execute(
        update(SyncCursor)
        .where(SyncCursor.id == row.id, SyncCursor.updated_at == row.updated_at)
        .values(value={"holder": holder}, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release_lease(session: Session, team_id: int, org_id: str, *, holder: str) -> None:
    row = _row(session, scope(team_id, org_id), LEASE_NAME)
    if row is not None and row.value.get("holder") == holder:
        session.delete(row)
