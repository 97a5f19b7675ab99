"""Settling a push batch takes a fixed number of SQL statements, whatever its size.

Mirrors the activity-logging check: statements are counted with an engine event listener
(observing, not patching). Pushing 5 new tasks and pushing 50 must cost the same
statements; editing 5 and editing 50 must cost the same statements on the queue and
Diagnostics (the settle). The merge before an update (the Tasks read back, compared with
their snapshots) still reads and writes per Task: it is shared with the poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from salesync.store.tables import User
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


@contextmanager
def counted(world: World) -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(" ".join(str(args[2]).split()))

    event.listen(world.runtime.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(world.runtime.engine, "before_cursor_execute", listener)


def _kinds(statements: list[str]) -> list[str]:
    return sorted(statement.split(None, 1)[0].upper() for statement in statements)


def _settling(statements: list[str]) -> list[str]:
    """The statements that read or write the queue items and Diagnostics entries."""
    tables = (" outbox ", " diagnostics ")
    return _kinds([s for s in statements if any(table in f"{s} " for table in tables)])


def _push_new(world: World, rep: User, count: int) -> tuple[list[int], list[str]]:
    ids = [world.create(rep, f"Call #{number}").id for number in range(count)]
    with counted(world) as statements:
        world.drain()
    return ids, statements


def _push_edits(world: World, rep: User, ids: list[int]) -> list[str]:
    world.advance(minutes=1)
    for task_id in ids:
        world.update(rep, task_id, details="ask about budget")
    with counted(world) as statements:
        world.drain()
    return statements


def test_pushing_5_or_50_tasks_costs_the_same_statements(world: World) -> None:
    rep = world.rep("ana@example.com", "ana")
    # The first push of the connection discovers the org: not counted.
    world.create(rep, "Warm-up")
    world.drain()

    small_ids, small_creates = _push_new(world, rep, 5)
    large_ids, large_creates = _push_new(world, rep, 50)
    assert _kinds(large_creates) == _kinds(small_creates)

    small_edits = _push_edits(world, rep, small_ids)
    large_edits = _push_edits(world, rep, large_ids)
    assert _settling(large_edits) == _settling(small_edits)
    assert _settling(large_edits)  # the settle did run

    for task_id in [*small_ids, *large_ids]:
        link = world.link(task_id)
        assert link is not None
        assert world.sf_task(link.sf_id)["Description"] == "ask about budget"
