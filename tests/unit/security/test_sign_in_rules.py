"""Sign-in throttling windows and session lifetimes (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from salesync.domain.sign_in_rules import (
    SessionLifetime,
    ThrottleRule,
    session_is_live,
    session_needs_touch,
    throttled_for,
    wait_seconds,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
RULE = ThrottleRule(max_failures=5, window=timedelta(seconds=60))


def _ago(*seconds: float) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


def test_fewer_failures_than_the_limit_do_not_throttle() -> None:
    assert throttled_for(_ago(1, 2, 3, 4), RULE, NOW) == timedelta(0)


def test_the_limit_reached_throttles_until_the_oldest_leaves_the_window() -> None:
    assert throttled_for(_ago(50, 40, 30, 20, 10), RULE, NOW) == timedelta(seconds=10)


def test_with_more_failures_than_the_limit_enough_must_leave_the_window() -> None:
    # Seven in the window: the wait ends when only four remain, i.e. when the one 30 s old leaves.
    assert throttled_for(_ago(55, 50, 30, 20, 10, 5, 1), RULE, NOW) == timedelta(seconds=30)


def test_failures_outside_the_window_do_not_count() -> None:
    assert throttled_for(_ago(60, 61, 120, 20, 10), RULE, NOW) == timedelta(0)


def test_failures_in_the_future_are_ignored() -> None:
    assert throttled_for(_ago(-5, -4, -3, -2, -1), RULE, NOW) == timedelta(0)


@pytest.mark.parametrize(
    ("wait", "seconds"),
    [(timedelta(seconds=0.2), 1), (timedelta(seconds=10), 10), (timedelta(seconds=10.1), 11)],
)
def test_wait_is_told_in_whole_seconds_rounded_up(wait: timedelta, seconds: int) -> None:
    assert wait_seconds(wait) == seconds


LIFETIME = SessionLifetime(idle=timedelta(hours=1), absolute=timedelta(days=1))


@pytest.mark.parametrize(
    ("created_ago", "seen_ago", "live"),
    [
        (timedelta(hours=2), timedelta(minutes=59), True),
        (timedelta(hours=2), timedelta(hours=1), False),  # idle for the whole idle lifetime
        (timedelta(hours=23, minutes=59), timedelta(0), True),
        (timedelta(days=1), timedelta(0), False),  # busy, but past the absolute lifetime
    ],
)
def test_session_lifetimes(created_ago: timedelta, seen_ago: timedelta, live: bool) -> None:
    assert session_is_live(NOW - created_ago, NOW - seen_ago, LIFETIME, NOW) is live


def test_last_seen_is_written_at_most_once_a_minute() -> None:
    assert not session_needs_touch(NOW - timedelta(seconds=59), NOW)
    assert session_needs_touch(NOW - timedelta(seconds=60), NOW)
