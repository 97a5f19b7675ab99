"""When the daily pull of opt-outs set in Salesforce is due (UNSUB-3: about 8:00 pm Pacific)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_PULL_TIME = "20:00"
DEFAULT_PULL_ZONE = "America/Los_Angeles"
_TIME = re.compile(r"(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)")


def parse_pull_time(text: str) -> dt.time:
    """``HH:MM`` (24-hour); raises ValueError otherwise."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a time of day such as 20:00")
    return dt.time(int(match["hour"]), int(match["minute"]))


def check_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone such as America/Los_Angeles") from None


def latest_slot(now: dt.datetime, time_text: str, zone_name: str) -> dt.datetime:
    """The most recent scheduled pull at or before ``now`` (in UTC)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = check_zone(zone_name)
    at = parse_pull_time(time_text)
    local_now = now.astimezone(zone)
    slot = dt.datetime.combine(local_now.date(), at, tzinfo=zone)
    if slot > local_now:
        slot = dt.datetime.combine(local_now.date() - dt.timedelta(days=1), at, tzinfo=zone)
    return slot.astimezone(dt.UTC)


def pull_due(
    now: dt.datetime, last_pull: dt.datetime | None, time_text: str, zone_name: str
) -> bool:
    """True when a scheduled pull time has passed since the last pull (or none ran yet)."""
    slot = latest_slot(now, time_text, zone_name)
    return last_pull is None or last_pull < slot
