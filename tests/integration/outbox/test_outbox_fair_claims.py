"""Claims shared fairly between workers, and the items of one subject kept in order."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from salesync.services import accounts
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from salesync.sync.activity_logging import ActivityLoggingHandler
from tests.support import FakeClock

LEASE = timedelta(seconds=60)


def _users(sessions: sessionmaker[Session], clock: FakeClock, count: int) -> list[User]:
    with unit_of_work(sessions) as session:
        first = accounts.add_user(
            session, accounts.NewUser("rep0@example.com", "Rep", "long enough"), now=clock.now()
        )
        others = [
            accounts.add_user(
                session,
                accounts.NewUser(f"rep{n}@example.com", "Rep", "long enough"),
                now=clock.now(),
            )
            for n in range(1, count)
        ]
        return [first, *others]


def _enqueue(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    user: User,
    subject_id: int,
    kind: str = "log_email",
) -> int:
    with unit_of_work(sessions) as session:
        item = outbox.enqueue(
            session,
            team_id=user.team_id,
            user_id=user.id,
            kind=kind,
            subject_type="email" if kind == "log_email" else "task",
            subject_id=subject_id,
            now=clock.now(),
        )
        return item.id


def _claim_in(session: Session, clock: FakeClock, worker: str) -> list[int]:
    """The ids a logging worker's claim takes, in ``session``'s transaction."""
    handler = ActivityLoggingHandler  # claims plain items (plain_items)
    items = outbox.claim_plain(
        session,
        worker_id=worker,
        now=clock.now(),
        lease=LEASE,
        limit=handler.max_batch,
        kinds=handler.kinds,
        max_users=handler.max_users,
    )
    return [item.id for item in items]


def _claim(sessions: sessionmaker[Session], clock: FakeClock, worker: str) -> list[int]:
    with unit_of_work(sessions) as session:
        return _claim_in(session, clock, worker)


def test_two_workers_both_get_work_when_fewer_items_than_a_batch_are_ready(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    users = _users(sessions, clock, 12)
    owner: dict[int, int] = {}
    for n in range(10):
        for user in users:
            owner[_enqueue(sessions, clock, user, subject_id=1000 * user.id + n)] = user.id
    assert len(owner) < ActivityLoggingHandler.max_batch

    first = _claim(sessions, clock, "w1")
    second = _claim(sessions, clock, "w2")

    assert first and second
    assert not set(first) & set(second)
    first_reps = {owner[i] for i in first}
    second_reps = {owner[i] for i in second}
    assert len(first_reps) == ActivityLoggingHandler.max_users
    assert not first_reps & second_reps
    # A rep's ready items go to one worker together, so one batch logs them all.
    assert len(first) == 10 * len(first_reps)
    assert len(first) + len(second) == len(owner)


def test_a_later_item_of_a_subject_waits_while_an_earlier_one_is_in_flight(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    (user,) = _users(sessions, clock, 1)
    first = _enqueue(sessions, clock, user, subject_id=7, kind="push_task")
    second = _enqueue(sessions, clock, user, subject_id=7, kind="push_task")
    other = _enqueue(sessions, clock, user, subject_id=8, kind="push_task")

    def claim(worker: str, limit: int) -> list[int]:
        with unit_of_work(sessions) as session:
            items = outbox.claim(
                session, worker_id=worker, now=clock.now(), lease=LEASE, limit=limit
            )
            return [item.id for item in items]

    assert claim("w1", 1) == [first]
    assert claim("w2", 10) == [other]  # not the second change of task 7
    with unit_of_work(sessions) as session:
        outbox.mark_done_many(session, [first], now=clock.now())
    assert claim("w3", 10) == [second]


def test_an_abandoned_lease_no_longer_holds_back_the_later_items(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    (user,) = _users(sessions, clock, 1)
    first = _enqueue(sessions, clock, user, subject_id=7, kind="push_task")
    second = _enqueue(sessions, clock, user, subject_id=7, kind="push_task")
    with unit_of_work(sessions) as session:
        outbox.claim(session, worker_id="dead", now=clock.now(), lease=LEASE, limit=1)
    clock.advance(seconds=61)
    with unit_of_work(sessions) as session:
        taken = outbox.claim(session, worker_id="w2", now=clock.now(), lease=LEASE, limit=10)
        # Both, in order: the worker that takes over sends the older change first.
        assert [item.id for item in taken] == [first, second]


def test_capped_claims_take_turns_so_no_rep_is_split_between_workers(
    engine: Engine, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    """PostgreSQL: a second capped claim waits for the first to commit, then takes the next
    reps whole. Without turns it would skip the rows the first still holds locked, and two
    claims scanning at once could each take part of one rep. SQLite serialises writers, so
    there the second claim simply runs after the first."""
    users = _users(sessions, clock, ActivityLoggingHandler.max_users * 2)
    owner: dict[int, int] = {}
    for n in range(3):
        for user in users:
            owner[_enqueue(sessions, clock, user, subject_id=1000 * user.id + n)] = user.id
    handler = ActivityLoggingHandler

    first_session = sessions()
    second: list[int] = []
    try:
        first = _claim_in(first_session, clock, "w1")
        if engine.dialect.name != "postgresql":
            first_session.commit()

        def second_claim() -> None:
            with unit_of_work(sessions) as session:
                second.extend(_claim_in(session, clock, "w2"))

        waiting = threading.Thread(target=second_claim)
        waiting.start()
        if engine.dialect.name == "postgresql":
            waiting.join(timeout=0.5)
            assert waiting.is_alive()  # its turn comes when the first claim commits
            first_session.commit()
        waiting.join(timeout=30)
        assert not waiting.is_alive()
    finally:
        first_session.close()

    first_reps = {owner[i] for i in first}
    second_reps = {owner[i] for i in second}
    assert len(first_reps) == len(second_reps) == handler.max_users
    assert not first_reps & second_reps
    # Every rep's three items went to one worker.
    assert sorted(first + second) == sorted(owner)


def test_a_rep_held_by_one_worker_is_left_to_it_by_the_others(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    """More than a batch ready for one rep: the worker holding the rep's first batch gets its
    next one too; another worker takes the other reps, and the rep once it is free."""
    busy, quiet = _users(sessions, clock, 2)
    backlog = [_enqueue(sessions, clock, busy, subject_id=n) for n in range(3)]
    others = [_enqueue(sessions, clock, quiet, subject_id=100 + n) for n in range(2)]

    def capped(worker: str, limit: int) -> list[int]:
        with unit_of_work(sessions) as session:
            items = outbox.claim_plain(
                session,
                worker_id=worker,
                now=clock.now(),
                lease=LEASE,
                limit=limit,
                kinds=ActivityLoggingHandler.kinds,
                max_users=ActivityLoggingHandler.max_users,
            )
            return [item.id for item in items]

    assert capped("w1", 2) == backlog[:2]  # a batch of 2: the busy rep's first two
    assert capped("w2", 10) == others  # not the busy rep's third: w1 holds the rep
    assert capped("w1", 10) == backlog[2:]  # w1 may run the rep's next batch beside it
    with unit_of_work(sessions) as session:
        outbox.mark_done_many(session, backlog, now=clock.now())
    third = _enqueue(sessions, clock, busy, subject_id=9)
    assert capped("w2", 10) == [third]  # free again: anyone's
