"""First imports and catch-ups past the Bulk threshold read through Bulk API 2.0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.domain.reminder_mapping import ReminderStatus
from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    for made in make_world(engine, tmp_path):
        made.runtime.settings = made.runtime.settings.model_copy(update={"bulk_above_rows": 5})
        yield made


def test_a_first_import_past_the_threshold_goes_through_a_bulk_query_job(world: World) -> None:
    world.sf_user("ana")
    for index in range(12):
        status = "Completed" if index % 2 else "Not Started"
        world.sf_create("ana", Subject=f"Reminder {index:02d}", Status=status)
    world.sf_create("ana", Subject="Logged call", TaskSubtype="Call")
    calls = world.api_calls()
    rep = world.rep("ana@example.com", "ana")
    tasks = world.tasks_of(rep)
    assert [t.name for t in tasks] == [f"Reminder {i:02d}" for i in range(12)]
    assert sum(t.status is ReminderStatus.COMPLETE for t in tasks) == 6
    assert world.org.bulk.created == 1
    # the sizing queryAll page, create, one poll, one results page, delete
    assert world.api_calls() - calls == 5


def test_below_the_threshold_the_import_pages_through_rest(world: World) -> None:
    world.sf_user("ana")
    for index in range(5):
        world.sf_create("ana", Subject=f"Reminder {index}")
    rep = world.rep("ana@example.com", "ana")
    assert len(world.tasks_of(rep)) == 5
    assert world.org.bulk.created == 0
