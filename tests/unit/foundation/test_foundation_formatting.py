"""Dates, times and numbers as each language writes them (pure functions of the language)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from salesync.i18n import first_weekday
from salesync.web.formatting import day_label, local_time, number, short_date

MOMENT = dt.datetime(2026, 12, 3, 16, 30, tzinfo=dt.UTC)
LANGUAGES = ("en", "ja", "zh-Hant", "de")


@pytest.mark.parametrize(
    ("language", "berlin", "tokyo"),
    [
        # CLDR puts a narrow no-break space before AM/PM
        ("en", "Dec 3, 2026, 5:30\u202fPM", "Dec 4, 2026, 1:30\u202fAM"),
        ("ja", "2026/12/03 17:30", "2026/12/04 1:30"),
        ("zh-Hant", "2026年12月3日 下午5:30", "2026年12月4日 凌晨1:30"),
        ("de", "03.12.2026, 17:30", "04.12.2026, 01:30"),
    ],
)
def test_local_time_is_the_readers_zone_written_as_their_language_writes_it(
    language: str, berlin: str, tokyo: str
) -> None:
    assert local_time(MOMENT, "Europe/Berlin", language) == berlin
    # the zone decides the day: 01:30 on the 4th in Tokyo
    assert local_time(MOMENT, "Asia/Tokyo", language) == tokyo


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_moment_is_no_text(language: str) -> None:
    assert local_time(None, "UTC", language) == ""


def test_the_pseudo_language_formats_like_english() -> None:
    assert local_time(MOMENT, "UTC", "en-XA") == local_time(MOMENT, "UTC", "en")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Thu, Dec 3"),
        ("ja", "12月3日(木)"),
        ("zh-Hant", "12月3日週四"),
        ("de", "Do., 3. Dez."),
    ],
)
def test_short_date_has_the_weekday(language: str, expected: str) -> None:
    assert short_date(dt.date(2026, 12, 3), language) == expected


TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("language", "today", "tomorrow", "overdue", "later", "none"),
    [
        ("en", "Today", "Tomorrow", "Overdue · Tue, Dec 1", "Sat, Dec 5", "No due date"),
        ("ja", "今日", "明日", "期限切れ · 12月1日(火)", "12月5日(土)", "期日なし"),
        ("zh-Hant", "今天", "明天", "逾期 · 12月1日週二", "12月5日週六", "無到期日"),
        (
            "de",
            "Heute",
            "Morgen",
            "Überfällig · Di., 1. Dez.",
            "Sa., 5. Dez.",
            "Kein Fälligkeitsdatum",
        ),
    ],
)
def test_the_due_day_is_relative_to_the_readers_today(
    language: str, today: str, tomorrow: str, overdue: str, later: str, none: str
) -> None:
    assert day_label(TODAY, TODAY, language) == today
    assert day_label(dt.date(2026, 12, 4), TODAY, language) == tomorrow
    assert day_label(dt.date(2026, 12, 1), TODAY, language) == overdue
    assert day_label(dt.date(2026, 12, 5), TODAY, language) == later
    assert day_label(None, TODAY, language) == none


def test_the_due_day_across_a_year_end() -> None:
    assert day_label(dt.date(2027, 1, 1), dt.date(2026, 12, 31), "en") == "Tomorrow"


@pytest.mark.parametrize(
    ("language", "big", "fraction"),
    [
        ("en", "1,234,567", "1,234.5"),
        ("ja", "1,234,567", "1,234.5"),
        ("zh-Hant", "1,234,567", "1,234.5"),
        ("de", "1.234.567", "1.234,5"),
    ],
)
def test_numbers_are_grouped_as_the_language_groups_them(
    language: str, big: str, fraction: str
) -> None:
    assert number(1234567, language) == big
    assert number(Decimal("1234.5"), language) == fraction
    assert number(7, language) == "7"
    assert number(None, language) == ""


@pytest.mark.parametrize(
    ("language", "weekday"), [("en", 6), ("ja", 6), ("zh-Hant", 6), ("de", 0), ("en-XA", 6)]
)
def test_the_week_starts_where_the_readers_country_starts_it(language: str, weekday: int) -> None:
    assert first_weekday(language) == weekday
