"""Engine and sessions: SQLite (embedded default) or PostgreSQL, one code path for both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from salesync.errors import DatabaseUnavailable

#: PostgreSQL connections a process keeps open between uses. A worker logs up to 8 reps at
#: once (each holding a connection while it saves), reads up to 3 claims' batches and makes
#: its own claim: a pool smaller than that closes the extra connections as they come back and
#: opens new ones on the next batch, and each new connection costs a server process start on
#: PostgreSQL.
POSTGRES_POOL_SIZE = 12


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url``; SQLite files get their folder, WAL and foreign keys."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    sqlite_file: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            sqlite_file = Path(parsed.database)
        # Worker threads share the engine; SQLite's own locking serialises writers.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = POSTGRES_POOL_SIZE
        kwargs["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if sqlite_file is not None:
        private_file = sqlite_file

        # Made on the first connection, not here: a command that only checks whether the
        # database exists must not create it.
        @event.listens_for(engine, "do_connect")
        def _create_private_file(*_: Any) -> None:
            create_private_file(private_file)

    return engine


def create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600), in a folder made 0700.

    The database holds password hashes and encrypted tokens: nobody else on the machine needs
    to read it. SQLite gives its -wal and -shm files the database file's permissions. An
    existing folder or file keeps the permissions its owner chose.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # another process created it first


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def check_connection(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` with one readable line if the database is unreachable."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        safe_url = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"cannot reach the database {safe_url}: {first_line}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commits when the block ends normally, rolls back on any error.

    Services own this boundary; repositories only ever receive the session.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
