"""Salesforce's datetime text, for aware values (remembered) and naive ones (local time)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from salesync.sandbox.timefmt import format_datetime


@pytest.fixture
def local_zone() -> Iterator[None]:
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_the_same_instant_in_any_zone_is_the_same_text() -> None:
    instant = datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    east = instant.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert format_datetime(instant) == "2024-01-01T12:00:00.123+0000"
    assert format_datetime(east) == "2024-01-01T12:00:00.123+0000"
    later = east + timedelta(milliseconds=1)
    assert format_datetime(later) == "2024-01-01T12:00:00.124+0000"


@pytest.mark.usefixtures("local_zone")
def test_a_naive_value_follows_the_local_zone_as_it_changes() -> None:
    naive = datetime(2024, 1, 1, 12, 0, 0)
    os.environ["TZ"] = "UTC"
    time.tzset()
    assert format_datetime(naive) == "2024-01-01T12:00:00.000+0000"
    os.environ["TZ"] = "Etc/GMT-2"  # two hours east of UTC
    time.tzset()
    assert format_datetime(naive) == "2024-01-01T10:00:00.000+0000"
