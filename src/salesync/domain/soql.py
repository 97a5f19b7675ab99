"""Build SOQL safely: quote values by Salesforce's escaping rules and split long IN lists.

Escaping follows "Quoted String Escape Sequences" (API-FACTS §2.10,
https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm):
inside ``'...'`` the characters ``\\ ' " newline CR tab backspace formfeed`` are written
``\\\\ \\' \\" \\n \\r \\t \\b \\f``; in a LIKE pattern ``%`` and ``_`` are also written
``\\%`` and ``\\_``. Any other backslash is a Salesforce error, so nothing else is escaped.
The shape follows simple-salesforce's ``format.py``: one table per rule, one function per type.
"""

from __future__ import annotations

import math
import string
import urllib.parse
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

#: String-literal escapes (API-FACTS §2.10).
SOQL_ESCAPES: dict[int, str] = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
    }
)
#: LIKE-pattern escapes: the string escapes plus the two wildcards (API-FACTS §2.10).
SOQL_LIKE_ESCAPES: dict[int, str] = {**SOQL_ESCAPES, **str.maketrans({"%": "\\%", "_": "\\_"})}

#: Default cap on a query URL's length, percent-encoded. Salesforce answers 414 when the URI
#: alone is too long and 431 when URI plus headers pass 16,384 bytes (API-FACTS §2.10, KB
#: 000386264); half of that leaves room for the Authorization and other headers, and stays under
#: the 8 KiB request-line buffers common in proxies and load balancers on the way.
DEFAULT_MAX_URI_CHARS = 8_000
#: Part of the budget kept for ``https://<my-domain>/services/data/vNN.N/queryAll/?q=``.
URI_ALLOWANCE = 256

_SOQL_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def escape(value: str) -> str:
    """Escape ``value`` for use inside a SOQL string literal (without the quotes)."""
    return value.translate(SOQL_ESCAPES)


def escape_like(value: str) -> str:
    """Escape ``value`` for use inside a LIKE pattern (without quotes or wildcards)."""
    return value.translate(SOQL_LIKE_ESCAPES)


def quote(value: object) -> str:
    """Render one Python value as a SOQL literal.

    Parameters
    ----------
    value:
        ``None``, ``bool``, ``int``, ``float``, ``Decimal``, ``str``, ``date``, a tz-aware
        ``datetime``, or a list/tuple/set/frozenset of those (rendered as an IN list).

    Returns
    -------
    str
        The literal: ``null``, ``true``, ``42``, ``'it\\'s'``, ``2024-01-31``,
        ``2024-01-01T00:00:00Z``, ``('a','b')``.

    Raises
    ------
    ValueError
        For a naive datetime, a non-finite number, or an empty or nested list.
    TypeError
        For any other type.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _quote_number(value)
    if isinstance(value, str):
        return "'" + escape(value) + "'"
    if isinstance(value, datetime):
        return _quote_datetime(value)
    if isinstance(value, date):
        # Date literals are unquoted ISO dates (API-FACTS §2.10).
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return _quote_list(value)
    raise TypeError(f"unquotable value type: {type(value).__name__}")


def _quote_number(value: float | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"SOQL has no literal for {value!r}")
    decimal = Decimal(repr(value)) if isinstance(value, float) else value
    if not decimal.is_finite():
        raise ValueError(f"SOQL has no literal for {value!r}")
    # SOQL has no exponent notation, so 1e+20 must be written out.
    return format(decimal, "f")


def _quote_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime (UTC is assumed nowhere)")
    # Datetime literals are unquoted UTC with a Z (API-FACTS §2.10). Microseconds are dropped,
    # which widens ">=" and ">" cursor filters by under a second: safe for change polling.
    return value.astimezone(UTC).strftime(_SOQL_DATETIME_FORMAT)


def _quote_list(values: Iterable[object]) -> str:
    items = list(values)
    if not items:
        raise ValueError("an IN list needs at least one value (SOQL rejects '()')")
    for item in items:
        if isinstance(item, list | tuple | set | frozenset):
            raise ValueError("nested lists are not SOQL literals")
    return "(" + ",".join(quote(item) for item in items) + ")"


class _SoqlFormatter(string.Formatter):
    """``str.format`` whose fields are SOQL literals unless marked ``like`` or ``literal``."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec:
            return quote(value)
        if format_spec == "like":
            return escape_like(_require_str(value, "like"))
        if format_spec == "literal":
            return _require_str(value, "literal")
        raise ValueError(f"unknown SOQL format spec {format_spec!r} (use '', 'like' or 'literal')")


def _require_str(value: object, spec: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{{:{spec}}} takes a str, got {type(value).__name__}")
    return value


_FORMATTER = _SoqlFormatter()


def format_soql(template: str, *args: object, **kwargs: object) -> str:
    """Fill a ``str.format`` template with quoted SOQL literals.

    ``{}`` quotes the value (:func:`quote`); ``{:like}`` escapes a str for a LIKE pattern
    without adding quotes (write ``'%{:like}%'``); ``{:literal}`` inserts a str untouched
    (field or object names the code chose, never user input).

    Example: ``format_soql("SELECT Id FROM Lead WHERE Email IN {}", ["a@x.com", "b@x.com"])``.
    """
    return _FORMATTER.vformat(template, args, kwargs)


def encoded_length(text: str) -> int:
    """Length of ``text`` once percent-encoded in a URL query (every reserved byte as ``%XX``)."""
    return len(urllib.parse.quote(text, safe=""))


def chunk_in_clause(
    template: str,
    values: Iterable[object],
    *,
    max_uri_chars: int = DEFAULT_MAX_URI_CHARS,
    max_values: int | None = None,
    **kwargs: object,
) -> list[str]:
    """Split a query with a long IN list into queries whose URLs stay under ``max_uri_chars``.

    Parameters
    ----------
    template:
        A :func:`format_soql` template with exactly one positional ``{}`` field, which receives
        each chunk as an IN list; keyword fields are filled from ``kwargs``.
    values:
        The IN values; duplicates are dropped, order is kept.
    max_uri_chars:
        Budget for the whole query URL, percent-encoded; :data:`URI_ALLOWANCE` of it is kept for
        scheme, host and path. Raise it for queries sent inside a Composite body, where only
        the 100,000-character SOQL limit applies (API-FACTS §2.10).
    max_values:
        Optional cap on values per query (e.g. 500 for junction ids, API-FACTS §2.10).

    Returns
    -------
    list[str]
        The queries, in value order; empty when ``values`` is empty.
    """
    _check_single_positional_field(template)
    unique = list(dict.fromkeys(values))
    budget = max_uri_chars - URI_ALLOWANCE
    chunks: list[list[object]] = []
    length = 0
    for value in unique:
        item = encoded_length(quote(value))
        if chunks and _fits(chunks[-1], length + encoded_length(",") + item, budget, max_values):
            chunks[-1].append(value)
            length += encoded_length(",") + item
            continue
        length = encoded_length(format_soql(template, (value,), **kwargs))
        if length > budget:
            raise ValueError(f"one value alone makes the query longer than {budget} characters")
        chunks.append([value])
    return [format_soql(template, tuple(chunk), **kwargs) for chunk in chunks]


def _fits(chunk: Sequence[object], new_length: int, budget: int, max_values: int | None) -> bool:
    return new_length <= budget and (max_values is None or len(chunk) < max_values)


def _check_single_positional_field(template: str) -> None:
    fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    positional = [name for name in fields if name in ("", "0")]
    if len(positional) != 1:
        raise ValueError("the template needs exactly one positional {} field for the IN list")
