"""What every benchmark sets up: a fresh salesync database and runtime beside a sandbox org."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from salesync.clock import Clock
from salesync.runtime import Runtime
from salesync.settings import Settings
from salesync.store import migrate
from salesync.store.crypto import SecretBox
from salesync.store.db import create_db_engine, session_factory


@contextmanager
def bench_runtime(folder: str | Path, salesforce_url: str, clock: Clock) -> Iterator[Runtime]:
    """A migrated SQLite salesync in ``folder`` whose Salesforce is ``salesforce_url``."""
    engine = create_db_engine(f"sqlite:///{Path(folder) / 'salesync.db'}")
    migrate.upgrade(engine)
    settings = Settings(data_dir=Path(folder), salesforce_login_url=salesforce_url)  # type: ignore[arg-type]
    runtime = Runtime(settings, engine, session_factory(engine), SecretBox(b"b" * 40), clock)
    try:
        yield runtime
    finally:
        engine.dispose()
