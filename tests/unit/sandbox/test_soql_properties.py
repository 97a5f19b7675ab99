"""Property tests: quoted strings round-trip and can never change a query's structure."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.sandbox.soql import SoqlError, parse
from salesync.sandbox.soql_ids import id_key
from salesync.sandbox.soql_syntax import And, Comparison, FieldPath, InList, Like, StringLiteral

# API-FACTS §2.10: every documented way to write a character inside '...'
NAMED_ESCAPES = {
    "\n": [r"\n", r"\N"],
    "\r": [r"\r", r"\R"],
    "\t": [r"\t", r"\T"],
    "\b": [r"\b", r"\B"],
    "\f": [r"\f", r"\F"],
    '"': [r"\"", '"'],
    "'": [r"\'"],
    "\\": [r"\\"],
}
ALLOWED_AFTER_BACKSLASH = set("nNrRtTbBfF\"'\\u")


def utf16_escape(char: str) -> str:
    units = char.encode("utf-16-be")
    return "".join(
        f"\\u{int.from_bytes(units[i : i + 2], 'big'):04X}" for i in range(0, len(units), 2)
    )


@st.composite
def quoted(draw: st.DrawFn, value: str) -> str:
    """``value`` as a SOQL string literal, each character written in a randomly chosen way."""
    pieces = []
    for char in value:
        ways = [*NAMED_ESCAPES.get(char, [char]), utf16_escape(char)]
        pieces.append(draw(st.sampled_from(ways)))
    return "'" + "".join(pieces) + "'"


@st.composite
def text_and_literal(draw: st.DrawFn) -> tuple[str, str]:
    value = draw(st.text(max_size=60))
    return value, draw(quoted(value))


@given(text_and_literal())
def test_any_quoted_string_parses_back_to_the_same_value(case: tuple[str, str]) -> None:
    value, literal = case
    query = parse(f"SELECT Id FROM Task WHERE Subject = {literal}")
    assert query.where == Comparison(FieldPath(("Subject",)), "=", StringLiteral(value))


@given(text_and_literal(), text_and_literal())
def test_quoted_strings_cannot_change_the_structure(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    query = parse(
        f"SELECT Id, Subject FROM Task WHERE Subject = {first[1]} AND Status IN ({second[1]}, 'x')"
        " ORDER BY Id LIMIT 5"
    )
    assert query.sobject == "Task"
    assert len(query.select) == 2
    assert isinstance(query.where, And)
    subject, status = query.where.operands
    assert subject == Comparison(FieldPath(("Subject",)), "=", StringLiteral(first[0]))
    assert status == InList(FieldPath(("Status",)), (StringLiteral(second[0]), StringLiteral("x")))
    assert query.limit == 5


@given(st.text(max_size=40), st.characters().filter(lambda c: c not in ALLOWED_AFTER_BACKSLASH))
def test_any_undocumented_backslash_is_malformed(text: str, char: str) -> None:
    safe = text.replace("\\", "\\\\").replace("'", "\\'")
    with pytest.raises(SoqlError) as caught:
        parse(f"SELECT Id FROM Task WHERE Subject = '{safe}\\{char}'")
    assert caught.value.error_code == "MALFORMED_QUERY"


def like_quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return "'" + escaped.replace("%", "\\%").replace("_", "\\_") + "'"


@given(st.text(max_size=40), st.text(min_size=1, max_size=5))
def test_a_fully_escaped_like_pattern_matches_only_its_own_text(value: str, extra: str) -> None:
    query = parse(f"SELECT Id FROM Task WHERE Subject LIKE {like_quoted(value)}")
    assert isinstance(query.where, Like)
    pattern = re.compile(query.where.regex, re.IGNORECASE | re.DOTALL)
    assert pattern.fullmatch(value)
    assert not pattern.fullmatch(value + extra)


ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def with_checksum(id15: str) -> str:
    suffix = ""
    for chunk in range(3):
        part = id15[chunk * 5 : chunk * 5 + 5]
        suffix += SUFFIX_ALPHABET[sum(1 << i for i, char in enumerate(part) if char.isupper())]
    return id15 + suffix


@given(
    st.text(alphabet=ALNUM, min_size=15, max_size=15),
    st.lists(st.booleans(), min_size=18, max_size=18),
)
def test_an_18_char_id_in_any_case_keys_to_its_15_char_form(id15: str, uppers: list[bool]) -> None:
    id18 = with_checksum(id15)
    recased = "".join(
        char.upper() if upper else char.lower() for char, upper in zip(id18, uppers, strict=True)
    )
    assert id_key(recased) == id15
    assert id_key(id15) == id15
