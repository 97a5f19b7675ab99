"""Queries for the outbox: enqueue with the change, claim with a lease, settle the outcome.

Claiming selects candidate ids (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that a claim never
waits on rows another worker is working on; SQLite serialises writers), then leases them in one
``UPDATE … WHERE id IN (…)``. An item is not claimable while an earlier item about the same
subject is in flight elsewhere, so the changes of one task reach Salesforce in order. A claim
may be capped to a few users, so that several workers share the reps fairly even when fewer
items are ready than one batch holds. Capped claims of one queue take turns on PostgreSQL (a
transaction-level advisory lock held for the few milliseconds a claim takes): two of them
scanning at once would each skip the rows the other was locking, and so could split one rep's
items between two workers, each half then costing the rep's API calls again. A capped claim
also leaves out reps another worker still holds items of (more than a batch ready): a rep's
items are worked on by one worker at a time, which orders its batches (one Lead per new
address, not one per worker).

Settling writes whole batches: one statement marks every done item, one executemany statement
writes the failed or rescheduled ones (DESIGN §5: no statement per row).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, Update, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from salesync.store.tables import OutboxItem, OutboxStatus


def enqueue(
    session: Session,
    *,
    team_id: int,
    user_id: int | None,
    kind: str,
    subject_type: str,
    subject_id: int,
    payload: dict[str, Any] | None = None,
    now: datetime,
    available_at: datetime | None = None,
    paused: bool = False,
) -> OutboxItem:
    """Add work in the caller's transaction, so it commits (or not) with the change itself."""
    item = OutboxItem(
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload or {},
        status=OutboxStatus.PAUSED if paused else OutboxStatus.PENDING,
        attempts=0,
        available_at=available_at or now,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    return item


@dataclass(frozen=True)
class NewItem:
    """Work to add with :func:`enqueue_many`."""

    team_id: int
    user_id: int | None
    kind: str
    subject_type: str
    subject_id: int
    payload: dict[str, Any]


def enqueue_many(
    session: Session,
    items: Sequence[NewItem],
    *,
    now: datetime,
    paused: bool = False,
) -> list[int]:
    """:func:`enqueue` for several items, written in one statement (Core: no ORM unit of
    work); returns their ids, in the order given."""
    if not items:
        return []
    status = OutboxStatus.PAUSED if paused else OutboxStatus.PENDING
    rows = [
        {
            "team_id": item.team_id,
            "user_id": item.user_id,
            "kind": item.kind,
            "subject_type": item.subject_type,
            "subject_id": item.subject_id,
            "payload": item.payload,
            "status": status,
            "attempts": 0,
            "available_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for item in items
    ]
    return list(session.scalars(_INSERT_ITEMS, rows))


_OUTBOX = cast(Table, OutboxItem.__table__)
_INSERT_ITEMS = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)


def _claimable(now: datetime, kinds: Sequence[str] | None, *, in_order: bool = True) -> Any:
    ready = and_(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.available_at <= now)
    # A worker that died mid-item left its lease behind; once it expires anyone may take it.
    abandoned = and_(OutboxItem.status == OutboxStatus.IN_FLIGHT, OutboxItem.lease_expires_at < now)
    condition = or_(ready, abandoned)
    if in_order:
        condition = and_(condition, ~_earlier_in_flight(now))
    if kinds:
        condition = and_(condition, OutboxItem.kind.in_(list(kinds)))
    return condition


def _earlier_in_flight(now: datetime) -> Any:
    """An earlier item about the same subject is being worked on (its lease still runs)."""
    earlier = aliased(OutboxItem)
    return exists().where(
        earlier.subject_type == OutboxItem.subject_type,
        earlier.subject_id == OutboxItem.subject_id,
        earlier.id < OutboxItem.id,
        earlier.status == OutboxStatus.IN_FLIGHT,
        earlier.lease_expires_at >= now,
    )


def claim_candidates(
    *,
    now: datetime,
    limit: int,
    kinds: Sequence[str] | None = None,
    for_worker: str | None = None,
) -> Any:
    """The ids and users of the next ready items, locked (PostgreSQL skips locked rows).

    ``for_worker``: leave out the items of users another worker holds items of (of these
    kinds, lease running), so that a user's items are worked on by one worker at a time.
    """
    condition = _claimable(now, kinds)
    if for_worker is not None:
        condition = and_(condition, ~_user_held_elsewhere(now, kinds, for_worker))
    return (
        select(OutboxItem.id, OutboxItem.user_id)
        .where(condition)
        .order_by(OutboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _user_held_elsewhere(now: datetime, kinds: Sequence[str] | None, worker_id: str) -> Any:
    # Uncorrelated: the database finds the few users held elsewhere once per claim, not once
    # per candidate row (correlated, a backlog of 10,000 items made each claim quadratic).
    held = aliased(OutboxItem)
    conditions = [
        held.status == OutboxStatus.IN_FLIGHT,
        held.lease_expires_at >= now,
        held.lease_owner != worker_id,
        held.user_id.is_not(None),
    ]
    if kinds:
        conditions.append(held.kind.in_(list(kinds)))
    users = select(held.user_id).where(*conditions).distinct()
    return and_(OutboxItem.user_id.is_not(None), OutboxItem.user_id.in_(users))


class QueuedItem(Protocol):
    """What a handler that only reads its items needs of each: a mapped :class:`OutboxItem`
    and a plain :class:`ClaimedItem` both have it."""

    @property
    def id(self) -> int: ...
    @property
    def team_id(self) -> int: ...
    @property
    def user_id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def subject_type(self) -> str: ...
    @property
    def subject_id(self) -> int: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def attempts(self) -> int: ...
    @property
    def first_failed_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """A leased item as plain values, for handlers that settle by id in set-based statements:
    about 40% less CPU than claiming mapped objects (no identity map, no instance state, and
    no parsing of the four timestamps nobody reads)."""

    id: int
    team_id: int
    user_id: int | None
    kind: str
    subject_type: str
    subject_id: int
    payload: dict[str, Any]
    attempts: int
    first_failed_at: datetime | None


_CLAIMED_COLUMNS = (
    OutboxItem.id,
    OutboxItem.team_id,
    OutboxItem.user_id,
    OutboxItem.kind,
    OutboxItem.subject_type,
    OutboxItem.subject_id,
    OutboxItem.payload,
    OutboxItem.attempts,
    OutboxItem.first_failed_at,
)


def claim(
    session: Session,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Sequence[str] | None = None,
    max_users: int | None = None,
) -> list[OutboxItem]:
    """Lease up to ``limit`` ready items to ``worker_id``; returns them in id order.

    With ``max_users``, only the items of the first ``max_users`` users among the candidates
    are leased: the rest stay for the other workers (their row locks end with this
    transaction). Such a claim also leaves out users another worker holds items of, so a
    user's items go to one worker at a time (its batches of one rep can be told apart
    and ordered there; two workers' could not).
    """
    ids = _leasable_ids(
        session, worker_id=worker_id, now=now, limit=limit, kinds=kinds, max_users=max_users
    )
    if not ids:
        return []
    claimed = session.scalars(
        _lease(ids, worker_id=worker_id, now=now, lease=lease, kinds=kinds)
        .returning(OutboxItem)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted(claimed, key=lambda item: item.id)


def claim_plain(
    session: Session,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Sequence[str] | None = None,
    max_users: int | None = None,
) -> list[ClaimedItem]:
    """:func:`claim`, the leased items returned as plain :class:`ClaimedItem` values."""
    ids = _leasable_ids(
        session, worker_id=worker_id, now=now, limit=limit, kinds=kinds, max_users=max_users
    )
    if not ids:
        return []
    rows = session.execute(
        _lease(ids, worker_id=worker_id, now=now, lease=lease, kinds=kinds)
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    return sorted((ClaimedItem(*row) for row in rows), key=lambda item: item.id)


def _leasable_ids(
    session: Session,
    *,
    worker_id: str,
    now: datetime,
    limit: int,
    kinds: Sequence[str] | None,
    max_users: int | None,
) -> list[int]:
    if max_users is not None:
        _take_turns(session, kinds)
    capped = max_users is not None
    candidates = claim_candidates(
        now=now, limit=limit, kinds=kinds, for_worker=worker_id if capped else None
    )
    rows = session.execute(candidates).all()
    users: set[int | None] = set()
    ids: list[int] = []
    for item_id, user_id in rows:
        if user_id not in users:
            if max_users is not None and len(users) >= max_users:
                continue
            users.add(user_id)
        ids.append(item_id)
    return ids


#: The high half of the claim locks' keys (PostgreSQL advisory locks are per database).
_CLAIM_LOCK_SPACE = 0x5A1E


def _take_turns(session: Session, kinds: Sequence[str] | None) -> None:
    """Wait for any other capped claim of the same kinds to end (PostgreSQL; SQLite
    serialises writers already). Released when this claim's transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    queue = zlib.crc32(",".join(sorted(kinds or ())).encode())
    session.execute(select(func.pg_advisory_xact_lock((_CLAIM_LOCK_SPACE << 32) | queue)))


def _lease(
    ids: list[int],
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    kinds: Sequence[str] | None,
) -> Update:
    """The UPDATE that leases ``ids``. Callers add RETURNING: the leased rows come back from
    the UPDATE itself (SQLite 3.35+ and PostgreSQL), not from a second query over the same
    thousand ids."""
    return (
        update(OutboxItem)
        # Re-checked against a claim made meanwhile; not the order rule, which SQLite would
        # apply row by row and so see this very statement's earlier rows as in flight.
        .where(OutboxItem.id.in_(ids), _claimable(now, kinds, in_order=False))
        .values(
            status=OutboxStatus.IN_FLIGHT,
            lease_owner=worker_id,
            lease_expires_at=now + lease,
            updated_at=now,
        )
    )


def mark_done(item: OutboxItem, *, now: datetime) -> None:
    item.status = OutboxStatus.DONE
    item.lease_owner = None
    item.lease_expires_at = None
    item.last_error_code = None
    item.last_error_message = None
    item.updated_at = now


def reschedule(
    item: OutboxItem, *, now: datetime, at: datetime, code: str | None, message: str | None
) -> None:
    """Put the item back in the queue for a later attempt, keeping why the last one failed."""
    item.status = OutboxStatus.PENDING
    item.attempts += 1
    item.available_at = at
    item.first_failed_at = item.first_failed_at or now
    item.lease_owner = None
    item.lease_expires_at = None
    item.last_error_code = code
    item.last_error_message = message
    item.updated_at = now


def mark_failed(item: OutboxItem, *, now: datetime, code: str, message: str) -> None:
    """Stop retrying on its own; the item waits on Diagnostics for a fix and a Retry."""
    item.status = OutboxStatus.FAILED
    item.attempts += 1
    item.first_failed_at = item.first_failed_at or now
    item.lease_owner = None
    item.lease_expires_at = None
    item.last_error_code = code
    item.last_error_message = message
    item.updated_at = now


@dataclass(frozen=True)
class Settled:
    """How one item ends an attempt that did not succeed: failed, or back in the queue."""

    item_id: int
    status: OutboxStatus
    code: str | None
    message: str | None
    #: When a rescheduled item runs again; ``None`` keeps its time (failed items).
    available_at: datetime | None = None
    #: The item's whole new payload (with ``outcome_unknown`` and the like), when given.
    payload: dict[str, Any] | None = None


def _table() -> Table:
    return cast(Table, OutboxItem.__table__)


def mark_done_many(session: Session, item_ids: Sequence[int], *, now: datetime) -> int:
    """Settle these items as done, in one statement."""
    if not item_ids:
        return 0
    result = session.execute(mark_done_statement(item_ids, now=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_done_statement(item_ids: Sequence[int], *, now: datetime) -> Any:
    return (
        update(_table())
        .where(_table().c.id.in_(sorted(set(item_ids))))
        .values(
            status=OutboxStatus.DONE,
            lease_owner=None,
            lease_expires_at=None,
            last_error_code=None,
            last_error_message=None,
            updated_at=now,
        )
    )


def settle_many(session: Session, outcomes: Sequence[Settled], *, now: datetime) -> None:
    """Write failed, rescheduled or paused items: one executemany statement per shape.

    Each counts one more attempt, remembers when it first failed, and gives up its lease.
    """
    plain = [o for o in outcomes if o.payload is None]
    with_payload = [o for o in outcomes if o.payload is not None]
    table = _table()
    values: dict[str, Any] = {
        "status": bindparam("b_status"),
        "attempts": table.c.attempts + 1,
        "available_at": func.coalesce(
            bindparam("b_at", type_=table.c.available_at.type), table.c.available_at
        ),
        "first_failed_at": func.coalesce(table.c.first_failed_at, now),
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error_code": bindparam("b_code"),
        "last_error_message": bindparam("b_message"),
        "updated_at": now,
    }
    statement = update(table).where(table.c.id == bindparam("b_id"))
    if plain:
        session.execute(statement.values(values), [_params(o) for o in plain])
    if with_payload:
        session.execute(
            statement.values({**values, "payload": bindparam("b_payload")}),
            [_params(o) for o in with_payload],
        )


def _params(outcome: Settled) -> dict[str, Any]:
    params: dict[str, Any] = {
        "b_id": outcome.item_id,
        "b_status": outcome.status,
        "b_at": outcome.available_at,
        "b_code": outcome.code,
        "b_message": outcome.message,
    }
    if outcome.payload is not None:
        params["b_payload"] = outcome.payload
    return params


def release_leftovers(
    session: Session,
    item_ids: Sequence[int],
    *,
    worker_id: str,
    now: datetime,
    at: datetime,
    code: str,
    message: str,
) -> int:
    """Requeue the items a handler left in flight (it crashed or forgot), in one statement."""
    if not item_ids:
        return 0
    table = _table()
    result = session.execute(
        update(table)
        .where(
            table.c.id.in_(sorted(set(item_ids))),
            table.c.status == OutboxStatus.IN_FLIGHT,
            table.c.lease_owner == worker_id,
        )
        .values(
            status=OutboxStatus.PENDING,
            attempts=table.c.attempts + 1,
            available_at=at,
            first_failed_at=func.coalesce(table.c.first_failed_at, now),
            lease_owner=None,
            lease_expires_at=None,
            last_error_code=code,
            last_error_message=message,
            updated_at=now,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def pause_user(session: Session, user_id: int, *, now: datetime, reason: str) -> int:
    """Hold every queued item of a user (e.g. broken connection); nothing is dropped."""
    result = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.user_id == user_id,
            OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT]),
        )
        .values(
            status=OutboxStatus.PAUSED,
            lease_owner=None,
            lease_expires_at=None,
            last_error_message=reason,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def resume_user(session: Session, user_id: int, *, now: datetime) -> int:
    """Release a user's paused items (reconnect); they run at once."""
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.user_id == user_id, OutboxItem.status == OutboxStatus.PAUSED)
        .values(status=OutboxStatus.PENDING, available_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry_failed(session: Session, item_ids: Sequence[int], *, now: datetime) -> int:
    """Requeue failed items now (the Diagnostics Retry button)."""
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(list(item_ids)), OutboxItem.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, available_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def backlog(session: Session, team_id: int) -> dict[str, int]:
    """Counts by status for the Diagnostics backlog panel."""
    rows = session.execute(
        select(OutboxItem.status, func.count())
        .where(OutboxItem.team_id == team_id, OutboxItem.status != OutboxStatus.DONE)
        .group_by(OutboxItem.status)
    )
    return {status.value: int(count) for status, count in rows}


def next_available_at(session: Session) -> datetime | None:
    """When the earliest pending item becomes ready (lets an idle worker sleep just enough)."""
    return session.scalar(
        select(func.min(OutboxItem.available_at)).where(OutboxItem.status == OutboxStatus.PENDING)
    )


def items_by_id(session: Session, item_ids: Sequence[int]) -> dict[int, OutboxItem]:
    rows = session.scalars(select(OutboxItem).where(OutboxItem.id.in_(list(item_ids))))
    return {row.id: row for row in rows}
