"""DESIGN §5's idle-poll bar, asserted: an org with a team sync connection costs 1 API call
per idle poll cycle, however many reps sync their tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.integration.tasks.test_tasks_support import World, make_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    yield from make_world(engine, tmp_path)


@pytest.mark.parametrize("rep_count", [1, 12])
def test_an_idle_poll_of_an_org_with_a_team_connection_costs_one_call(
    world: World, rep_count: int
) -> None:
    reps = [world.rep(f"rep{n}@example.com", f"rep{n}") for n in range(rep_count)]
    world.connect(reps[0], "integration", team_sync=True)
    world.poll()  # the first cycle after enabling
    world.advance(minutes=1)
    before = world.api_calls()
    report = world.poll()
    assert (report.orgs_polled, report.queries, world.api_calls() - before) == (1, 1, 1)
    assert report.outcomes == {}
