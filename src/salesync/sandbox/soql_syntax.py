"""The parsed form of a SOQL statement: frozen dataclasses without behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias


@dataclass(frozen=True)
class FieldPath:
    """A field or a dotted relationship path as written, e.g. ``Who.Name``."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Count:
    """``COUNT()`` (field None) or ``COUNT(field) [alias]``."""

    field: FieldPath | None
    alias: str | None = None


@dataclass(frozen=True)
class OrderItem:
    """One ``ORDER BY`` key."""

    field: FieldPath
    descending: bool = False
    #: SOQL sorts nulls first unless NULLS LAST is given, in both directions
    nulls_last: bool = False


@dataclass(frozen=True)
class StringLiteral:
    value: str


@dataclass(frozen=True)
class NumberLiteral:
    value: int | float


@dataclass(frozen=True)
class BooleanLiteral:
    value: bool


@dataclass(frozen=True)
class NullLiteral:
    pass


@dataclass(frozen=True)
class DateLiteral:
    """An unquoted ``YYYY-MM-DD``."""

    value: date


@dataclass(frozen=True)
class DateTimeLiteral:
    """An unquoted ISO datetime with a zone, held in UTC."""

    value: datetime


@dataclass(frozen=True)
class RelativeDate:
    """A relative date literal such as ``TODAY`` or ``LAST_N_DAYS:7``."""

    name: str
    amount: int | None = None


Value: TypeAlias = (
    StringLiteral
    | NumberLiteral
    | BooleanLiteral
    | NullLiteral
    | DateLiteral
    | DateTimeLiteral
    | RelativeDate
)


@dataclass(frozen=True)
class Comparison:
    """``field <op> value`` with op one of ``= != < <= > >=`` (``<>`` is read as ``!=``)."""

    field: FieldPath
    operator: str
    value: Value


@dataclass(frozen=True)
class InList:
    """``field [NOT] IN (values)``."""

    field: FieldPath
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Like:
    """``field LIKE 'pattern'``; ``regex`` is the pattern translated for ``re.fullmatch``."""

    field: FieldPath
    regex: str


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]


Condition: TypeAlias = Comparison | InList | Like | Not | And | Or


@dataclass(frozen=True)
class Subquery:
    """A child relationship subquery in the select list, e.g. ``(SELECT Id FROM Tasks)``."""

    relationship: str
    fields: tuple[FieldPath, ...]
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None


SelectItem: TypeAlias = FieldPath | Count | Subquery


@dataclass(frozen=True)
class Query:
    """A whole SELECT statement."""

    sobject: str
    select: tuple[SelectItem, ...]
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None

    @property
    def is_count(self) -> bool:
        """``SELECT COUNT() FROM ...``: the answer is a size, not records."""
        return any(isinstance(item, Count) and item.field is None for item in self.select)

    @property
    def is_aggregate(self) -> bool:
        """``SELECT COUNT(field) ...``: the answer is one AggregateResult record."""
        return any(isinstance(item, Count) and item.field is not None for item in self.select)
