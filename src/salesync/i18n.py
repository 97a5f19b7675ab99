"""Catalog lookups: salesync's words in the reader's language (Babel message catalogs).

The catalogs are ``locales/<locale>/LC_MESSAGES/messages.po`` inside the package; each is read
once, when a reader first needs its language, and kept compiled in memory, so there is no
build step between editing a ``.po`` file and seeing it. ``scripts/i18n`` extracts the ids
into ``locales/messages.pot`` and merges them into the catalogs; ``scripts/check`` fails when
the template is stale, a catalog lacks a translation or does not compile.

The language of the text being produced is a context variable: the web edge sets it for each
request (:func:`use_language`); workers and the CLI leave it at English.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from salesync.domain.languages import DEFAULT_LANGUAGE, LANGUAGES, PSEUDO_LANGUAGE
from salesync.domain.wording import Translatable

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where it is used: workers import this module (salesync's own emails) but
# most never format a date or read a catalog, and Babel is a tenth of a second of start-up.

LOCALE_DIR = Path(__file__).parent / "locales"
TEMPLATE_FILE = LOCALE_DIR / "messages.pot"
DOMAIN = "messages"

_current_language: ContextVar[str | Callable[[], str]] = ContextVar(
    "salesync_language", default=DEFAULT_LANGUAGE
)


class Catalog(Protocol):
    def gettext(self, message: str, /) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


def catalog_locale(language: str) -> str:
    """The catalog folder of a language tag: ``zh-Hant`` → ``zh_Hant``."""
    return language.replace("-", "_")


def babel_locale(language: str) -> Locale:
    """The Babel locale that formats dates and numbers for a language tag."""
    from babel import Locale

    # With a territory, so that week starts follow the readers' countries (Sunday in the US,
    # Japan and Taiwan; Monday in Germany): a bare language gives Babel's world default.
    territories = {"en": "en_US", "ja": "ja_JP", "zh-Hant": "zh_Hant_TW", "de": "de_DE"}
    if language == PSEUDO_LANGUAGE:
        return Locale.parse("en_US")
    return Locale.parse(territories.get(language, catalog_locale(language)))


def first_weekday(language: str) -> int:
    """Where the reader's week starts: 0 Monday … 6 Sunday."""
    return int(babel_locale(language).first_week_day)


class _English:
    """English is the source language: the ids are the texts."""

    def gettext(self, message: str, /) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return singular if n == 1 else plural


class _Pseudo:
    """Every catalogued text in ⟦brackets⟧; text that is not in the catalogs stays bare."""

    def __init__(self, known: frozenset[str]) -> None:
        self._known = known

    def gettext(self, message: str, /) -> str:
        return f"⟦{message}⟧" if message in self._known else message

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        chosen = singular if n == 1 else plural
        return f"⟦{chosen}⟧" if singular in self._known else chosen


@functools.cache
def catalog_ids() -> frozenset[str]:
    """Every id of the catalogs (the singular of a plural entry)."""
    from babel.messages.pofile import read_po

    with TEMPLATE_FILE.open("rb") as template:
        return frozenset(
            str(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(template) if m.id
        )


@functools.cache
def catalog(language: str) -> Catalog:
    """The compiled catalog of a language; English and unknown tags read the ids themselves."""
    if language == PSEUDO_LANGUAGE:
        return _Pseudo(catalog_ids())
    if language not in LANGUAGES or language == DEFAULT_LANGUAGE:
        return _English()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = LOCALE_DIR / catalog_locale(language) / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        parsed = read_po(source, locale=catalog_locale(language))
    compiled = io.BytesIO()
    # Fuzzy entries are guesses a translator has not checked: never show them.
    write_mo(compiled, parsed, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def current_language() -> str:
    chosen = _current_language.get()
    return chosen() if callable(chosen) else chosen


@contextmanager
def deferred_language(resolve: Callable[[], str]) -> Iterator[None]:
    """Inside the block, the language is whatever ``resolve()`` says when text is made.

    A request's language depends on its caller, who is known only once the request's
    dependencies ran, some of them in worker threads whose context changes never come back:
    asking at each use sees the caller as soon as it is known.
    """
    token = _current_language.set(resolve)
    try:
        yield
    finally:
        _current_language.reset(token)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Produce text in ``language`` inside the block (one request, one email)."""
    token = _current_language.set(language)
    try:
        yield
    finally:
        _current_language.reset(token)


def _filled(text: str, params: dict[str, Any], fallback: str) -> str:
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        # A translation whose placeholders do not match (the catalog test forbids it) must
        # not turn a page into an error: show the English text instead.
        return fallback


def translate(text: str, language: str | None = None) -> str:
    """``text`` in ``language`` (default: the current one).

    A :class:`Translatable` is looked up by its id and filled with its values; a plain string
    is looked up as an id and, when the catalogs do not know it (a Salesforce message, a
    name), shown as it is.
    """
    chosen = catalog(language or current_language())
    if isinstance(text, Translatable):
        if text.plural is not None and text.quantity is not None:
            found = chosen.ngettext(text.msgid, text.plural, text.quantity)
        else:
            found = chosen.gettext(text.msgid)
        # A value can itself be one of our texts (a problem inside "Row 3: …"): translate it too.
        params = {
            name: translate(value, language) if isinstance(value, Translatable) else value
            for name, value in text.params.items()
        }
        return _filled(found, params, str(text))
    return chosen.gettext(text)


def gettext(message: str, /, **params: Any) -> str:
    """``message`` in the current language, its ``{name}`` placeholders filled."""
    return _filled(
        catalog(current_language()).gettext(message),
        params,
        message.format(**params) if params else message,
    )


def ngettext(singular: str, plural: str, count: int, /, **params: Any) -> str:
    """The singular or plural form for ``count`` in the current language."""
    values = {"count": count, **params}
    english = (singular if count == 1 else plural).format(**values)
    return _filled(catalog(current_language()).ngettext(singular, plural, count), values, english)
