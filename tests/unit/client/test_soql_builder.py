"""SOQL builder: literals, format_soql, IN-list chunking, and escaping properties."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.soql import (
    DEFAULT_MAX_URI_CHARS,
    chunk_in_clause,
    encoded_length,
    escape_like,
    format_soql,
    quote,
)

# The documented escape table (API-FACTS §2.10), written out independently of the code.
STRING_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
LIKE_ONLY_ESCAPES = {"%": "%", "_": "_"}


class NotOneToken(Exception):
    pass


def decode_literal(literal: str, *, like: bool = False) -> str:
    """Decode a quoted SOQL string literal the way Salesforce documents it.

    Raises NotOneToken when the text is not exactly one quoted literal: missing quotes, an
    unescaped quote inside, or a backslash sequence that is not in the table.
    """
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'":
        raise NotOneToken(literal)
    table = {**STRING_ESCAPES, **(LIKE_ONLY_ESCAPES if like else {})}
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "'":
            raise NotOneToken(f"unescaped quote at {i}")
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= len(body):
            raise NotOneToken("dangling backslash")
        code = body[i + 1]
        if code == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
            continue
        if code not in table:
            raise NotOneToken(f"bad escape \\{code}")
        out.append(table[code])
        i += 2
    return "".join(out)


NASTY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["'", '"', "\\", "\n", "\r", "\t", "\b", "\f", "%", "_", "\\'", "é", "😀"]),
        st.characters(),
    )
).map("".join)


@given(NASTY_TEXT)
def test_quoted_string_decodes_back_to_the_input_as_one_token(text: str) -> None:
    assert decode_literal(quote(text)) == text


@given(NASTY_TEXT)
def test_like_pattern_decodes_back_to_the_input_as_one_token(text: str) -> None:
    literal = "'" + escape_like(text) + "'"
    assert decode_literal(literal, like=True) == text


@given(NASTY_TEXT)
def test_like_escape_leaves_no_bare_wildcard(text: str) -> None:
    escaped = escape_like(text)
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            i += 2
            continue
        assert escaped[i] not in "%_"
        i += 1


@given(NASTY_TEXT, NASTY_TEXT)
def test_format_soql_keeps_each_value_a_separate_literal(first: str, second: str) -> None:
    soql = format_soql(
        "SELECT Id FROM Task WHERE Subject = {} AND Type = {kind}", first, kind=second
    )
    prefix = "SELECT Id FROM Task WHERE Subject = "
    assert soql.startswith(prefix)
    left, right = _split(soql, prefix)
    assert decode_literal(left) == first
    assert decode_literal(right) == second


def _split(soql: str, prefix: str) -> tuple[str, str]:
    # Walk the first literal with the reference rules to find where it ends.
    body = soql[len(prefix) :]
    i = 1
    while body[i] != "'":
        i += 2 if body[i] == "\\" else 1
    first = body[: i + 1]
    rest = body[i + 1 :]
    assert rest.startswith(" AND Type = ")
    return first, rest[len(" AND Type = ") :]


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (1.5, "1.5"),
        (1e20, "100000000000000000000"),
        (Decimal("12.50"), "12.50"),
        ("O'Brien", "'O\\'Brien'"),
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("a\\b", "'a\\\\b'"),
        ("50%_off", "'50%_off'"),
        ("line1\nline2\r\t\b\f", "'line1\\nline2\\r\\t\\b\\f'"),
        (date(2024, 1, 31), "2024-01-31"),
        (datetime(2024, 1, 1, tzinfo=UTC), "2024-01-01T00:00:00Z"),
        (
            datetime(2024, 3, 1, 1, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=1))),
            "2024-03-01T00:00:00Z",
        ),
        (
            ["00Q000000000001AAA", "003000000000001AAA"],
            "('00Q000000000001AAA','003000000000001AAA')",
        ),
        ((1, 2), "(1,2)"),
        (frozenset({"x"}), "('x')"),
    ],
)
def test_quote_renders_each_type(value: object, literal: str) -> None:
    assert quote(value) == literal


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (datetime(2024, 1, 1), ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (Decimal("NaN"), ValueError),
        ([], ValueError),
        ([["nested"]], ValueError),
        (b"bytes", TypeError),
        (object(), TypeError),
    ],
)
def test_quote_refuses_values_without_a_safe_literal(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        quote(value)


def test_format_soql_like_and_literal_specs() -> None:
    soql = format_soql(
        "SELECT {fields:literal} FROM Task WHERE Subject LIKE '{:like}%' AND WhoId = {}",
        "100%_sure's",
        "003000000000001AAA",
        fields="Id, Subject",
    )
    assert soql == (
        "SELECT Id, Subject FROM Task WHERE Subject LIKE '100\\%\\_sure\\'s%' "
        "AND WhoId = '003000000000001AAA'"
    )


@pytest.mark.parametrize("spec", ["{:like}", "{:literal}"])
def test_text_specs_refuse_non_strings(spec: str) -> None:
    with pytest.raises(TypeError):
        format_soql(spec, 5)


def test_unknown_format_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SOQL format spec"):
        format_soql("{:>10}", "x")


def _ids(count: int) -> list[str]:
    return [f"00Q{index:012d}AAA" for index in range(count)]


def test_chunk_in_clause_keeps_every_url_under_the_budget_and_every_value_once() -> None:
    emails = [f"person.{index}+tag@example-company.com" for index in range(1_500)]
    template = "SELECT Id, Email FROM Lead WHERE Email IN {} AND IsConverted = {converted}"
    queries = chunk_in_clause(template, emails + emails[:10], converted=False)
    assert len(queries) > 1
    base = "https://my-company.my.salesforce.com/services/data/v59.0/queryAll/?q="
    for soql in queries:
        assert len(base) + len(urllib.parse.quote(soql, safe="")) <= DEFAULT_MAX_URI_CHARS
        assert soql.endswith(" AND IsConverted = false")
    recovered = []
    for soql in queries:
        in_list = soql.split(" IN (", 1)[1].split(") AND", 1)[0]
        recovered.extend(decode_literal(item) for item in in_list.split(","))
    assert recovered == emails


def test_chunk_in_clause_fills_chunks_close_to_the_budget() -> None:
    queries = chunk_in_clause(
        "SELECT Id FROM Task WHERE Id IN {}", _ids(2_000), max_uri_chars=4_000
    )
    lengths = [encoded_length(soql) for soql in queries]
    assert max(lengths) <= 4_000 - 256
    # Each full chunk leaves less room than one more id would need.
    assert all(length > 4_000 - 256 - 40 for length in lengths[:-1])


def test_chunk_in_clause_honours_max_values() -> None:
    queries = chunk_in_clause(
        "SELECT Id FROM Task WHERE Id IN {}", _ids(1_001), max_uri_chars=100_000, max_values=500
    )
    assert [soql.count(",") + 1 for soql in queries] == [500, 500, 1]


def test_chunk_in_clause_with_no_values_makes_no_query() -> None:
    assert chunk_in_clause("SELECT Id FROM Task WHERE Id IN {}", []) == []


def test_chunk_in_clause_refuses_a_value_that_can_never_fit() -> None:
    with pytest.raises(ValueError, match="one value alone"):
        chunk_in_clause("SELECT Id FROM Lead WHERE Email IN {}", ["x" * 9_000])


@pytest.mark.parametrize(
    "template",
    ["SELECT Id FROM Task", "SELECT Id FROM Task WHERE Id IN {} OR WhoId IN {}"],
)
def test_chunk_in_clause_needs_exactly_one_positional_field(template: str) -> None:
    with pytest.raises(ValueError, match="exactly one positional"):
        chunk_in_clause(template, ["a"])
