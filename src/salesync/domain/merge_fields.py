"""Email template merge fields: ``{{first_name}}``, or with a fallback ``{{company|you}}``.

A small strict renderer rather than a template engine: a template can name only the fields
below, an unknown name refuses the whole template (with its name), and nothing else in the
text is interpreted, so a rep's template can never run code or read other data.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from salesync.domain.wording import tr

#: Merge field -> what it holds (shown on the templates page).
MERGE_FIELDS: Mapping[str, str] = {
    "first_name": tr("the person's first name"),
    "last_name": tr("the person's last name"),
    "full_name": tr("the person's first and last name"),
    "email": tr("the person's email address"),
    "company": tr("the person's company"),
    "title": tr("the person's job title"),
    "sender_name": tr("your name"),
    "sender_first_name": tr("your first name"),
    "sender_email": tr("your email address"),
}

_FIELD = re.compile(r"\{\{\s*(?P<name>[^{}|]*?)\s*(?:\|(?P<fallback>[^{}]*))?\}\}")


class UnknownMergeFields(ValueError):
    """The template names merge fields that do not exist."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__("unknown merge fields: " + ", ".join(names))
        self.names = names


@dataclasses.dataclass(frozen=True)
class MergeValues:
    """The values of one person and one sender."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    company: str = ""
    title: str = ""
    sender_name: str = ""
    sender_email: str = ""

    def as_fields(self) -> dict[str, str]:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "full_name": full,
            "email": self.email,
            "company": self.company,
            "title": self.title,
            "sender_name": self.sender_name,
            "sender_first_name": self.sender_name.split(" ")[0] if self.sender_name else "",
            "sender_email": self.sender_email,
        }


def unknown_fields(*texts: str) -> tuple[str, ...]:
    """Merge field names used in ``texts`` that do not exist, in order of first use."""
    unknown: list[str] = []
    for text in texts:
        for match in _FIELD.finditer(text):
            name = match["name"].lower()
            if name not in MERGE_FIELDS and match["name"] not in unknown:
                unknown.append(match["name"])
    return tuple(unknown)


def render(text: str, values: MergeValues) -> str:
    """``text`` with every merge field replaced; an empty value takes the field's fallback.

    Raises UnknownMergeFields naming every unknown field (nothing is rendered empty).
    """
    unknown = unknown_fields(text)
    if unknown:
        raise UnknownMergeFields(unknown)
    fields = values.as_fields()

    def replace(match: re.Match[str]) -> str:
        value = fields[match["name"].lower()]
        return value if value else (match["fallback"] or "").strip()

    return _FIELD.sub(replace, text)
