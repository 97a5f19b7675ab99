"""Turn JSON field values from a request into stored Python values, with Salesforce's errors."""

from __future__ import annotations

import re
from typing import Any

from salesync.sandbox import errors, timefmt
from salesync.sandbox.errors import ApiError
from salesync.sandbox.ids import normalize_id
from salesync.sandbox.schema import TEXT_TYPES, FieldDef

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The value quoted in STRING_TOO_LONG messages is cut so error bodies stay small.
_QUOTE_LIMIT = 100


def coerce(definition: FieldDef, raw: Any) -> Any:
    """Return the stored form of ``raw`` for ``definition``; None stays None."""
    if raw is None:
        return None
    kind = definition.type
    if kind in ("id", "reference"):
        return _coerce_id(definition, raw)
    if kind in TEXT_TYPES:
        return _check_text(definition, _as_text(kind, raw))
    if kind == "boolean":
        return _coerce_boolean(raw)
    if kind == "int":
        return _coerce_int(raw)
    if kind in ("double", "currency"):
        return _coerce_number(raw)
    if kind == "date":
        return _coerce_temporal(raw, "date", timefmt.parse_date)
    return _coerce_temporal(raw, "datetime", timefmt.parse_datetime)


def _cannot_deserialize(kind: str, raw: Any) -> ApiError:
    # API-FACTS §2.3: a wrong type for a date/boolean is a JSON_PARSER_ERROR.
    token = "VALUE_STRING" if isinstance(raw, str) else type(raw).__name__.upper()
    return errors.json_parser_error(
        f"Cannot deserialize instance of {kind} from {token} value {raw} "
        "or request may be missing a required field"
    )


def _coerce_id(definition: FieldDef, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _cannot_deserialize("id", raw)
    if raw == "":
        return raw
    normalized = normalize_id(raw)
    if normalized is None:
        raise errors.malformed_id(definition.label, raw, definition.name)
    return normalized


def _as_text(kind: str, raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _cannot_deserialize("string", raw)
    return raw if isinstance(raw, str) else str(raw)


def _check_text(definition: FieldDef, value: str) -> str:
    if definition.length and len(value) > definition.length:
        shown = value if len(value) <= _QUOTE_LIMIT else value[:_QUOTE_LIMIT] + "..."
        raise ApiError(
            400,
            "STRING_TOO_LONG",
            f"{definition.label}: data value too large: {shown} (max length={definition.length})",
            [definition.name],
        )
    if definition.restricted and value not in {p.value for p in definition.picklist if p.active}:
        raise ApiError(
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{definition.label}: bad value for restricted picklist field: {value}",
            [definition.name],
        )
    if definition.type == "email" and value and not _EMAIL_RE.match(value):
        raise ApiError(
            400,
            "INVALID_EMAIL_ADDRESS",
            f"{definition.label}: invalid email address: {value}",
            [definition.name],
        )
    return value


def _coerce_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise _cannot_deserialize("boolean", raw)


def _coerce_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _cannot_deserialize("int", raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw)
    raise _cannot_deserialize("int", raw)


def _coerce_number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _cannot_deserialize("double", raw)
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            pass
    raise _cannot_deserialize("double", raw)


def _coerce_temporal(raw: Any, kind: str, parse: Any) -> Any:
    if not isinstance(raw, str):
        raise _cannot_deserialize(kind, raw)
    parsed = parse(raw)
    if parsed is None:
        raise _cannot_deserialize(kind, raw)
    return parsed


def to_wire(definition: FieldDef, value: Any) -> Any:
    """Format a stored value for a JSON response."""
    if value is None:
        return None
    if definition.type == "datetime":
        return timefmt.format_datetime(value)
    if definition.type == "date":
        return timefmt.format_date(value)
    return value
