"""Dates, times and numbers as the reader's language writes them (Babel, CLDR data).

Pure functions of their arguments: the language is one of them, never read from the request,
so each is tested in every language. The template filters of the same names pass the
language of the page being rendered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time, get_datetime_format
from babel.numbers import format_decimal

from salesync.domain.wording import tr
from salesync.i18n import babel_locale, translate


def local_time(moment: dt.datetime | None, time_zone: str, language: str) -> str:
    """A stored UTC moment as the reader's local date and time, as their language writes it:
    "Dec 3, 2026, 4:30 PM", "2026/12/03 16:30", "2026年12月3日 下午4:30", "03.12.2026, 16:30".
    """
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(time_zone))
    locale = babel_locale(language)
    pattern = str(get_datetime_format("medium", locale=locale))
    date_text = format_date(local, "medium", locale=locale)
    time_text = format_time(local, "short", locale=locale)
    return pattern.replace("'", "").replace("{0}", time_text).replace("{1}", date_text)


def short_date(day: dt.date, language: str) -> str:
    """A day with its weekday, short: "Thu, Dec 3", "12月3日(木)", "12月3日週四", "Do., 3. Dez."."""
    return str(format_skeleton("MMMEd", day, locale=babel_locale(language)))


def day_label(day: dt.date | None, today: dt.date, language: str) -> str:
    """When a task is due, seen from the reader's ``today``: "Today", "Tomorrow", "Overdue ·
    Tue, Dec 1", or the day itself."""
    if day is None:
        return translate(tr("No due date"), language)
    if day == today:
        return translate(tr("Today"), language)
    if day == today + dt.timedelta(days=1):
        return translate(tr("Tomorrow"), language)
    if day < today:
        return translate(tr("Overdue · {day}", day=short_date(day, language)), language)
    return short_date(day, language)


def number(value: int | float | Decimal | None, language: str) -> str:
    """A count or an amount with the language's grouping and decimal signs: 1,234 / 1.234."""
    if value is None:
        return ""
    return str(format_decimal(value, locale=babel_locale(language)))
