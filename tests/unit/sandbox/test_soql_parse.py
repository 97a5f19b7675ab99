"""SOQL parsing: the supported grammar, string escapes (API-FACTS §2.10) and syntax errors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from salesync.sandbox.soql import Query, SoqlError, parse
from salesync.sandbox.soql_syntax import (
    And,
    BooleanLiteral,
    Comparison,
    Count,
    DateLiteral,
    DateTimeLiteral,
    FieldPath,
    InList,
    Like,
    Not,
    NullLiteral,
    NumberLiteral,
    Or,
    OrderItem,
    RelativeDate,
    StringLiteral,
    Subquery,
)


def where_of(condition: str) -> object:
    return parse(f"SELECT Id FROM Task WHERE {condition}").where


def path(text: str) -> FieldPath:
    return FieldPath(tuple(text.split(".")))


def test_a_full_statement_parses_into_its_parts() -> None:
    query = parse(
        "SELECT Id, Who.Name, (SELECT Id FROM Tasks ORDER BY Subject LIMIT 3) FROM Lead"
        " WHERE Name = 'Ann' ORDER BY Name DESC NULLS LAST, Id LIMIT 10 OFFSET 5"
    )
    assert query == Query(
        sobject="Lead",
        select=(
            path("Id"),
            path("Who.Name"),
            Subquery("Tasks", (path("Id"),), None, (OrderItem(path("Subject")),), 3),
        ),
        where=Comparison(path("Name"), "=", StringLiteral("Ann")),
        order_by=(OrderItem(path("Name"), True, True), OrderItem(path("Id"))),
        limit=10,
        offset=5,
    )


def test_keywords_are_case_insensitive_and_names_keep_their_spelling() -> None:
    query = parse("select id, SUBJECT from task where subject = 'x' order by id asc limit 1")
    assert query.sobject == "task"
    assert query.select == (path("id"), path("SUBJECT"))
    assert query.limit == 1


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Subject = 'a'", Comparison(path("Subject"), "=", StringLiteral("a"))),
        ("Subject != 'a'", Comparison(path("Subject"), "!=", StringLiteral("a"))),
        ("Subject <> 'a'", Comparison(path("Subject"), "!=", StringLiteral("a"))),
        ("N < 5", Comparison(path("N"), "<", NumberLiteral(5))),
        ("N <= -5", Comparison(path("N"), "<=", NumberLiteral(-5))),
        ("N > 2.5", Comparison(path("N"), ">", NumberLiteral(2.5))),
        ("N >= 0", Comparison(path("N"), ">=", NumberLiteral(0))),
        ("IsClosed = TRUE", Comparison(path("IsClosed"), "=", BooleanLiteral(True))),
        ("IsClosed = false", Comparison(path("IsClosed"), "=", BooleanLiteral(False))),
        ("WhoId = null", Comparison(path("WhoId"), "=", NullLiteral())),
        ("D = 2024-01-31", Comparison(path("D"), "=", DateLiteral(date(2024, 1, 31)))),
        (
            "T > 2024-01-31T10:00:00Z",
            Comparison(path("T"), ">", DateTimeLiteral(datetime(2024, 1, 31, 10, tzinfo=UTC))),
        ),
        (
            "T > 2024-01-31T10:00:00+01:00",
            Comparison(path("T"), ">", DateTimeLiteral(datetime(2024, 1, 31, 9, tzinfo=UTC))),
        ),
        (
            "T > 2024-01-31T10:00:00-08:00",
            Comparison(path("T"), ">", DateTimeLiteral(datetime(2024, 1, 31, 18, tzinfo=UTC))),
        ),
        (
            "T > 2024-01-31T10:00:00.250+0000",
            Comparison(
                path("T"), ">", DateTimeLiteral(datetime(2024, 1, 31, 10, 0, 0, 250000, tzinfo=UTC))
            ),
        ),
        ("D = TODAY", Comparison(path("D"), "=", RelativeDate("TODAY"))),
        ("D = last_n_days:7", Comparison(path("D"), "=", RelativeDate("LAST_N_DAYS", 7))),
        ("D = NEXT_N_DAYS:0", Comparison(path("D"), "=", RelativeDate("NEXT_N_DAYS", 0))),
        ("S IN ('a', 'b')", InList(path("S"), (StringLiteral("a"), StringLiteral("b")))),
        ("S NOT IN ('a')", InList(path("S"), (StringLiteral("a"),), negated=True)),
        ("S IN ('a', null)", InList(path("S"), (StringLiteral("a"), NullLiteral()))),
        ("S LIKE 'a%b_c'", Like(path("S"), "a.*b.c")),
        (r"S LIKE '100\%\_'", Like(path("S"), "100%_")),
        ("Who.Type = 'Lead'", Comparison(path("Who.Type"), "=", StringLiteral("Lead"))),
    ],
)
def test_simple_conditions(condition: str, expected: object) -> None:
    assert where_of(condition) == expected


A = Comparison(path("A"), "=", NumberLiteral(1))
B = Comparison(path("B"), "=", NumberLiteral(2))
C = Comparison(path("C"), "=", NumberLiteral(3))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("A = 1 AND B = 2 AND C = 3", And((A, B, C))),
        ("A = 1 OR B = 2 OR C = 3", Or((A, B, C))),
        ("A = 1 AND (B = 2 OR C = 3)", And((A, Or((B, C))))),
        ("(A = 1 AND B = 2) OR C = 3", Or((And((A, B)), C))),
        ("NOT A = 1", Not(A)),
        ("NOT (A = 1 OR B = 2)", Not(Or((A, B)))),
        ("A = 1 AND (NOT B = 2)", And((A, Not(B)))),
        ("((A = 1))", A),
    ],
)
def test_logical_structure(condition: str, expected: object) -> None:
    assert where_of(condition) == expected


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r"'a\nb'", "a\nb"),
        (r"'a\Nb'", "a\nb"),
        (r"'a\rb'", "a\rb"),
        (r"'a\Rb'", "a\rb"),
        (r"'a\tb'", "a\tb"),
        (r"'a\Tb'", "a\tb"),
        (r"'a\bb'", "a\bb"),
        (r"'a\Bb'", "a\bb"),
        (r"'a\fb'", "a\fb"),
        (r"'a\Fb'", "a\fb"),
        (r"'a\"b'", 'a"b'),
        (r"'O\'Brien'", "O'Brien"),
        (r"'back\\slash'", "back\\slash"),
        (r"'caf\u00e9'", "café"),
        (r"'\u00C9t\u00e9'", "Été"),
        (r"'\uD83D\uDE00'", "\U0001f600"),
        ("'raw\nnewline and ünïcode'", "raw\nnewline and ünïcode"),
        ("'say \"hi\"'", 'say "hi"'),
        ("''", ""),
    ],
)
def test_string_escapes_decode_as_documented(literal: str, value: str) -> None:
    assert where_of(f"Subject = {literal}") == Comparison(
        path("Subject"), "=", StringLiteral(value)
    )


@pytest.mark.parametrize(
    "literal",
    [r"'\q'", r"'\%'", r"'\_'", r"'\x41'", r"'\0'", r"'\u12'", r"'\u00G0'", r"'a\ b'", r"'\U0041'"],
)
def test_any_other_backslash_is_malformed(literal: str) -> None:
    with pytest.raises(SoqlError) as caught:
        where_of(f"Subject = {literal}")
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "Illegal character sequence" in caught.value.message


@pytest.mark.parametrize(
    ("statement", "token"),
    [
        ("SELECT Id FORM Task", "FORM"),
        ("SELECT * FROM Task", "*"),
        ("SELECT FROM Task", "FROM"),
        ("SELECT Id, FROM Task", "FROM"),
        ("SELECT Id FROM", "<EOF>"),
        ("SELECT Id FROM Task WHERE", "<EOF>"),
        ("SELECT Id FROM Task WHERE A = 1 AND B = 2 OR C = 3", "OR"),
        ("SELECT Id FROM Task WHERE A = 1 OR B = 2 AND C = 3", "AND"),
        ("SELECT Id FROM Task WHERE A = 1 AND NOT B = 2", "NOT"),
        ("SELECT Id FROM Task WHERE Subject NOT LIKE 'x'", "LIKE"),
        ("SELECT Id FROM Task WHERE Subject LIKE 5", "5"),
        ("SELECT Id FROM Task WHERE Subject IN ()", ")"),
        ("SELECT Id FROM Task WHERE Subject = Foo", "Foo"),
        ("SELECT Id FROM Task WHERE Subject == 'x'", "="),
        ("SELECT Id FROM Task WHERE (A = 1", "<EOF>"),
        ("SELECT Id FROM Task LIMIT -1", "-1"),
        ("SELECT Id FROM Task LIMIT 1.5", "1.5"),
        ("SELECT Id FROM Task LIMIT ten", "ten"),
        ("SELECT Id FROM Task ORDER Subject", "Subject"),
        ("SELECT Id FROM Task ORDER BY Subject NULLS", "<EOF>"),
        ("SELECT Id FROM Task LIMIT 1 ORDER BY Id", "ORDER"),
        ("SELECT Id FROM Task GROUP BY Id", "GROUP"),
        ("SELECT Id FROM Task t", "t"),
        ("SELECT Id FROM Task; DELETE", ";"),
        ("SELECT Id FROM Task WHERE D = LAST_N_DAYS", "<EOF>"),
        ("SELECT Id FROM Task WHERE D = LAST_N_DAYS:x", "x"),
        ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF"),
        ("SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM Tasks) FROM Lead", "("),
        ("SELECT Id, (SELECT COUNT() FROM Tasks) FROM Lead", "("),
        ("SELECT Id FROM Task WHERE Id IN (SELECT WhoId FROM Task)", "SELECT"),
        ("SELECT Id FROM Task.Who", "Task.Who"),
        ("SELECT Subject Alias FROM Task", "Alias"),
    ],
)
def test_syntax_errors_name_the_unexpected_token(statement: str, token: str) -> None:
    with pytest.raises(SoqlError) as caught:
        parse(statement)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.message == f"unexpected token: '{token}'"


@pytest.mark.parametrize(
    ("statement", "message_part"),
    [
        ("SELECT Id FROM Task WHERE Subject = 'open", "unterminated string"),
        (r"SELECT Id FROM Task WHERE Subject = 'open\'", "unterminated string"),
        ("SELECT Id FROM Task WHERE T > 2024-01-31T10:00:00", "time zone is required"),
        ("SELECT Id FROM Task WHERE D = 2024-02-30", "invalid date"),
        ("SELECT Id FROM Task WHERE T > 2024-13-01T00:00:00Z", "invalid date time"),
        ("SELECT Id FROM Task OFFSET 2001", "Maximum SOQL offset allowed is 2000"),
        ("SELECT COUNT(), Id FROM Task", "COUNT() must be the only element"),
        ("SELECT Id, COUNT() FROM Task", "COUNT() must be the only element"),
        ("SELECT Subject, COUNT(Id) FROM Task", "Field must be grouped or aggregated: Subject"),
        ("SELECT Id, Subject, id FROM Task", "duplicate field selected: id"),
        ("SELECT Id, (SELECT Id, ID FROM Tasks) FROM Lead", "duplicate field selected: ID"),
    ],
)
def test_other_malformed_statements(statement: str, message_part: str) -> None:
    with pytest.raises(SoqlError) as caught:
        parse(statement)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert message_part in caught.value.message


def test_offset_2000_is_the_largest_allowed() -> None:
    assert parse("SELECT Id FROM Task OFFSET 2000").offset == 2000


def statement_of_length(length: int) -> str:
    head = "SELECT Id FROM Task WHERE Subject = 'x'"
    padding = " AND Subject != 'y'"
    text = head + padding * ((length - len(head)) // len(padding))
    return text + " " * (length - len(text))


def test_statements_up_to_100000_characters_parse_and_longer_ones_do_not() -> None:
    assert isinstance(parse(statement_of_length(100_000)).where, And)
    with pytest.raises(SoqlError) as caught:
        parse(statement_of_length(100_001))
    assert caught.value.error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    "template", ["Subject = '{}'", "Subject IN ('a', '{}')", "Subject LIKE '{}'"]
)
def test_where_strings_are_limited_to_4000_characters(template: str) -> None:
    assert where_of(template.format("x" * 4000)) is not None
    with pytest.raises(SoqlError) as caught:
        where_of(template.format("x" * 4001))
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "4000" in caught.value.message


def test_the_string_limit_counts_decoded_characters() -> None:
    escaped = r"\n" * 4000  # 8000 characters written, 4000 decoded
    assert where_of(f"Subject = '{escaped}'") == Comparison(
        path("Subject"), "=", StringLiteral("\n" * 4000)
    )


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT COUNT() FROM Task", (Count(None),)),
        ("SELECT COUNT(Id) FROM Task", (Count(path("Id")),)),
        ("SELECT COUNT(Id) total FROM Task", (Count(path("Id"), "total"),)),
        (
            "SELECT COUNT(Id), COUNT(WhoId) n FROM Task",
            (Count(path("Id")), Count(path("WhoId"), "n")),
        ),
    ],
)
def test_counts(statement: str, expected: tuple[Count, ...]) -> None:
    query = parse(statement)
    assert query.select == expected
    assert query.is_count == (expected[0].field is None)
    assert query.is_aggregate == (expected[0].field is not None)


def test_a_field_named_count_is_still_a_field() -> None:
    assert parse("SELECT Count FROM Thing").select == (path("Count"),)
