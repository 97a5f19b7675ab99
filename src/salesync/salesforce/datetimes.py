"""Salesforce wire datetimes: parse ``2013-05-20T20:49:32.000+0000`` and format UTC parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# "+0000" offsets (no colon) are what Salesforce sends (API-FACTS §1 System fields);
# fromisoformat in 3.11 needs "+00:00", so the colon is put back first.
_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d{2})(\d{2})$")


def parse(text: str) -> datetime:
    """Parse a Salesforce datetime into a tz-aware UTC datetime.

    Accepts ``2013-05-20T20:49:32.000+0000``, ``...+00:00`` and ``...Z``.
    """
    normalized = text.strip()
    if normalized.endswith("Z"):
        normalized = normalized[:-1] + "+00:00"
    normalized = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", normalized)
    parsed = datetime.fromisoformat(normalized)
    if parsed.tzinfo is None:
        raise ValueError(f"Salesforce datetime without an offset: {text!r}")
    return parsed.astimezone(UTC)


def parse_optional(value: object) -> datetime | None:
    """Parse a datetime that may be missing or null."""
    return parse(str(value)) if value else None


def format_utc(moment: datetime) -> str:
    """Format a tz-aware datetime as ``2013-05-06T00:00:00+00:00`` (getUpdated/getDeleted).

    A naive datetime is refused: it would silently mean the server's local time
    (API-FACTS §7 "a naive datetime produces a malformed parameter").
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()
