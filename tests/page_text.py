"""What a page shows a reader, and which of it is not in the reader's language.

Shared by the page tests (``tests/integration/web/test_untranslated_text.py``) and the
browser tests: :func:`visible_texts` collects the texts of an HTML page (text nodes and the
attributes a reader sees or hears); :class:`Data` knows what on a page is data — names,
addresses, subjects, ids, numbers, dates — taken from the database the page was rendered
from, never from the page; then

* :func:`pseudo_leftovers` finds text outside the ⟦brackets⟧ of the pseudo-language
  ``en-XA`` that is not data: text that bypassed the catalogs;
* :func:`english_leftovers` finds text equal to an English catalog id that has a different
  translation: a lookup that never happened;
* :func:`foreign_words` finds words that are neither data nor part of any translation of
  the language's catalog.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from babel.messages.catalog import Catalog
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from salesync import catalogs
from salesync.domain.languages import LANGUAGES, PSEUDO_LANGUAGE
from salesync.i18n import babel_locale, catalog_locale
from salesync.store.tables import Base

#: Elements whose content is code or data, never prose.
SKIPPED_ELEMENTS = {"script", "style", "code", "pre"}
#: Attributes a reader sees (tooltips, placeholders) or hears (screen readers).
TEXT_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
BUTTON_INPUTS = {"submit", "button", "reset"}
VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip

#: The columns that hold what people typed or Salesforce sent: data, never translated. The
#: error messages of Diagnostics and the outbox are not among them: the fixtures' are
#: salesync's own words, which must reach the reader translated.
DATA_COLUMNS: dict[str, tuple[str, ...]] = {
    "teams": ("name", "subject_template", "external_id_field"),
    "users": ("email", "name", "time_zone"),
    "api_tokens": ("name",),
    "call_choices": ("label",),
    "email_templates": ("name", "subject", "body"),
    "mailbox_team_settings": ("host",),
    "mailbox_accounts": ("host", "username", "sent_folder", "inbox_folder"),
    "smtp_accounts": ("host", "username"),
    "people": ("first_name", "last_name", "email", "company", "title", "phone"),
    "salesforce_connections": (
        "login_url", "instance_url", "org_id", "sf_user_id", "sf_username", "sf_email",
    ),
    "salesforce_links": ("sf_id",),
    "sent_emails": ("from_address", "subject", "body_text"),
    "email_recipients": ("address",),
    "calls": ("notes",),
    "reminder_tasks": ("name", "details"),
    "opt_outs": ("address",),
    "engagement_settings": ("opt_out_field",),
    "email_engagement": ("last_clicked_url",),
}  # fmt: skip

#: Names of products, never translated (InMail is LinkedIn's message kind, a task type).
PRODUCT_NAMES = frozenset({"salesync", "Salesforce", "InMail"})
_PSEUDO_SPAN = re.compile(r"⟦[^⟦⟧]*⟧")
_DATA_PATTERNS = [
    re.compile(r"\b(?:https?|mailto):\S+", re.IGNORECASE),  # URLs
    re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"),  # email addresses
    re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b"),  # codes: NO_MATCHING_RECORD
    re.compile(r"\b(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\b"),  # Salesforce ids
    re.compile(r"\b[A-Za-z_]+/[A-Za-z_]+(?:/[A-Za-z_]+)?\b"),  # time zones: Europe/Berlin
    re.compile(r"\{\{\s*\w+\s*\}\}"),  # dynamic fields of a subject template: {{activity_type}}
    re.compile(r"\d+"),  # numbers, dates, times
]
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['’][A-Za-z]+)?")
_OTHER_RUN = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Text:
    """One text a reader meets on a page, and where."""

    text: str
    where: str  # "text", or the attribute: "title", "aria-label", "value"…

    def __str__(self) -> str:
        return self.text if self.where == "text" else f"[{self.where}] {self.text}"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[Text] = []
        self.lang: str | None = None
        self._open: list[tuple[str, bool]] = []  # (tag, hides its content)

    @property
    def _hidden(self) -> bool:
        return any(hides for _, hides in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html" and self.lang is None:
            self.lang = values.get("lang")
        hides = tag in SKIPPED_ELEMENTS or values.get("translate") == "no"
        if not (self._hidden or hides):
            for name in TEXT_ATTRIBUTES:
                self._add(values.get(name, ""), name)
            kind = values.get("type", "submit" if tag == "button" else "text").lower()
            # A <button>'s value is sent, never shown; an <input type=submit>'s is its label.
            if tag == "input" and kind in BUTTON_INPUTS:
                self._add(values.get("value", ""), "value")
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, hides))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._add(data, "text")

    def _add(self, text: str, where: str) -> None:
        text = _SPACES.sub(" ", text).strip()
        if text:
            self.texts.append(Text(text, where))


def parse_page(html: str) -> tuple[list[Text], str | None]:
    """The texts of a page and its ``<html lang>``."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.texts, collector.lang


def visible_texts(html: str) -> list[Text]:
    """The texts a reader meets on a page (see the module's docstring)."""
    return parse_page(html)[0]


# -- data ------------------------------------------------------------------------------------


def _word_sized(name: str) -> bool:
    """A one-letter Latin name ("M" for Monday) would eat letters of real words; a CJK day
    name (木) is one character and a whole word."""
    return len(name) > 1 or not name.isascii()


@functools.cache
def _date_words(language: str) -> frozenset[str]:
    """Month and day names and the words of date/time patterns: Babel's, not the catalogs'."""
    locale = babel_locale(language)
    words: set[str] = set()
    for names in (locale.months, locale.days):
        for context in names.values():
            for width in context.values():
                words.update(str(name) for name in width.values() if _word_sized(str(name)))
    # All periods: some locales write the flexible ones ("清晨", early morning) in times.
    for context in locale.day_periods.values():
        for width in context.values():
            words.update(str(name) for name in width.values() if _word_sized(str(name)))
    for formats in (locale.date_formats, locale.time_formats, locale.datetime_formats):
        for pattern in formats.values():
            text = str(getattr(pattern, "pattern", pattern))
            words.update(re.findall(r"'([^']+)'", text))
            words.update(re.findall(r"[^\x00-\x7f]+", re.sub(r"'[^']*'", "", text)))
    return frozenset(word for word in words if word.strip())


@dataclass
class Data:
    """What counts as data on a page: values from the database, and their kinds' patterns."""

    values: set[str] = field(default_factory=set)

    @classmethod
    def from_database(cls, session: Session, *extra: str) -> Data:
        """Every value of :data:`DATA_COLUMNS`, plus ``extra`` (say, a sandbox org's data)."""
        found: set[str] = set(extra) | set(LANGUAGES.values()) | {PSEUDO_LANGUAGE}
        found |= zoneinfo.available_timezones()
        tables: dict[str, Table] = {table.name: table for table in Base.metadata.sorted_tables}
        for name, columns in DATA_COLUMNS.items():
            table = tables[name]
            for row in session.execute(select(*(table.c[column] for column in columns))):
                for value in row:
                    if isinstance(value, str):
                        found.add(value)
                        found.update(line.strip() for line in value.splitlines())
        return cls({value for value in found if value.strip()})

    def with_values(self, values: Iterable[str]) -> Data:
        return Data(self.values | {value for value in values if value and value.strip()})

    def without_data(self, text: str, language: str = "en") -> str:
        """``text`` without its data: what is left must be in the reader's language."""
        text = _values_pattern(frozenset(self.values) | PRODUCT_NAMES, language).sub(" ", text)
        for pattern in _DATA_PATTERNS:
            text = pattern.sub(" ", text)
        return text


@functools.lru_cache(maxsize=16)
def _values_pattern(values: frozenset[str], language: str) -> re.Pattern[str]:
    """Any of ``values`` or of the language's date words, longest first, as a whole word (a
    short name must not eat the letters of a longer word)."""
    every = sorted(values | _date_words(language), key=len, reverse=True)
    return re.compile("|".join(_whole(value) for value in every))


def _whole(value: str) -> str:
    before = r"(?<![A-Za-z0-9])" if value[0].isascii() and value[0].isalnum() else ""
    after = r"(?![A-Za-z0-9])" if value[-1].isascii() and value[-1].isalnum() else ""
    return before + re.escape(value) + after


# -- the checks ------------------------------------------------------------------------------


def without_pseudo_spans(text: str) -> str:
    """``text`` without its ⟦catalog texts⟧ (innermost first: values can be catalog texts)."""
    while True:
        shorter = _PSEUDO_SPAN.sub(" ", text)
        if shorter == text:
            return text
        text = shorter


def _outside_brackets(text: str, depth: int) -> tuple[str, int]:
    """The part of ``text`` outside ⟦brackets⟧, given ``depth`` brackets already open."""
    outside = []
    for char in text:
        if char == "⟦":
            depth += 1
        elif char == "⟧":
            depth = max(0, depth - 1)
        elif depth == 0:
            outside.append(char)
            continue
        outside.append(" ")
    return "".join(outside), depth


def pseudo_leftovers(texts: Iterable[Text], data: Data) -> list[Text]:
    """Texts of an ``en-XA`` page with letters outside the brackets that are not data.

    A catalog text can hold markup (a link, a <strong>), so its brackets open in one text
    node and close in a later one: the nodes between are inside it.
    """
    found = []
    depth = 0
    for text in texts:
        outside, after = _outside_brackets(text.text, depth if text.where == "text" else 0)
        if text.where == "text":
            depth = after
        if _LETTER.search(data.without_data(outside)):
            found.append(text)
    return found


def read_catalog(language: str) -> Catalog:
    return catalogs.read(catalogs.catalog_path(catalog_locale(language)), catalog_locale(language))


def _pattern_of(msgid: str) -> re.Pattern[str]:
    """A catalog id as a pattern: its placeholders match any value."""
    parts = re.split(catalogs.PLACEHOLDER, msgid)
    return re.compile(".+?".join(re.escape(_SPACES.sub(" ", part)) for part in parts))


def translated_ids(catalog: Catalog) -> tuple[re.Pattern[str], ...]:
    """The English ids of ``catalog`` that it translates differently, as patterns."""
    patterns = []
    for message in catalog:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        targets = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if not all(targets):
            continue  # untranslated: the catalog test reports it
        for source in sources:
            if all(_SPACES.sub(" ", str(t)) != _SPACES.sub(" ", str(source)) for t in targets):
                patterns.append(_pattern_of(str(source)))
    return tuple(patterns)


@functools.cache
def _translated_ids(language: str) -> tuple[re.Pattern[str], ...]:
    return translated_ids(read_catalog(language))


def english_leftovers(
    texts: Iterable[Text], language: str, catalog: Catalog | None = None
) -> list[Text]:
    """Texts equal to an English catalog id that the ``language`` catalog translates
    differently: the page showed the id instead of looking it up."""
    if language == "en":
        return []  # English is the source language: its texts are the ids
    patterns = _translated_ids(language) if catalog is None else translated_ids(catalog)
    return [text for text in texts if any(p.fullmatch(text.text) for p in patterns)]


@functools.cache
def _vocabulary(language: str) -> tuple[frozenset[str], str]:
    """The Latin words and the text of every translation of ``language`` (English: the ids)."""
    if language == "en":
        texts = [
            str(part)
            for message in catalogs.read(catalogs.TEMPLATE)
            if message.id
            for part in (message.id if isinstance(message.id, (tuple, list)) else (message.id,))
        ]
    else:
        texts = [
            str(part)
            for message in read_catalog(language)
            if message.id
            for part in (
                message.string if isinstance(message.string, (tuple, list)) else (message.string,)
            )
            if part
        ]
    joined = "\n".join(catalogs.PLACEHOLDER.sub(" ", text) for text in texts)
    return frozenset(word.casefold() for word in _LATIN_WORD.findall(joined)), joined


def _unknown_parts(text: str, language: str) -> Iterator[str]:
    words, joined = _vocabulary(language)
    for word in _LATIN_WORD.findall(text):
        if word.casefold() not in words:
            yield word
    for run in _OTHER_RUN.findall(text):
        if _LETTER.search(run) and run not in joined:
            yield run


def foreign_words(texts: Iterable[Text], language: str, data: Data) -> list[tuple[Text, str]]:
    """Texts with a word that is neither data nor part of a translation of ``language``:
    text the catalogs never saw, or saw but nobody translated yet."""
    found = []
    for text in texts:
        unknown = list(_unknown_parts(data.without_data(text.text, language), language))
        if unknown:
            found.append((text, " ".join(unknown)))
    return found
