"""Sign-in throttling and browser-session lifetimes: pure rules that take ``now``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottleRule:
    """At most ``max_failures`` refused sign-ins within any ``window``."""

    max_failures: int
    window: timedelta


def throttled_for(failures: Iterable[datetime], rule: ThrottleRule, now: datetime) -> timedelta:
    """How long the next try must wait; zero when it may go ahead.

    The wait ends when enough failures have left the window to leave room for one more.
    """
    recent = sorted(at for at in failures if timedelta(0) <= now - at < rule.window)
    if len(recent) < rule.max_failures:
        return timedelta(0)
    oldest_blocking = recent[len(recent) - rule.max_failures]
    return oldest_blocking + rule.window - now


def wait_seconds(wait: timedelta) -> int:
    """The whole seconds to tell a person ("try again in N s"): never 0 while still blocked."""
    return max(1, math.ceil(wait.total_seconds()))


@dataclass(frozen=True)
class SessionLifetime:
    """A browser session ends after ``idle`` without a request, and ``absolute`` after sign-in."""

    idle: timedelta
    absolute: timedelta


#: A session's last-seen time is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def session_is_live(
    created_at: datetime, last_seen_at: datetime, lifetime: SessionLifetime, now: datetime
) -> bool:
    return now - last_seen_at < lifetime.idle and now - created_at < lifetime.absolute


def session_needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= TOUCH_INTERVAL
