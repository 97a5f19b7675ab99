"""The org's API usage and our own call counts: upserts that many workers may run at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from salesync.store import connections
from salesync.store.db import unit_of_work
from tests.support import FakeClock

ORG = "00D000000000001AAA"


def test_call_counts_add_up_when_written_from_many_threads_at_once(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    def count(_: int) -> None:
        with unit_of_work(sessions) as session:
            connections.count_calls(session, ORG, 1, now=clock.now())

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(count, range(40)))
    with sessions() as session:
        assert connections.calls_in_last_day(session, ORG, now=clock.now()) == 40


def test_usage_keeps_the_latest_report_only(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    later = clock.now() + timedelta(seconds=5)
    with unit_of_work(sessions) as session:
        connections.record_usage(session, ORG, 10, 15000, now=later)
    with unit_of_work(sessions) as session:
        connections.record_usage(session, ORG, 7, 15000, now=clock.now())  # older: ignored
    with sessions() as session:
        row = connections.usage(session, ORG)
        assert row is not None and (row.used, row.observed_at) == (10, later)
    with unit_of_work(sessions) as session:
        connections.record_usage(session, ORG, 12, 15000, now=later + timedelta(seconds=1))
    with sessions() as session:
        row = connections.usage(session, ORG)
        assert row is not None and row.used == 12
