"""Parse SOQL text into a ``Query``: the supported SELECT subset, MALFORMED_QUERY otherwise."""

from __future__ import annotations

from salesync.sandbox import soql_dates, soql_errors
from salesync.sandbox.soql_lexer import Token, decode_string, like_regex, tokenize
from salesync.sandbox.soql_syntax import (
    And,
    BooleanLiteral,
    Comparison,
    Condition,
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
    Query,
    RelativeDate,
    SelectItem,
    StringLiteral,
    Subquery,
    Value,
)

#: API-FACTS §2.10: longest statement and longest string in a WHERE clause
MAX_STATEMENT_LENGTH = 100_000
MAX_WHERE_STRING_LENGTH = 4_000
#: the largest OFFSET Salesforce accepts
MAX_OFFSET = 2_000

# SOQL reserved words: never a field or object name
_RESERVED = frozenset(
    {
        "AND", "ASC", "BY", "DESC", "EXCLUDES", "FALSE", "FIRST", "FOR", "FROM", "GROUP",
        "HAVING", "IN", "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OFFSET",
        "OR", "ORDER", "SELECT", "TRUE", "TYPEOF", "USING", "WHERE", "WITH",
    }
)  # fmt: skip


def parse(text: str) -> Query:
    """Parse one SOQL statement.

    Parameters
    ----------
    text:
        The statement as the ``q`` parameter of ``/query`` carries it.

    Returns
    -------
    Query
        The syntax tree; field and object names are checked later, by ``execute``.

    Raises ``SoqlError`` with MALFORMED_QUERY on any syntax or size error.
    """
    if len(text) > MAX_STATEMENT_LENGTH:
        raise soql_errors.malformed(
            f"SOQL statement is {len(text)} characters long; the limit is {MAX_STATEMENT_LENGTH}"
        )
    return _Parser(tokenize(text)).statement()


class _Parser:
    """Recursive descent over the token list, one method per grammar rule."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0

    # -- token helpers -----------------------------------------------------------------------

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        if token.kind != "eof":
            self._index += 1
        return token

    def _at(self, *keywords: str) -> bool:
        token = self._peek()
        return token.kind == "ident" and token.upper in keywords

    def _at_punct(self, char: str) -> bool:
        token = self._peek()
        return token.kind == "punct" and token.text == char

    def _expect(self, keyword: str) -> None:
        if not self._at(keyword):
            raise self._unexpected()
        self._advance()

    def _expect_punct(self, char: str) -> None:
        if not self._at_punct(char):
            raise self._unexpected()
        self._advance()

    def _unexpected(self) -> soql_errors.SoqlError:
        return soql_errors.unexpected_token(self._peek().shown())

    # -- statements --------------------------------------------------------------------------

    def statement(self) -> Query:
        self._expect("SELECT")
        select = self._select_list(nested=False)
        self._expect("FROM")
        sobject = self._name()
        where = self._where()
        order_by = self._order_by()
        limit = self._limit()
        offset = self._offset()
        if self._peek().kind != "eof":
            raise self._unexpected()
        _check_select(select)
        return Query(sobject, select, where, order_by, limit, offset)

    def _subquery(self) -> Subquery:
        self._expect("SELECT")
        select = self._select_list(nested=True)
        self._expect("FROM")
        relationship = self._name()
        where = self._where()
        order_by = self._order_by()
        limit = self._limit()
        self._expect_punct(")")
        fields = tuple(item for item in select if isinstance(item, FieldPath))
        _check_select(fields)
        return Subquery(relationship, fields, where, order_by, limit)

    def _select_list(self, *, nested: bool) -> tuple[SelectItem, ...]:
        items = [self._select_item(nested=nested)]
        while self._at_punct(","):
            self._advance()
            items.append(self._select_item(nested=nested))
        return tuple(items)

    def _select_item(self, *, nested: bool) -> SelectItem:
        if self._at_punct("(") and not nested:
            self._advance()
            return self._subquery()
        if self._at("COUNT") and self._tokens[self._index + 1].text == "(" and not nested:
            return self._count()
        return self._field_path()

    def _count(self) -> Count:
        self._advance()
        self._expect_punct("(")
        field = None if self._at_punct(")") else self._field_path()
        self._expect_punct(")")
        alias = None
        if (
            field is not None
            and self._peek().kind == "ident"
            and self._peek().upper not in _RESERVED
        ):
            alias = self._advance().text
        return Count(field, alias)

    def _name(self) -> str:
        token = self._peek()
        if token.kind != "ident" or "." in token.text or token.upper in _RESERVED:
            raise self._unexpected()
        return self._advance().text

    def _field_path(self) -> FieldPath:
        token = self._peek()
        if token.kind != "ident" or token.upper in _RESERVED:
            raise self._unexpected()
        return FieldPath(tuple(self._advance().text.split(".")))

    # -- clauses -----------------------------------------------------------------------------

    def _where(self) -> Condition | None:
        if not self._at("WHERE"):
            return None
        self._advance()
        return self._condition()

    def _order_by(self) -> tuple[OrderItem, ...]:
        if not self._at("ORDER"):
            return ()
        self._advance()
        self._expect("BY")
        items = [self._order_item()]
        while self._at_punct(","):
            self._advance()
            items.append(self._order_item())
        return tuple(items)

    def _order_item(self) -> OrderItem:
        field = self._field_path()
        descending = False
        if self._at("ASC", "DESC"):
            descending = self._advance().upper == "DESC"
        nulls_last = False
        if self._at("NULLS"):
            self._advance()
            if not self._at("FIRST", "LAST"):
                raise self._unexpected()
            nulls_last = self._advance().upper == "LAST"
        return OrderItem(field, descending, nulls_last)

    def _limit(self) -> int | None:
        if not self._at("LIMIT"):
            return None
        self._advance()
        return self._count_value()

    def _offset(self) -> int | None:
        if not self._at("OFFSET"):
            return None
        self._advance()
        offset = self._count_value()
        if offset > MAX_OFFSET:
            raise soql_errors.malformed(f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        return offset

    def _count_value(self) -> int:
        token = self._peek()
        if token.kind != "number" or not token.text.isdigit():
            raise self._unexpected()
        return int(self._advance().text)

    # -- conditions --------------------------------------------------------------------------

    def _condition(self) -> Condition:
        """SOQL needs parentheses to mix AND with OR, and NOT only opens an expression."""
        first = self._not_or_term()
        if not self._at("AND", "OR"):
            return first
        connective = self._peek().upper
        operands = [first]
        while self._at(connective):
            self._advance()
            operands.append(self._term())
        if self._at("AND", "OR"):
            raise self._unexpected()
        return And(tuple(operands)) if connective == "AND" else Or(tuple(operands))

    def _not_or_term(self) -> Condition:
        if self._at("NOT"):
            self._advance()
            return Not(self._term())
        return self._term()

    def _term(self) -> Condition:
        if self._at_punct("("):
            self._advance()
            condition = self._condition()
            self._expect_punct(")")
            return condition
        return self._simple()

    def _simple(self) -> Condition:
        field = self._field_path()
        token = self._peek()
        if token.kind == "operator":
            self._advance()
            operator = "!=" if token.text == "<>" else token.text
            return Comparison(field, operator, self._value())
        if self._at("IN"):
            self._advance()
            return InList(field, self._value_list())
        if self._at("NOT"):
            self._advance()
            self._expect("IN")
            return InList(field, self._value_list(), negated=True)
        if self._at("LIKE"):
            self._advance()
            return Like(field, self._like_pattern())
        raise self._unexpected()

    def _like_pattern(self) -> str:
        token = self._peek()
        if token.kind != "string":
            raise self._unexpected()
        self._advance()
        _check_string_length(token.text)
        return like_regex(token.text)

    def _value_list(self) -> tuple[Value, ...]:
        self._expect_punct("(")
        values = [self._value()]
        while self._at_punct(","):
            self._advance()
            values.append(self._value())
        self._expect_punct(")")
        return tuple(values)

    def _value(self) -> Value:
        token = self._advance()
        if token.kind == "string":
            value = decode_string(token.text)
            _check_string_length(value)
            return StringLiteral(value)
        if token.kind == "number":
            is_integer = token.text.lstrip("+-").isdigit()
            return NumberLiteral(int(token.text) if is_integer else float(token.text))
        if token.kind == "date":
            return DateLiteral(soql_dates.parse_date(token.text))
        if token.kind == "datetime":
            return DateTimeLiteral(soql_dates.parse_datetime(token.text))
        if token.kind == "ident":
            return self._word_value(token)
        raise soql_errors.unexpected_token(token.shown())

    def _word_value(self, token: Token) -> Value:
        word = token.upper
        if word in ("TRUE", "FALSE"):
            return BooleanLiteral(word == "TRUE")
        if word == "NULL":
            return NullLiteral()
        if word in soql_dates.FIXED_RANGES:
            return RelativeDate(word)
        if word in soql_dates.COUNTED_RANGES:
            self._expect_punct(":")
            return RelativeDate(word, self._count_value())
        raise soql_errors.unexpected_token(token.shown())


def _check_string_length(value: str) -> None:
    if len(value) > MAX_WHERE_STRING_LENGTH:
        raise soql_errors.malformed(
            f"String literal of {len(value)} characters in the WHERE clause; the limit is"
            f" {MAX_WHERE_STRING_LENGTH}"
        )


def _check_select(select: tuple[SelectItem, ...]) -> None:
    """COUNT() stands alone, COUNT(field) has no plain fields beside it, no field twice."""
    counts = [item for item in select if isinstance(item, Count)]
    if any(count.field is None for count in counts) and len(select) > 1:
        raise soql_errors.malformed("COUNT() must be the only element in the SELECT list")
    plain = [item for item in select if isinstance(item, FieldPath)]
    if counts and (plain or any(isinstance(item, Subquery) for item in select)):
        shown = plain[0].text if plain else "subquery"
        raise soql_errors.malformed(f"Field must be grouped or aggregated: {shown}")
    seen: set[str] = set()
    for path in plain:
        key = path.text.lower()
        if key in seen:
            raise soql_errors.malformed(f"duplicate field selected: {path.text}")
        seen.add(key)
