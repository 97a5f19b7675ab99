"""First-import window, pushable tasks, delete windows and poll cursors (TASK-6..8)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.sync_windows import (
    DEFAULT_OVERLAP,
    ReplicationWindow,
    advance_cursor,
    first_import_since,
    in_first_import_window,
    may_push_new_task,
    needs_full_reconcile,
    query_from,
    reenable_delete_start,
    replication_window,
)

NOW = dt.datetime(2024, 3, 10, 15, 30, 45, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def test_first_import_starts_24_hours_before_now() -> None:
    assert first_import_since(NOW) == dt.datetime(2024, 3, 9, 15, 30, 45, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("created", "modified", "imported"),
    [
        (NOW - 2 * HOUR, NOW - 2 * HOUR, True),
        (NOW - 30 * HOUR, NOW - 23 * HOUR, True),  # old task edited yesterday
        (NOW - 30 * HOUR, NOW - 25 * HOUR, False),
        (NOW - 24 * HOUR, NOW - 24 * HOUR, True),  # boundary is included
        (
            NOW - 24 * HOUR - dt.timedelta(seconds=1),
            NOW - 24 * HOUR - dt.timedelta(seconds=1),
            False,
        ),
    ],
)
def test_in_first_import_window(
    created: dt.datetime, modified: dt.datetime, imported: bool
) -> None:
    assert in_first_import_window(created, modified, NOW) is imported


def test_window_compares_instants_not_wall_clocks() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    modified = (NOW - 23 * HOUR).astimezone(tokyo)
    assert in_first_import_window(modified, modified, NOW)


@pytest.mark.parametrize(
    ("created", "pushable"),
    [(NOW - HOUR, False), (NOW, True), (NOW + HOUR, True)],
)
def test_only_tasks_created_after_enabling_are_pushed(created: dt.datetime, pushable: bool) -> None:
    assert may_push_new_task(created, NOW) is pushable


def test_reenable_applies_deletes_of_the_last_15_days() -> None:
    assert reenable_delete_start(NOW) == NOW - dt.timedelta(days=15)


@pytest.mark.parametrize(
    ("cursor", "earliest", "needed"),
    [
        (NOW - 16 * 24 * HOUR, NOW - 15 * 24 * HOUR, True),
        (NOW - 2 * HOUR, NOW - 15 * 24 * HOUR, False),
        (NOW - 3 * HOUR, NOW - 2 * HOUR, True),  # recycle bin emptied early
        (NOW - 2 * HOUR, NOW - 2 * HOUR, False),
        (None, NOW - 15 * 24 * HOUR, True),
    ],
)
def test_needs_full_reconcile(
    cursor: dt.datetime | None, earliest: dt.datetime, needed: bool
) -> None:
    assert needs_full_reconcile(cursor, earliest) is needed


def test_query_from_goes_back_by_the_overlap() -> None:
    assert query_from(NOW) == NOW - DEFAULT_OVERLAP
    assert query_from(NOW, dt.timedelta(minutes=5)) == NOW - dt.timedelta(minutes=5)
    assert DEFAULT_OVERLAP == dt.timedelta(minutes=2)


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        ([], NOW - HOUR),
        (
            [NOW - 50 * dt.timedelta(minutes=1), NOW - 40 * dt.timedelta(minutes=1)],
            NOW - 40 * dt.timedelta(minutes=1),
        ),
        ([NOW + HOUR], NOW - dt.timedelta(minutes=1)),  # never past the run's start
        ([NOW - 2 * HOUR], NOW - HOUR),  # never backwards
    ],
)
def test_advance_cursor(seen: list[dt.datetime], expected: dt.datetime) -> None:
    run_started_at = NOW - dt.timedelta(minutes=1)
    assert advance_cursor(NOW - HOUR, seen, run_started_at) == expected


def test_replication_window_uses_whole_utc_minutes() -> None:
    window = replication_window(NOW - HOUR, NOW)
    assert window == ReplicationWindow(
        dt.datetime(2024, 3, 10, 14, 28, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 10, 15, 30, tzinfo=dt.UTC),
    )


def test_replication_window_too_short_is_none() -> None:
    assert replication_window(NOW, NOW, overlap=dt.timedelta(0)) is None
    assert replication_window(NOW, NOW) is not None  # the overlap alone makes a window


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        first_import_since(dt.datetime(2024, 3, 10))
    with pytest.raises(ValueError):
        advance_cursor(NOW, [dt.datetime(2024, 3, 10)], NOW)


instants = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)
)


@given(instants, st.lists(instants, max_size=20), instants)
def test_cursor_never_moves_backwards_or_past_the_run_start(
    cursor: dt.datetime, seen: list[dt.datetime], run_started_at: dt.datetime
) -> None:
    advanced = advance_cursor(cursor, seen, run_started_at)
    assert advanced >= cursor
    assert advanced == cursor or advanced <= run_started_at
    assert advanced == cursor or advanced in seen or advanced == run_started_at
