"""Salesforce wire datetimes: parsing the three offset spellings and formatting UTC parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from salesync.salesforce import datetimes

NOON = datetime(2013, 5, 20, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2013-05-20T12:00:00.000+0000",
        "2013-05-20T12:00:00+00:00",
        "2013-05-20T12:00:00Z",
        "2013-05-20T14:00:00.000+0200",
        "2013-05-20T07:00:00.000-0500",
    ],
)
def test_parse_gives_aware_utc(text: str) -> None:
    parsed = datetimes.parse(text)
    assert parsed == NOON
    assert parsed.tzinfo is UTC


def test_parse_refuses_a_value_without_offset() -> None:
    with pytest.raises(ValueError):
        datetimes.parse("2013-05-20T12:00:00")


def test_parse_optional_passes_missing_values() -> None:
    assert datetimes.parse_optional(None) is None
    assert datetimes.parse_optional("") is None
    assert datetimes.parse_optional("2013-05-20T12:00:00Z") == NOON


def test_format_utc_converts_and_drops_microseconds() -> None:
    tokyo = timezone(timedelta(hours=9))
    moment = datetime(2013, 5, 20, 21, 0, 0, 123_456, tzinfo=tokyo)
    assert datetimes.format_utc(moment) == "2013-05-20T12:00:00+00:00"


def test_format_utc_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        datetimes.format_utc(datetime(2013, 5, 20, 12))
