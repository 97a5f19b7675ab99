"""A worker process stopped with SIGTERM finishes its batch and gives back its leases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from salesync.store import migrate, outbox
from salesync.store.db import create_db_engine, session_factory, unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus, Role, Team, User
from tests.support import FakeClock

PROGRAM = Path(__file__).with_name("worker_stop_program.py")


def _queue_three(url: str) -> None:
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    now = FakeClock().now()
    with unit_of_work(session_factory(engine)) as session:
        team = Team(name="t", created_at=now)
        session.add(team)
        session.flush()
        user = User(
            team_id=team.id,
            email="r@example.com",
            name="r",
            role=Role.REP,
            password_hash="x",
            created_at=now,
        )
        session.add(user)
        session.flush()
        for number in range(3):
            outbox.enqueue(
                session,
                team_id=team.id,
                user_id=user.id,
                kind="log_email",
                subject_type="email",
                subject_id=number + 1,
                now=now,
            )
    engine.dispose()


def test_sigterm_releases_the_leases_of_the_batch_in_hand(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    _queue_three(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESYNC_")}
    process = subprocess.Popen(
        [sys.executable, str(PROGRAM), url, str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "holding"
        engine = create_db_engine(url)
        with session_factory(engine)() as session:
            leased = session.scalars(select(OutboxItem.lease_owner)).all()
        assert sorted(leased, key=str) == [None, "stopping-worker", "stopping-worker"]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.strip() == "stopped"
    with session_factory(engine)() as session:
        items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        states = [(i.status, i.lease_owner, i.attempts) for i in items]
    engine.dispose()
    assert states == [
        (OutboxStatus.DONE, None, 0),
        (OutboxStatus.PENDING, None, 0),  # back in the queue, no attempt counted
        (OutboxStatus.PENDING, None, 0),
    ]
