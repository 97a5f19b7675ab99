"""Time zone, date and Salesforce date/datetime conversions shared by the domain rules."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
# API-FACTS §1: datetimes come back as 2013-05-20T20:49:32.000+0000.
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")
#: The shape nearly every Salesforce datetime has: read by fromisoformat, ten times faster
#: than strptime (every lookup row carries one); anything else goes through the formats.
_COMMON_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?[+-][0-9]{4}"
)


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone ``name``; raises ValueError for an unknown zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {name!r}") from exc


def require_aware(instant: dt.datetime, what: str = "datetime") -> dt.datetime:
    """Return ``instant`` unchanged; raises ValueError when it has no time zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be time-zone aware: {instant!r}")
    return instant


def local_date(instant: dt.datetime, time_zone: str) -> dt.date:
    """The calendar date of ``instant`` in the IANA zone ``time_zone``."""
    return require_aware(instant, "instant").astimezone(zone(time_zone)).date()


def parse_salesforce_date(value: object) -> dt.date | None:
    """Parse a Task ActivityDate: ``YYYY-MM-DD`` or a datetime string; None stays None.

    API-FACTS §1: ActivityDate is a pure date; a full datetime was also accepted on write,
    so its date part is taken as is (it is stored at midnight UTC, never shifted).
    Raises ValueError for anything else.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE_PATTERN.match(value):
        raise ValueError(f"not a Salesforce date: {value!r}")
    if len(value) > 10 and value[10] != "T":
        raise ValueError(f"not a Salesforce date: {value!r}")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ValueError(f"not a Salesforce date: {value!r}") from exc


def parse_salesforce_datetime(value: object) -> dt.datetime:
    """Parse a Salesforce datetime (``2013-05-20T20:49:32.000+0000`` or ISO 8601 with Z).

    Raises ValueError for anything else, including a datetime without an offset.
    """
    if not isinstance(value, str):
        raise ValueError(f"not a Salesforce datetime: {value!r}")
    text = value[:-1] + "+0000" if value.endswith("Z") else value
    if _COMMON_DATETIME.fullmatch(text):
        return dt.datetime.fromisoformat(text)
    for pattern in _DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"not a Salesforce datetime: {value!r}")


def format_salesforce_datetime(instant: dt.datetime) -> str:
    """Format an aware datetime the way Salesforce writes them, in UTC with milliseconds."""
    utc = require_aware(instant).astimezone(dt.UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "+0000"
