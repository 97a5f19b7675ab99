"""Command Center due-date filters in the rep's own time zone (TASK-14, CC-3)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from salesync.domain.dates import local_date


class DueFilter(enum.StrEnum):
    """The task list filters (TASK-14)."""

    TODAY = "today"
    TOMORROW = "tomorrow"
    TODAY_AND_TOMORROW = "today_and_tomorrow"
    NEXT_7_DAYS = "next_7_days"
    #: The rep's calendar week, which starts on Monday or Sunday depending on their locale.
    THIS_WEEK = "this_week"


@dataclasses.dataclass(frozen=True)
class DateRange:
    """Due dates from ``first`` to ``last``, both included."""

    first: dt.date
    last: dt.date

    def __contains__(self, day: object) -> bool:
        # A datetime is a date subclass but does not compare with dates.
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            return False
        return self.first <= day <= self.last


# (first, last) day offsets from the rep's today; "next 7 days" is today and the 6 after it.
_OFFSETS = {
    DueFilter.TODAY: (0, 0),
    DueFilter.TOMORROW: (1, 1),
    DueFilter.TODAY_AND_TOMORROW: (0, 1),
    DueFilter.NEXT_7_DAYS: (0, 6),
}


def week_of(day: dt.date, first_weekday: int) -> DateRange:
    """The calendar week holding ``day``, starting on ``first_weekday`` (0 Monday … 6 Sunday)."""
    start = day - dt.timedelta(days=(day.weekday() - first_weekday) % 7)
    return DateRange(start, start + dt.timedelta(days=6))


def date_range(
    due_filter: DueFilter, time_zone: str, now: dt.datetime, *, first_weekday: int = 0
) -> DateRange:
    """The due dates ``due_filter`` shows to a rep in ``time_zone`` at the instant ``now``.

    Due dates are plain dates (API-FACTS: ActivityDate), so "today" is the rep's calendar
    day, not the server's or UTC's. ``first_weekday`` (0 Monday … 6 Sunday, as the reader's
    locale has it) only matters to "this week".
    """
    today = local_date(now, time_zone)
    if due_filter is DueFilter.THIS_WEEK:
        return week_of(today, first_weekday)
    first, last = _OFFSETS[due_filter]
    return DateRange(today + dt.timedelta(days=first), today + dt.timedelta(days=last))


def due_in(
    due_filter: DueFilter,
    due_date: dt.date | None,
    time_zone: str,
    now: dt.datetime,
    *,
    first_weekday: int = 0,
) -> bool:
    """Tell whether a task due on ``due_date`` shows under ``due_filter`` (no date: never)."""
    days = date_range(due_filter, time_zone, now, first_weekday=first_weekday)
    return due_date is not None and due_date in days
