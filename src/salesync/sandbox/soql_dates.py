"""SOQL date and datetime literals: parsing, relative ranges, and the wire format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from salesync.sandbox import soql_errors

#: relative date literals that take no amount (SOQL "Date Formats and Date Literals")
FIXED_RANGES = frozenset(
    {
        "YESTERDAY",
        "TODAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "LAST_YEAR",
        "THIS_YEAR",
        "NEXT_YEAR",
    }
)
#: relative date literals written ``NAME:n``
COUNTED_RANGES = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "LAST_N_WEEKS", "NEXT_N_WEEKS"})


def parse_date(text: str) -> date:
    """Parse an unquoted ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise soql_errors.malformed(f"invalid date: {text}") from None


def parse_datetime(text: str) -> datetime:
    """Parse an unquoted datetime; SOQL requires a zone (``Z``, ``+hh:mm`` or ``+hhmm``)."""
    if not (text.endswith("Z") or "+" in text or text.count("-") > 2):
        raise soql_errors.malformed(f"invalid date time: {text}, a time zone is required")
    head, _, fraction_and_zone = text.partition(".")
    if fraction_and_zone:
        # fromisoformat takes at most 6 fraction digits; Salesforce keeps milliseconds anyway
        digits = len(fraction_and_zone) - len(fraction_and_zone.lstrip("0123456789"))
        text = f"{head}.{fraction_and_zone[:digits][:6]:0<6}{fraction_and_zone[digits:]}"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise soql_errors.malformed(f"invalid date time: {text}") from None


def day_range(name: str, amount: int | None, today: date) -> tuple[date, date]:
    """The days a relative literal covers, as [start, end): weeks start on Sunday (en_US)."""
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    n = amount or 0
    ranges: dict[str, tuple[date, date]] = {
        "YESTERDAY": (today - timedelta(days=1), today),
        "TODAY": (today, today + timedelta(days=1)),
        "TOMORROW": (today + timedelta(days=1), today + timedelta(days=2)),
        "LAST_WEEK": (week_start - timedelta(days=7), week_start),
        "THIS_WEEK": (week_start, week_start + timedelta(days=7)),
        "NEXT_WEEK": (week_start + timedelta(days=7), week_start + timedelta(days=14)),
        "LAST_MONTH": (_add_months(month_start, -1), month_start),
        "THIS_MONTH": (month_start, _add_months(month_start, 1)),
        "NEXT_MONTH": (_add_months(month_start, 1), _add_months(month_start, 2)),
        # LAST_N_DAYS includes today: LAST_N_DAYS:1 is yesterday and today
        "LAST_90_DAYS": (today - timedelta(days=90), today + timedelta(days=1)),
        "LAST_N_DAYS": (today - timedelta(days=n), today + timedelta(days=1)),
        # NEXT_N_DAYS starts tomorrow
        "NEXT_90_DAYS": (today + timedelta(days=1), today + timedelta(days=91)),
        "NEXT_N_DAYS": (today + timedelta(days=1), today + timedelta(days=n + 1)),
        "LAST_N_WEEKS": (week_start - timedelta(weeks=n), week_start),
        "NEXT_N_WEEKS": (week_start + timedelta(weeks=1), week_start + timedelta(weeks=n + 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "THIS_YEAR": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
    }
    return ranges[name]


def instant_range(name: str, amount: int | None, now: datetime) -> tuple[datetime, datetime]:
    """The instants a relative literal covers, as [start, end), with days in UTC."""
    start, end = day_range(name, amount, today_utc(now))
    return _midnight(start), _midnight(end)


def today_utc(now: datetime) -> date:
    return _as_utc(now).date()


def wire_datetime(value: datetime) -> str:
    """Salesforce's datetime wire form, e.g. ``2024-01-31T10:00:00.000+0000``."""
    value = _as_utc(value)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}+0000"
    )


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
