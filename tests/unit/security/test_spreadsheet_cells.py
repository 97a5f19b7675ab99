"""CSV exports never hand a spreadsheet a formula (pure rule and the Diagnostics export)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from salesync.domain.spreadsheet import safe_cell, safe_row
from salesync.services.diagnostics import EntryView, GroupView, Overview, export_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),  # a number is data, not a formula
        (None, None),
    ],
)
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def test_safe_row_keeps_the_order() -> None:
    assert safe_row(["=1", "x", 3]) == ["'=1", "x", 3]


def test_the_diagnostics_export_neutralises_formulas() -> None:
    moment = datetime(2026, 3, 2, tzinfo=UTC)
    entry = EntryView(
        id=1,
        user_id=1,
        user_name="@evil",
        item_type="email",
        item_id=7,
        message="=cmd|' /C calc'!A0",
        occurrences=2,
        first_seen_at=moment,
        last_seen_at=moment,
        retryable=True,
    )
    group = GroupView("access", "-CODE", "m", "+cause", "fix", (entry,))
    rows = list(csv.reader(io.StringIO(export_csv(Overview((group,), {}, ())))))
    assert rows[1][:8] == [
        "access",
        "'-CODE",
        "'@evil",
        "email",
        "7",
        "'=cmd|' /C calc'!A0",
        "'+cause",
        "fix",
    ]
