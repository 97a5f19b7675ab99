"""What ``salesync worker`` prints while it runs: a line each time the queue moves."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine, select

from salesync.runtime import Runtime
from salesync.settings import Settings
from salesync.store import outbox
from salesync.store.crypto import SecretBox
from salesync.store.db import session_factory, unit_of_work
from salesync.store.tables import OutboxItem
from salesync.worker_progress import report_progress
from tests.fixtures_sandbox import add_user
from tests.support import FakeClock


def _wait_for_line(lines: list[str], wanted: str) -> None:
    deadline = time.monotonic() + 20
    while wanted not in lines:
        assert time.monotonic() < deadline, f"{wanted!r} never printed; got {lines}"
        time.sleep(0.02)


def test_progress_lines_follow_the_queue(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    runtime = Runtime(settings, engine, session_factory(engine), SecretBox(b"k" * 40), clock)
    rep = add_user(runtime, "rep@example.com")
    lines: list[str] = []
    stop = threading.Event()
    reporter = threading.Thread(target=report_progress, args=(runtime, stop, lines.append, 0.02))
    reporter.start()
    try:
        with unit_of_work(runtime.sessions) as session:
            for subject_id in (1, 2):
                outbox.enqueue(
                    session,
                    team_id=rep.team_id,
                    user_id=rep.id,
                    kind="log_email",
                    subject_type="email",
                    subject_id=subject_id,
                    now=clock.now(),
                )
        _wait_for_line(lines, "0 sent to Salesforce, 0 failed (see Diagnostics), 2 waiting")
        with unit_of_work(runtime.sessions) as session:
            first, second = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
            outbox.mark_done(first, now=clock.now())
            outbox.mark_failed(second, now=clock.now(), code="X", message="refused")
        _wait_for_line(lines, "1 sent to Salesforce, 1 failed (see Diagnostics), 0 waiting")
    finally:
        stop.set()
        reporter.join(timeout=5)
    assert len(lines) == 2  # nothing printed while the queue stood still
