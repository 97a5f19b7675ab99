"""Command Center: a rep's open tasks due today and tomorrow in the rep's own time zone
(TASK-7, TASK-14, CC-3); everything else still syncs in the background."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.domain.command_center import DueFilter
from salesync.services import tasks as task_service
from salesync.store.tables import User
from tests.integration.tasks.test_tasks_support import World, make_world

#: 11:00 UTC on Monday 2 March: 01:00 on the 2nd in Honolulu, midnight on the 3rd in Tonga.
INSTANT = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
HONOLULU = "Pacific/Honolulu"  # UTC-10
TONGA = "Pacific/Tongatapu"  # UTC+13


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    for built in make_world(engine, tmp_path):
        built.org.clock.set(INSTANT)
        yield built


def _days(world: World, user: User, due_filter: DueFilter) -> list[int]:
    return [
        task.due_date.day  # type: ignore[union-attr]
        for task in task_service.command_center(world.runtime, user, due_filter)
    ]


def _with_a_task_due_every_day(world: World, user: User) -> None:
    for offset in range(10):
        due = date(2026, 3, 1) + timedelta(days=offset)
        world.create(user, f"Due {due.isoformat()}", due_date=due.isoformat())


def test_reps_ten_hours_behind_and_thirteen_ahead_see_their_own_today(world: World) -> None:
    west = world.user("west@example.com", tz=HONOLULU)
    east = world.user("east@example.com", tz=TONGA)
    _with_a_task_due_every_day(world, west)
    _with_a_task_due_every_day(world, east)
    assert _days(world, west, DueFilter.TODAY) == [2]
    assert _days(world, east, DueFilter.TODAY) == [3]
    assert _days(world, west, DueFilter.TOMORROW) == [3]
    assert _days(world, east, DueFilter.TOMORROW) == [4]
    assert _days(world, west, DueFilter.TODAY_AND_TOMORROW) == [2, 3]
    assert _days(world, east, DueFilter.TODAY_AND_TOMORROW) == [3, 4]
    assert _days(world, west, DueFilter.NEXT_7_DAYS) == [2, 3, 4, 5, 6, 7, 8]
    assert _days(world, east, DueFilter.NEXT_7_DAYS) == [3, 4, 5, 6, 7, 8, 9]


def test_the_day_turns_at_the_rep_s_midnight_not_at_utc_midnight(world: World) -> None:
    west = world.user("west@example.com", tz=HONOLULU)
    _with_a_task_due_every_day(world, west)
    world.org.clock.set(datetime(2026, 3, 3, 9, 59, tzinfo=UTC))  # 23:59 on the 2nd there
    assert _days(world, west, DueFilter.TODAY) == [2]
    world.advance(minutes=1)
    assert _days(world, west, DueFilter.TODAY) == [3]


def test_only_the_rep_s_own_open_tasks_with_a_due_date_show(world: World) -> None:
    ana = world.user("ana@example.com")
    ben = world.user("ben@example.com")
    shown = world.create(ana, "Shown", due_date="2026-03-02")
    done = world.create(ana, "Done", due_date="2026-03-02")
    task_service.complete_task(world.runtime, ana, done.id)
    gone = world.create(ana, "Deleted", due_date="2026-03-02")
    task_service.delete_task(world.runtime, ana, gone.id)
    world.create(ana, "Someday")
    world.create(ben, "Ben's", due_date="2026-03-02")
    world.create(ben, "For Ana from Ben", due_date="2026-03-03", assignee_id=ana.id)
    names = [task.name for task in task_service.command_center(world.runtime, ana)]
    assert names == [shown.name, "For Ana from Ben"]


def test_synced_tasks_outside_today_and_tomorrow_are_kept_but_not_shown(world: World) -> None:
    rep = world.rep("ana@example.com", "ana", tz=TONGA)
    world.advance(minutes=1)
    world.sf_create("ana", Subject="Tomorrow in Tonga", ActivityDate="2026-03-04")
    world.sf_create("ana", Subject="Next week", ActivityDate="2026-03-09")
    world.poll()
    assert sorted(task.name for task in world.tasks_of(rep)) == ["Next week", "Tomorrow in Tonga"]
    shown = task_service.command_center(world.runtime, rep, DueFilter.TODAY_AND_TOMORROW)
    assert [task.name for task in shown] == ["Tomorrow in Tonga"]
