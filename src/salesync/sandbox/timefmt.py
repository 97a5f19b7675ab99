"""Salesforce wire formats for dates and datetimes, and lenient parsing of client input."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta, timezone

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def format_datetime(value: datetime) -> str:
    """Format like ``2013-05-20T20:49:32.000+0000`` (API-FACTS §1 system fields)."""
    if value.utcoffset() is None:  # taken as local time, which may change: not remembered
        return _format_utc(value)
    return _format_aware(value)


@functools.lru_cache(maxsize=4096)
def _format_aware(value: datetime) -> str:
    # Equal aware datetimes are the same instant, hence the same text: a record's stamps
    # are formatted once, not for every field and event that carries them.
    return _format_utc(value)


def _format_utc(value: datetime) -> str:
    value = value.astimezone(UTC)
    millis = value.microsecond // 1000
    return f"{value:%Y-%m-%dT%H:%M:%S}.{millis:03d}+0000"


def format_date(value: date) -> str:
    """Format a date field as ``YYYY-MM-DD``."""
    return value.isoformat()


def parse_datetime(text: str, *, assume_utc: bool = True) -> datetime | None:
    """Parse an ISO-8601 datetime as Salesforce accepts it; None when it is not one.

    Without an offset the value is taken as UTC when ``assume_utc`` is set (record fields);
    the replication endpoints pass ``assume_utc=False`` because they require an offset.
    """
    match = _DATETIME_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset is None and not assume_utc:
        return None
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")[:6]),
            tzinfo=_parse_offset(offset),
        )
    except ValueError:
        return None
    return truncate_millis(parsed.astimezone(UTC))


def _parse_offset(offset: str | None) -> timezone:
    if offset is None or offset == "Z":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_date(text: str) -> date | None:
    """Parse a date field; a full datetime string keeps its own calendar date (API-FACTS §1)."""
    text = text.strip()
    match = _DATE_RE.match(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if _DATETIME_RE.match(text):
        return parse_date(text[:10])
    return None


def truncate_millis(value: datetime) -> datetime:
    """Drop sub-millisecond precision, which Salesforce does not keep."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def truncate_seconds(value: datetime) -> datetime:
    """Drop seconds and below (system timestamps and the replication windows)."""
    return value.replace(second=0, microsecond=0)


def stamp(value: datetime) -> datetime:
    """Return the value a system timestamp stores: UTC, whole seconds."""
    return value.astimezone(UTC).replace(microsecond=0)
