"""Reading a task CSV file's shape: which column holds which field, and rows without a subject."""

from __future__ import annotations

import pytest

from salesync.domain.spreadsheet import read_csv
from salesync.domain.task_import import ImportProblem, TaskImportRow, plan_task_import
from salesync.errors import InvalidInput


def _plan(text: str | bytes) -> tuple[list[TaskImportRow], list[ImportProblem]]:
    content = text.encode() if isinstance(text, str) else text
    plan = plan_task_import(read_csv(content, max_bytes=10_000, max_rows=10))
    return plan.rows, plan.problems


def test_columns_are_recognised_in_any_case_and_spacing() -> None:
    rows, problems = _plan(
        "E-mail,SUBJECT,due_date,Priority,Task Type,Notes\n"
        "ada@acme.test,Call Ada,2026-03-06,High,Call,ask about pricing\n"
    )
    assert problems == []
    assert [(r.row, r.values) for r in rows] == [
        (
            2,
            {
                "person_email": "ada@acme.test",
                "name": "Call Ada",
                "due_date": "2026-03-06",
                "priority": "High",
                "task_type": "Call",
                "details": "ask about pricing",
            },
        )
    ]
    assert rows[0].columns["due_date"] == "due_date"


def test_empty_cells_are_left_out_so_the_defaults_apply() -> None:
    rows, problems = _plan("Subject,Type,Due date\nFollow up,,\n")
    assert problems == []
    assert [r.values for r in rows] == [{"name": "Follow up"}]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_or_without_a_byte_order_mark(bom: bytes) -> None:
    rows, problems = _plan(bom + "Subject;Notes\nAppeler Zoé;café\n".encode())
    assert problems == []
    assert rows[0].values == {"name": "Appeler Zoé", "details": "café"}


def test_rows_without_a_subject_are_reported_by_their_spreadsheet_row_number() -> None:
    rows, problems = _plan("Subject,Notes\nFirst,\n\n,only notes\nThird,\n")
    assert [r.row for r in rows] == [2, 4, 5]
    assert problems == [ImportProblem(4, "Subject", "name", "is empty; every task needs a subject")]


def test_an_unknown_column_a_repeated_field_and_no_subject_column_are_refused() -> None:
    rows, problems = _plan("Email,Due Dtae,Contact email,Notes\na@acme.test,2026-03-06,,\n")
    assert rows == []
    assert [(p.row, p.column, p.field) for p in problems] == [
        (None, "Due Dtae", "file"),
        (None, "Contact email", "file"),
        (None, None, "file"),
    ]
    assert "Due date" in problems[0].message
    assert "Subject" in problems[2].message


def test_a_file_with_only_the_header_is_refused() -> None:
    rows, problems = _plan("Subject,Due date\n")
    assert rows == []
    assert [p.message for p in problems] == ["has no rows below the column names"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfeS\x00", "not UTF-8"),
        (b"", "is empty"),
        (b"Subject\n" + b"x\n" * 11, "more than 10 rows"),
        (b"Subject\n" + b"x" * 10_000, "larger than"),
    ],
)
def test_unusable_files_are_refused_as_a_whole(content: bytes, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as caught:
        _plan(content)
    assert caught.value.field == "file"
