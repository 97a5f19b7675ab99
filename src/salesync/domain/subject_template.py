"""The admin's Activity Detail Customization template that makes Task subjects (API-6/7)."""

from __future__ import annotations

import re
from collections.abc import Mapping

#: The template used until an admin saves another one (DESIGN §3).
DEFAULT_TEMPLATE = "{{activity_type}}: {{activity_subject}}"
#: Salesforce limit on Task.Subject; longer output is cut (API-6, API-FACTS §1).
SUBJECT_MAX_LENGTH = 255
#: The dynamic fields a template may use (API-6).
KNOWN_FIELDS = frozenset(
    {
        "activity_type",
        "activity_subject",
        "sales_campaign_name",
        "sales_campaign_day",
        "sales_campaign_step",
        "call_outcome",
        "call_reason",
    }
)

_FIELD = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def validate_template(text: str) -> tuple[str, ...]:
    """Return the unknown dynamic fields in ``text`` (lower-cased, in order, no repeats)."""
    unknown: list[str] = []
    for match in _FIELD.finditer(text):
        name = match.group(1).lower()
        if name not in KNOWN_FIELDS and name not in unknown:
            unknown.append(name)
    return tuple(unknown)


def uses_activity_subject(template: str) -> bool:
    """Tell whether the template shows the activity subject; only then do subject edits
    of reminder tasks reach Salesforce (TASK-5)."""
    return any(match.group(1).lower() == "activity_subject" for match in _FIELD.finditer(template))


def render_subject(template: str, values: Mapping[str, str | None]) -> str:
    """Render a Task subject from ``template`` and the activity's field ``values``.

    Field names match case-insensitively (``{{Activity_type}}`` works, API-6). A known field
    with no value renders as nothing; an unknown field is kept as written so a typo shows.
    Line breaks become single spaces (API-6: not supported), and the result is cut to 255.
    """
    by_name = {key.lower(): value for key, value in values.items()}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        if name not in KNOWN_FIELDS:
            return match.group(0)
        return by_name.get(name) or ""

    return fit_subject(_FIELD.sub(substitute, template))


def reply_subject(email_subject: str | None) -> str:
    """Subject of a logged reply: ``Reply: <email subject>``, template ignored (API-7)."""
    return fit_subject(f"Reply: {email_subject or ''}")


def fit_subject(text: str) -> str:
    """Remove line breaks, trim, and cut to the 255-character Subject limit (API-6)."""
    one_line = _LINE_BREAKS.sub(" ", text).strip()
    return one_line[:SUBJECT_MAX_LENGTH].rstrip()
