"""Compile a WHERE condition into a predicate over rows (closures built once per query)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from salesync.sandbox import soql_dates, soql_errors, soql_ids
from salesync.sandbox.soql_schema import ResolvedField, Row, Schema
from salesync.sandbox.soql_syntax import (
    And,
    BooleanLiteral,
    Comparison,
    Condition,
    DateLiteral,
    DateTimeLiteral,
    FieldPath,
    InList,
    Like,
    Not,
    NullLiteral,
    NumberLiteral,
    Or,
    RelativeDate,
    StringLiteral,
    Value,
)

Predicate = Callable[[Row], bool]
Key = Callable[[Row], Any]

_TEXT_TYPES = frozenset(
    {"string", "textarea", "picklist", "multipicklist", "combobox", "email", "url", "phone"}
)
_NUMBER_TYPES = {"int": "integer", "double": "double", "currency": "currency", "percent": "percent"}
_SOAP_TYPES = {"boolean": "boolean", "date": "date", "datetime": "dateTime"}


def field_kind(resolved: ResolvedField) -> str:
    """How values of a field compare: text, id, number, boolean, date or datetime."""
    field_type = resolved.field.type
    if field_type in ("id", "reference"):
        return "id"
    if field_type in _NUMBER_TYPES:
        return "number"
    if field_type in ("boolean", "date", "datetime"):
        return field_type
    return "text"


def sort_key(resolved: ResolvedField, getter: Key) -> Key:
    """Values as SOQL orders them: text case-insensitively (SOQL ORDER BY), others as is."""
    if field_kind(resolved) != "text":
        return getter
    return lambda row: _fold(getter(row))


@dataclass(frozen=True)
class _Range:
    """A relative date literal as the half-open interval [start, end)."""

    start: date | datetime
    end: date | datetime


_Operand = Any  # a comparable value in the field's key space, or a _Range


class FilterCompiler:
    """Turns conditions on one sObject into predicates."""

    def __init__(self, schema: Schema, sobject: str, now: datetime) -> None:
        self._schema = schema
        self._sobject = sobject
        self._now = now

    def compile(self, condition: Condition) -> Predicate:
        if isinstance(condition, Not):
            inner = self.compile(condition.operand)
            return lambda row: not inner(row)
        if isinstance(condition, And):
            parts = [self.compile(operand) for operand in condition.operands]
            return lambda row: all(part(row) for part in parts)
        if isinstance(condition, Or):
            parts = [self.compile(operand) for operand in condition.operands]
            return lambda row: any(part(row) for part in parts)
        if isinstance(condition, Comparison):
            return self._comparison(condition)
        if isinstance(condition, InList):
            return self._in_list(condition)
        return self._like(condition)

    def _field(self, path: FieldPath) -> tuple[ResolvedField, str, Key]:
        resolved = self._schema.resolve(self._sobject, path)
        if not resolved.field.filterable:
            raise soql_errors.not_filterable(resolved.field.name)
        kind = field_kind(resolved)
        return resolved, kind, _keyed(kind, self._schema.getter(resolved))

    def _comparison(self, comparison: Comparison) -> Predicate:
        resolved, kind, key = self._field(comparison.field)
        op = comparison.operator
        if _is_null(kind, comparison.value):
            return _null_test(op, key)
        operand = self._operand(resolved, kind, comparison.value)
        if operand is None:  # a string that is no id can equal no record
            return (lambda row: True) if op == "!=" else (lambda row: False)
        if isinstance(operand, _Range):
            return _range_test(op, key, operand)
        return _point_test(op, key, operand)

    def _in_list(self, in_list: InList) -> Predicate:
        resolved, kind, key = self._field(in_list.field)
        accepts_null = any(_is_null(kind, value) for value in in_list.values)
        operands = [
            self._operand(resolved, kind, value)
            for value in in_list.values
            if not _is_null(kind, value)
        ]
        points = {operand for operand in operands if not isinstance(operand, _Range)}
        ranges = [operand for operand in operands if isinstance(operand, _Range)]

        def contains(row: Row) -> bool:
            value = key(row)
            if value is None:
                return accepts_null
            return value in points or any(r.start <= value < r.end for r in ranges)

        if in_list.negated:
            return lambda row: not contains(row)
        return contains

    def _like(self, like: Like) -> Predicate:
        resolved, kind, _ = self._field(like.field)
        if kind not in ("text", "id"):
            raise soql_errors.SoqlError(
                "INVALID_FIELD",
                f"invalid operator on {resolved.field.type} field: {resolved.field.name}",
            )
        getter = self._schema.getter(resolved)
        match = re.compile(like.regex, re.IGNORECASE | re.DOTALL).fullmatch
        return lambda row: (value := getter(row)) is not None and match(value) is not None

    def _operand(self, resolved: ResolvedField, kind: str, value: Value) -> _Operand:
        """The literal in the field's key space; INVALID_FIELD when its type does not fit."""
        name = resolved.field.name
        if kind in ("text", "id"):
            if not isinstance(value, StringLiteral):
                raise soql_errors.wrong_value_type(name, "string", quoted=True)
            return _fold(value.value) if kind == "text" else soql_ids.id_key(value.value)
        if isinstance(value, RelativeDate) and kind in ("date", "datetime"):
            return self._range(kind, value)
        # SOQL: a date value filters date fields only, a dateTime value dateTime fields only
        if kind == "boolean" and isinstance(value, BooleanLiteral | NullLiteral):
            return isinstance(value, BooleanLiteral) and value.value
        if kind == "number" and isinstance(value, NumberLiteral):
            return value.value
        if kind == "date" and isinstance(value, DateLiteral):
            return value.value
        if kind == "datetime" and isinstance(value, DateTimeLiteral):
            return value.value
        soap_type = _SOAP_TYPES.get(kind) or _NUMBER_TYPES.get(resolved.field.type, "double")
        raise soql_errors.wrong_value_type(name, soap_type, quoted=False)

    def _range(self, kind: str, value: RelativeDate) -> _Range:
        if kind == "date":
            today = soql_dates.today_utc(self._now)
            return _Range(*soql_dates.day_range(value.name, value.amount, today))
        return _Range(*soql_dates.instant_range(value.name, value.amount, self._now))


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _keyed(kind: str, getter: Key) -> Key:
    """Read a field in the space its literals are compared in."""
    if kind == "text":
        # Salesforce stores an empty text as null
        return lambda row: ((value := getter(row)) and value.casefold()) or None
    if kind == "id":
        return lambda row: ((value := getter(row)) and soql_ids.stored_id_key(value)) or None
    if kind == "boolean":
        # SOQL "Use null in WHERE": a boolean is never null, null means false
        return lambda row: getter(row) is True
    return getter


def _is_null(kind: str, value: Value) -> bool:
    """A null literal compared as null; with booleans null stands for false instead."""
    return isinstance(value, NullLiteral) and kind != "boolean"


def _null_test(op: str, key: Key) -> Predicate:
    if op == "=":
        return lambda row: key(row) is None
    if op == "!=":
        return lambda row: key(row) is not None
    return lambda row: False


def _point_test(op: str, key: Key, operand: Any) -> Predicate:
    # SOQL differs from SQL here: a null field satisfies "!=" (and NOT IN)
    if op == "=":
        return lambda row: key(row) == operand
    if op == "!=":
        return lambda row: key(row) != operand
    ordered: dict[str, Predicate] = {
        "<": lambda row: (value := key(row)) is not None and value < operand,
        "<=": lambda row: (value := key(row)) is not None and value <= operand,
        ">": lambda row: (value := key(row)) is not None and value > operand,
        ">=": lambda row: (value := key(row)) is not None and value >= operand,
    }
    return ordered[op]


def _range_test(op: str, key: Key, bounds: _Range) -> Predicate:
    """Relative date literals cover a range: "=" means inside it, "<" before its start, etc."""
    start, end = bounds.start, bounds.end
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda value: start <= value < end,
        "!=": lambda value: not start <= value < end,
        "<": lambda value: value < start,
        "<=": lambda value: value < end,
        ">": lambda value: value >= end,
        ">=": lambda value: value >= start,
    }
    test = tests[op]
    if op == "!=":
        return lambda row: (value := key(row)) is None or test(value)
    return lambda row: (value := key(row)) is not None and test(value)
