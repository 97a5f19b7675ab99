"""A claim's cost grows with the backlog, not with its square.

A capped claim leaves out users another worker holds items of. Its first version asked that
once per candidate row, looking through every item in flight for one leased elsewhere: with
10,000 items of one rep queued and 1,000 leased to the same worker, a claim read 9,000
candidates x 1,000 leased rows, and logging them took 42 s instead of 3 s.
The plan still used its index, so the query-plan test let it through; this one counts the
work itself. SQLite's progress handler is called every N virtual-machine instructions of a
statement: a count, not a timing, so it holds on any machine. Double the backlog (pending
and in flight alike): a claim must cost about twice as much, not four times.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from salesync.services import accounts
from salesync.store import migrate, outbox
from salesync.store.db import create_db_engine, session_factory, unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus
from tests.support import FakeClock

#: Instructions between two calls of the progress handler.
STEP = 100


def _backlog(engine: Engine, clock: FakeClock, pending: int, in_flight: int) -> None:
    """One rep's ``pending + in_flight`` queued emails, ``in_flight`` of them leased to this
    worker (its other batch running), so none is held elsewhere and every check of a
    candidate has to look through all of them."""
    now = clock.now()
    sessions = session_factory(engine)
    with unit_of_work(sessions) as session:
        new = accounts.NewUser("rep@example.com", "Rep", "long enough password")
        user = accounts.add_user(session, new, now=now)
        rows: list[dict[str, Any]] = [
            {
                "team_id": user.team_id,
                "user_id": user.id,
                "kind": "log_email",
                "subject_type": "email",
                "subject_id": n,
                "payload": {},
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "available_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(pending + in_flight)
        ]
        session.execute(insert(OutboxItem), rows)
    with unit_of_work(sessions) as session:
        leased = outbox.claim_plain(
            session,
            worker_id="this",
            now=now,
            lease=timedelta(minutes=5),
            limit=in_flight,
            kinds=["log_email"],
        )
        assert len(leased) == in_flight


def _claim_steps(tmp_path: Path, clock: FakeClock, size: int) -> int:
    engine = create_db_engine(f"sqlite:///{tmp_path / f'claim-{size}.db'}")
    migrate.upgrade(engine)
    _backlog(engine, clock, pending=size, in_flight=size)
    calls = 0

    def count() -> int:
        nonlocal calls
        calls += 1
        return 0  # go on

    statement = outbox.claim_candidates(
        now=clock.now(), limit=1000, kinds=["log_email"], for_worker="this"
    )
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.set_progress_handler(count, STEP)
        try:
            rows = connection.execute(statement).all()
        finally:
            raw.set_progress_handler(None, STEP)
    engine.dispose()
    # Held by this worker only, the rep's pending items are all candidates.
    assert len(rows) == min(1000, size)
    return calls


def test_a_capped_claim_costs_twice_as_much_for_twice_the_backlog(
    tmp_path: Path, clock: FakeClock
) -> None:
    small = _claim_steps(tmp_path, clock, 1000)
    large = _claim_steps(tmp_path, clock, 2000)
    assert small > 0
    # Linear work doubles (with an index's log factor, a little more); per-row work against
    # every leased item would quadruple.
    assert large / small < 3, (small, large)
