"""FETCH answers as imaplib hands them over, and finding the text part in BODYSTRUCTURE."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.mailbox.client import FolderInfo, inbox_folder, sent_folder
from salesync.mailbox.structure import TextPart, content_type, parse_fetch, text_part

HEADER = b'From: a@b.test\r\nSubject: (parens) "quotes"\r\n\r\n'


def test_literals_and_atoms_of_several_messages() -> None:
    data = [
        (b"1 (UID 7 RFC822.SIZE 120 BODY[HEADER] {%d}" % len(HEADER), HEADER),
        b' BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1 NIL NIL NIL NIL))',
        (b"2 (UID 9 BODY[1]<0> {5}", b"hello"),
        b")",
    ]
    first, second = parse_fetch(data)
    assert first["UID"] == b"7" and first["RFC822.SIZE"] == b"120"
    assert first["BODY[HEADER]"] == HEADER
    assert first["BODYSTRUCTURE"] == [
        b"text", b"plain", [b"charset", b"utf-8"], None, None, b"7bit", b"12", b"1",
        None, None, None, None,
    ]  # fmt: skip
    assert second == {"UID": b"9", "BODY[1]<0>": b"hello"}


def test_quoted_strings_keep_escapes_and_nil_inside_quotes() -> None:
    [answer] = parse_fetch([b'3 (UID 1 X ("a \\"b\\" \\\\c" "NIL" NIL))'])
    assert answer["X"] == [b'a "b" \\c', b"NIL", None]


def test_unsolicited_answers_without_items_are_skipped() -> None:
    assert parse_fetch([b"4 FLAGS"]) == []


MULTIPART = [
    [b"text", b"plain", [b"charset", b"iso-8859-1"], None, None, b"quoted-printable", b"10", b"1"],
    [b"text", b"html", [b"charset", b"utf-8"], None, None, b"base64", b"20", b"1"],
    b"alternative",
]
ATTACHED_TEXT = [
    b"text", b"plain", [b"name", b"notes.txt"], None, None, b"base64", b"999", b"10", None,
    [b"attachment", [b"filename", b"notes.txt"]],
]  # fmt: skip
PDF = [
    b"application",
    b"pdf",
    None,
    None,
    None,
    b"base64",
    b"50000000",
    None,
    [b"attachment", None],
]


@pytest.mark.parametrize(
    ("structure", "expected"),
    [
        (
            [b"text", b"plain", [b"charset", b"utf-8"], None, None, b"7bit", b"5", b"1"],
            TextPart("1", "plain", "7bit", "utf-8"),
        ),
        (MULTIPART, TextPart("1", "plain", "quoted-printable", "iso-8859-1")),
        ([MULTIPART, PDF, b"mixed"], TextPart("1.1", "plain", "quoted-printable", "iso-8859-1")),
        ([ATTACHED_TEXT, MULTIPART[1], b"mixed"], TextPart("2", "html", "base64", "utf-8")),
        ([PDF, b"mixed"], None),
        (PDF, None),
        (None, None),
        ([], None),
    ],
)
def test_text_part(structure: object, expected: TextPart | None) -> None:
    assert text_part(structure) == expected  # type: ignore[arg-type]


def test_content_type() -> None:
    assert content_type([MULTIPART, PDF, b"MIXED"]) == "multipart/mixed"
    assert content_type(PDF) == "application/pdf"
    assert content_type(None) == "text/plain"


def test_folders_by_special_use_then_by_name() -> None:
    special = [FolderInfo("Gesendet", frozenset({"\\Sent"})), FolderInfo("inbox", frozenset())]
    assert sent_folder(special) == "Gesendet" and inbox_folder(special) == "inbox"
    named = [FolderInfo("Sent Items", frozenset()), FolderInfo("Junk", frozenset({"\\Junk"}))]
    assert sent_folder(named) == "Sent Items" and inbox_folder(named) == "INBOX"
    assert sent_folder([FolderInfo("Archive", frozenset())]) is None


@given(
    st.lists(
        st.one_of(
            st.binary(max_size=60), st.tuples(st.binary(max_size=20), st.binary(max_size=40))
        ),
        max_size=6,
    )
)
def test_any_answer_shape_never_raises(data: list[object]) -> None:
    parse_fetch(data)
