"""Outbox claims, leases and settling on every configured database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from salesync.services import accounts
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus, User
from tests.support import FakeClock

LEASE = timedelta(seconds=60)


@pytest.fixture
def user(sessions: sessionmaker[Session], clock: FakeClock) -> User:
    with unit_of_work(sessions) as session:
        new = accounts.NewUser(email="rep@example.com", name="Rep", password="long enough")
        return accounts.add_user(session, new, now=clock.now())


def _enqueue(sessions: sessionmaker[Session], user: User, clock: FakeClock, n: int) -> list[int]:
    with unit_of_work(sessions) as session:
        items = [
            outbox.enqueue(
                session,
                team_id=user.team_id,
                user_id=user.id,
                kind="log_email",
                subject_type="email",
                subject_id=i,
                now=clock.now(),
            )
            for i in range(n)
        ]
        return [item.id for item in items]


def test_claim_leases_ready_items_once(
    sessions: sessionmaker[Session], user: User, clock: FakeClock
) -> None:
    ids = _enqueue(sessions, user, clock, 5)
    with unit_of_work(sessions) as session:
        first = outbox.claim(session, worker_id="w1", now=clock.now(), lease=LEASE, limit=3)
        assert [i.id for i in first] == ids[:3]
        assert {i.status for i in first} == {OutboxStatus.IN_FLIGHT}
    with unit_of_work(sessions) as session:
        second = outbox.claim(session, worker_id="w2", now=clock.now(), lease=LEASE, limit=10)
        assert [i.id for i in second] == ids[3:]
    with unit_of_work(sessions) as session:
        assert outbox.claim(session, worker_id="w3", now=clock.now(), lease=LEASE, limit=10) == []


def test_expired_lease_of_a_dead_worker_is_taken_over(
    sessions: sessionmaker[Session], user: User, clock: FakeClock
) -> None:
    _enqueue(sessions, user, clock, 1)
    with unit_of_work(sessions) as session:
        outbox.claim(session, worker_id="dead", now=clock.now(), lease=LEASE, limit=1)
    clock.advance(seconds=30)
    with unit_of_work(sessions) as session:
        assert outbox.claim(session, worker_id="w2", now=clock.now(), lease=LEASE, limit=1) == []
    clock.advance(seconds=31)
    with unit_of_work(sessions) as session:
        taken = outbox.claim(session, worker_id="w2", now=clock.now(), lease=LEASE, limit=1)
        assert [i.lease_owner for i in taken] == ["w2"]


def test_reschedule_fail_retry_and_done(
    sessions: sessionmaker[Session], user: User, clock: FakeClock
) -> None:
    [item_id] = _enqueue(sessions, user, clock, 1)
    with unit_of_work(sessions) as session:
        [item] = outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=1)
        outbox.reschedule(
            item, now=clock.now(), at=clock.now() + timedelta(seconds=10), code="X", message="m"
        )
    with unit_of_work(sessions) as session:
        assert outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=1) == []
    clock.advance(seconds=10)
    with unit_of_work(sessions) as session:
        [item] = outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=1)
        assert item.attempts == 1 and item.last_error_code == "X"
        outbox.mark_failed(item, now=clock.now(), code="INVALID_FIELD", message="bad field")
    with unit_of_work(sessions) as session:
        assert outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=1) == []
        assert outbox.backlog(session, user.team_id) == {"failed": 1}
        assert outbox.retry_failed(session, [item_id], now=clock.now()) == 1
    with unit_of_work(sessions) as session:
        [item] = outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=1)
        outbox.mark_done(item, now=clock.now())
    with sessions() as session:
        assert outbox.backlog(session, user.team_id) == {}


def test_pause_and_resume_a_user_keeps_every_item(
    sessions: sessionmaker[Session], user: User, clock: FakeClock
) -> None:
    _enqueue(sessions, user, clock, 4)
    with unit_of_work(sessions) as session:
        assert outbox.pause_user(session, user.id, now=clock.now(), reason="reconnect") == 4
    with unit_of_work(sessions) as session:
        assert outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=9) == []
        assert outbox.backlog(session, user.team_id) == {"paused": 4}
        assert outbox.resume_user(session, user.id, now=clock.now()) == 4
    with unit_of_work(sessions) as session:
        assert len(outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=9)) == 4


def test_two_workers_never_claim_the_same_item(
    engine: Engine, sessions: sessionmaker[Session], user: User, clock: FakeClock
) -> None:
    """PostgreSQL: the second claim skips rows the first still holds (SKIP LOCKED).
    SQLite serialises writers, so the second claim runs after the first commits."""
    _enqueue(sessions, user, clock, 6)
    concurrent = engine.dialect.name == "postgresql"
    first = sessions()
    second = sessions()
    try:
        a = outbox.claim(first, worker_id="a", now=clock.now(), lease=LEASE, limit=4)
        if not concurrent:
            first.commit()
        b = outbox.claim(second, worker_id="b", now=clock.now(), lease=LEASE, limit=4)
        assert len(a) == 4 and len(b) == 2
        assert not {i.id for i in a} & {i.id for i in b}
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    with sessions() as session:
        owners = session.scalars(select(OutboxItem.lease_owner).order_by(OutboxItem.id)).all()
    assert owners == ["a"] * 4 + ["b"] * 2


def test_a_plain_claim_leases_like_a_mapped_one_and_carries_what_handlers_read(
    sessions: sessionmaker[Session], user: User, clock: FakeClock
) -> None:
    ids = _enqueue(sessions, user, clock, 4)
    with unit_of_work(sessions) as session:
        [first] = outbox.claim(session, worker_id="w", now=clock.now(), lease=LEASE, limit=1)
        first.payload = {"recipient_id": 7, "outcome_unknown": True}
        outbox.reschedule(first, now=clock.now(), at=clock.now(), code="X", message="m")
    clock.advance(seconds=1)

    with unit_of_work(sessions) as session:
        plain = outbox.claim_plain(session, worker_id="w2", now=clock.now(), lease=LEASE, limit=3)
    assert [type(item) for item in plain] == [outbox.ClaimedItem] * 3
    assert [item.id for item in plain] == ids[:3]
    with sessions() as session:
        for item in plain:
            row = session.get_one(OutboxItem, item.id)
            assert (row.status, row.lease_owner) == (OutboxStatus.IN_FLIGHT, "w2")
            assert row.lease_expires_at == clock.now() + LEASE
            assert item == outbox.ClaimedItem(
                row.id,
                row.team_id,
                row.user_id,
                row.kind,
                row.subject_type,
                row.subject_id,
                row.payload,
                row.attempts,
                row.first_failed_at,
            )
    retried = plain[0]
    assert retried.payload == {"recipient_id": 7, "outcome_unknown": True}
    assert retried.attempts == 1 and retried.first_failed_at is not None
    with unit_of_work(sessions) as session:
        rest = outbox.claim_plain(session, worker_id="w3", now=clock.now(), lease=LEASE, limit=9)
        assert [item.id for item in rest] == ids[3:]
        assert (
            outbox.claim_plain(session, worker_id="w4", now=clock.now(), lease=LEASE, limit=9) == []
        )
