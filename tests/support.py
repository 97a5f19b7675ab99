"""Helpers for tests: database selection and a hand-moved clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, make_url

#: Set by .ci/run (and by developers) to run every database test on PostgreSQL too.
POSTGRES_URL = os.environ.get("SALESYNC_TEST_POSTGRES_URL", "")

DATABASES = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 15, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


def postgres_database_url(name: str) -> str:
    """URL of another database on the test PostgreSQL server (for migration tests)."""
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block, whitespace collapsed (an engine
    event listener: observing, not patching)."""
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)
