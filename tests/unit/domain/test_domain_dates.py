"""Time zone and Salesforce date/datetime helpers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.activity_kinds import ActivityKind
from salesync.domain.dates import (
    format_salesforce_datetime,
    local_date,
    parse_salesforce_date,
    parse_salesforce_datetime,
    zone,
)


@pytest.mark.parametrize(
    ("instant", "time_zone", "expected"),
    [
        # API-FACTS "ActivityDate time zones": 00:30 on 1 March in Paris is 29 February in UTC.
        (
            dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "Europe/Paris",
            dt.date(2024, 3, 1),
        ),
        (
            dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "UTC",
            dt.date(2024, 2, 29),
        ),
        (dt.datetime(2024, 3, 10, 9, 30, tzinfo=dt.UTC), "Pacific/Honolulu", dt.date(2024, 3, 9)),
        (
            dt.datetime(2024, 3, 10, 9, 30, tzinfo=dt.UTC),
            "Pacific/Kiritimati",
            dt.date(2024, 3, 10),
        ),
    ],
)
def test_local_date(instant: dt.datetime, time_zone: str, expected: dt.date) -> None:
    assert local_date(instant, time_zone) == expected


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd"])
def test_unknown_zones_raise_value_error(name: str) -> None:
    with pytest.raises(ValueError):
        zone(name)


def test_local_date_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        local_date(dt.datetime(2024, 3, 1, 12), "UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2019-09-26T16:30:00.000+0000", dt.date(2019, 9, 26)),
        (None, None),
    ],
)
def test_parse_salesforce_date(text: str | None, expected: dt.date | None) -> None:
    assert parse_salesforce_date(text) == expected


@pytest.mark.parametrize(
    "text", ["2023-02-29", "29/02/2024", "2024-02-29x", "", 20240229, "2024-2-9"]
)
def test_parse_salesforce_date_refuses_garbage(text: object) -> None:
    with pytest.raises(ValueError):
        parse_salesforce_date(text)


@pytest.mark.parametrize(
    "text",
    [
        "2013-05-20T20:49:32.000+0000",
        "2013-05-20T20:49:32Z",
        "2013-05-20T22:49:32.000+02:00",
        "2013-05-20T20:49:32+0000",
    ],
)
def test_parse_salesforce_datetime(text: str) -> None:
    assert parse_salesforce_datetime(text) == dt.datetime(2013, 5, 20, 20, 49, 32, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["2013-05-20T20:49:32", "2013-05-20", "yesterday", None, 5])
def test_parse_salesforce_datetime_refuses_garbage(text: object) -> None:
    with pytest.raises(ValueError):
        parse_salesforce_datetime(text)


def test_format_salesforce_datetime() -> None:
    instant = dt.datetime(
        2013, 5, 20, 22, 49, 32, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert format_salesforce_datetime(instant) == "2013-05-20T20:49:32.123+0000"


@given(st.datetimes(timezones=st.just(dt.UTC)))
def test_format_then_parse_keeps_the_instant_to_the_millisecond(instant: dt.datetime) -> None:
    parsed = parse_salesforce_datetime(format_salesforce_datetime(instant))
    assert parsed == instant.replace(microsecond=instant.microsecond // 1000 * 1000)


@pytest.mark.parametrize(
    ("kind", "type_value", "subtype", "activity_type"),
    [
        (ActivityKind.EMAIL, "Email", "Email", "Email"),
        (ActivityKind.REPLY, "Reply", "Email", "Email"),
        (ActivityKind.CALL, "Call", "Call", "Call"),
    ],
)
def test_activity_kind_values(
    kind: ActivityKind, type_value: str, subtype: str, activity_type: str
) -> None:
    assert (kind.type_value, kind.task_subtype, kind.activity_type) == (
        type_value,
        subtype,
        activity_type,
    )


@given(
    st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.sampled_from(["", ".5", ".000", ".123456"]),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_parse_salesforce_datetime_reads_what_strptime_reads(
    moment: dt.datetime, fraction: str, offset_minutes: int
) -> None:
    """The fast path (fromisoformat) and the formats agree on every Salesforce-shaped text."""
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}{sign}{hours:02d}{minutes:02d}"
    pattern = "%Y-%m-%dT%H:%M:%S.%f%z" if fraction else "%Y-%m-%dT%H:%M:%S%z"
    assert parse_salesforce_datetime(text) == dt.datetime.strptime(text, pattern)
    assert parse_salesforce_datetime(text).utcoffset() == dt.timedelta(minutes=offset_minutes)
