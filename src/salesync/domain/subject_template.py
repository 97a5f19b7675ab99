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


#: Reply markers mail programs put before a subject, by language: Re (most), Aw (German),
#: Sv (Nordic), Vs (Finnish), Antw (Dutch), Odp (Polish), Rif (Italian), Réf (French),
#: Ynt (Turkish), ΑΠ/ΣΧΕΤ (Greek), Отв (Russian), 回复/回覆/答复 (Chinese), 返信 (Japanese),
#: 답장 (Korean).
#: A counter such as "Re[2]" or "Re(3)" and a full-width colon are accepted too.
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|odp|rif|réf|ynt|απ|σχετ|отв|回复|回覆|答复|返信|답장)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)


def strip_reply_prefixes(subject: str) -> str:
    """``subject`` without the reply markers in front of it ("Re: AW: Intro" -> "Intro")."""
    text = subject
    while True:
        shorter = _REPLY_PREFIX.sub("", text, count=1)
        if shorter == text:
            return text.strip()
        text = shorter


def reply_subject(email_subject: str | None) -> str:
    """Subject of a logged reply: ``Reply: <subject>``, template ignored (API-7, REPLY-4).

    Give it the subject of the email the rep sent; whatever reply markers it carries are
    removed first, so a reply to "Intro" never logs as "Reply: Re: Intro".
    """
    return fit_subject(f"Reply: {strip_reply_prefixes(email_subject or '')}")


def fit_subject(text: str) -> str:
    """Remove line breaks, trim, and cut to the 255-character Subject limit (API-6)."""
    one_line = _LINE_BREAKS.sub(" ", text).strip()
    return one_line[:SUBJECT_MAX_LENGTH].rstrip()
