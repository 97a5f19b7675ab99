"""Command Center due-date filters in the rep's time zone (TASK-14, CC-3)."""

from __future__ import annotations

import datetime as dt

import pytest

from salesync.domain.command_center import DateRange, DueFilter, date_range, due_in, week_of

# One instant: 09:30 UTC on 10 March is 23:30 on 9 March in Honolulu (UTC-10)
# and 23:30 on 10 March in Kiritimati (UTC+14).
INSTANT = dt.datetime(2024, 3, 10, 9, 30, tzinfo=dt.UTC)
HONOLULU = "Pacific/Honolulu"
KIRITIMATI = "Pacific/Kiritimati"
TONGATAPU = "Pacific/Tongatapu"


def d(day: int) -> dt.date:
    return dt.date(2024, 3, day)


@pytest.mark.parametrize(
    ("time_zone", "due_filter", "expected"),
    [
        (HONOLULU, DueFilter.TODAY, DateRange(d(9), d(9))),
        (HONOLULU, DueFilter.TOMORROW, DateRange(d(10), d(10))),
        (HONOLULU, DueFilter.TODAY_AND_TOMORROW, DateRange(d(9), d(10))),
        (HONOLULU, DueFilter.NEXT_7_DAYS, DateRange(d(9), d(15))),
        (KIRITIMATI, DueFilter.TODAY, DateRange(d(10), d(10))),
        (KIRITIMATI, DueFilter.TOMORROW, DateRange(d(11), d(11))),
        (KIRITIMATI, DueFilter.TODAY_AND_TOMORROW, DateRange(d(10), d(11))),
        (KIRITIMATI, DueFilter.NEXT_7_DAYS, DateRange(d(10), d(16))),
        (TONGATAPU, DueFilter.TODAY, DateRange(d(10), d(10))),
        ("UTC", DueFilter.TODAY, DateRange(d(10), d(10))),
    ],
)
def test_date_ranges(time_zone: str, due_filter: DueFilter, expected: DateRange) -> None:
    assert date_range(due_filter, time_zone, INSTANT) == expected


@pytest.mark.parametrize(
    ("due", "honolulu", "kiritimati"),
    [
        (d(9), True, False),
        (d(10), False, True),
        (d(11), False, False),
    ],
)
def test_same_task_same_instant_differs_by_zone(
    due: dt.date, honolulu: bool, kiritimati: bool
) -> None:
    assert due_in(DueFilter.TODAY, due, HONOLULU, INSTANT) is honolulu
    assert due_in(DueFilter.TODAY, due, KIRITIMATI, INSTANT) is kiritimati


def test_tomorrow_in_honolulu_is_today_in_kiritimati() -> None:
    assert due_in(DueFilter.TOMORROW, d(10), HONOLULU, INSTANT)
    assert due_in(DueFilter.TODAY, d(10), KIRITIMATI, INSTANT)


@pytest.mark.parametrize(
    ("due", "shown"),
    [(d(8), False), (d(9), True), (d(15), True), (d(16), False), (None, False)],
)
def test_next_7_days_includes_today_and_six_more(due: dt.date | None, shown: bool) -> None:
    assert due_in(DueFilter.NEXT_7_DAYS, due, HONOLULU, INSTANT) is shown


def test_day_boundary_follows_the_reps_clock() -> None:
    just_before_midnight = dt.datetime(
        2024, 3, 10, 9, 59, 59, tzinfo=dt.UTC
    )  # 23:59:59 in Honolulu
    at_midnight = dt.datetime(2024, 3, 10, 10, 0, tzinfo=dt.UTC)
    assert date_range(DueFilter.TODAY, HONOLULU, just_before_midnight).first == d(9)
    assert date_range(DueFilter.TODAY, HONOLULU, at_midnight).first == d(10)


def test_unknown_zone_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError):
        date_range(DueFilter.TODAY, "Atlantis/Capital", INSTANT)
    with pytest.raises(ValueError):
        date_range(DueFilter.TODAY, HONOLULU, dt.datetime(2024, 3, 10, 9, 30))


def test_date_range_holds_only_dates() -> None:
    assert "2024-03-09" not in DateRange(d(9), d(9))
    assert dt.datetime(2024, 3, 9, 12, tzinfo=dt.UTC) not in DateRange(d(9), d(9))


# -- this week: where it starts is the reader's locale's choice --------------------------------

_THURSDAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("first_weekday", "first", "last"),
    [
        (0, dt.date(2026, 11, 30), dt.date(2026, 12, 6)),  # Monday (Germany)
        (6, dt.date(2026, 11, 29), dt.date(2026, 12, 5)),  # Sunday (US, Japan, Taiwan)
        (3, dt.date(2026, 12, 3), dt.date(2026, 12, 9)),  # the day itself starts the week
        (4, dt.date(2026, 11, 27), dt.date(2026, 12, 3)),  # the day itself ends it
    ],
)
def test_a_week_starts_on_the_given_weekday_and_holds_seven_days(
    first_weekday: int, first: dt.date, last: dt.date
) -> None:
    week = week_of(_THURSDAY, first_weekday)
    assert (week.first, week.last) == (first, last)
    assert week.first.weekday() == first_weekday
    assert _THURSDAY in week


def test_this_week_is_the_reps_own_calendar_week() -> None:
    # 02:00 UTC on Monday is still Sunday evening in Los Angeles: a Monday-start week there is
    # the one before.
    now = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
    in_la = date_range(DueFilter.THIS_WEEK, "America/Los_Angeles", now, first_weekday=0)
    in_berlin = date_range(DueFilter.THIS_WEEK, "Europe/Berlin", now, first_weekday=0)
    assert in_la.first == dt.date(2026, 11, 23)
    assert in_berlin.first == dt.date(2026, 11, 30)
    sunday_start = date_range(DueFilter.THIS_WEEK, "America/Los_Angeles", now, first_weekday=6)
    assert sunday_start.first == dt.date(2026, 11, 29)


def test_the_week_start_only_moves_this_week() -> None:
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    for due_filter in DueFilter:
        if due_filter is DueFilter.THIS_WEEK:
            continue
        monday = date_range(due_filter, "UTC", now, first_weekday=0)
        sunday = date_range(due_filter, "UTC", now, first_weekday=6)
        assert monday == sunday
