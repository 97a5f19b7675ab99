"""The sandbox's SOQL engine: ``parse`` a statement once, ``execute`` it for a caller."""

from __future__ import annotations

from salesync.sandbox.soql_errors import ErrorCode, SoqlError
from salesync.sandbox.soql_execute import QueryResult, execute
from salesync.sandbox.soql_parser import parse
from salesync.sandbox.soql_source import FieldMeta, QuerySource
from salesync.sandbox.soql_syntax import Query

__all__ = [
    "ErrorCode",
    "FieldMeta",
    "Query",
    "QueryResult",
    "QuerySource",
    "SoqlError",
    "execute",
    "parse",
]
