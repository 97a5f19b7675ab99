"""Extract, merge and check salesync's message catalogs (run through scripts/i18n)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "salesync"
LOCALES = PACKAGE / "locales"
TEMPLATE = LOCALES / "messages.pot"
LANGUAGES = ("ja", "zh_Hant", "de")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "tr": None,
    "trn": (1, 2),
}
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}|%\([a-z_][a-z0-9_]*\)s", re.IGNORECASE)


def extracted() -> Catalog:
    """Every id the code and the templates use, as a fresh template catalog."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(project="salesync", copyright_holder="salesync contributors")
    if TEMPLATE.exists():
        # Keep the header's date, so a run that changes nothing changes no file.
        template.creation_date = read(TEMPLATE).creation_date
    for _filename, _lineno, message, comments, context in extract_from_dir(
        PACKAGE, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, auto_comments=comments, context=context)
    return template


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(target, catalog, width=100, no_location=True, sort_output=True, omit_header=False)


def catalog_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


def update() -> None:
    template = extracted()
    write(template, TEMPLATE)
    for language in LANGUAGES:
        path = catalog_path(language)
        current = read(path, language) if path.exists() else Catalog(locale=language)
        current.update(template, no_fuzzy_matching=True, update_creation_date=False)
        current.obsolete.clear()
        write(current, path)
    print(f"{len(ids(template))} ids in {TEMPLATE.relative_to(ROOT)}")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def problems() -> list[str]:
    found: list[str] = []
    template = read(TEMPLATE)
    stale = ids(extracted()) ^ ids(template)
    if stale:
        found.append(f"messages.pot is stale ({len(stale)} ids differ): run scripts/i18n")
    for language in LANGUAGES:
        catalog = read(catalog_path(language), language)
        missing = ids(template) - ids(catalog)
        if missing:
            found.append(f"{language}: {len(missing)} ids not merged: run scripts/i18n")
        for message in catalog:
            if not message.id:
                continue
            sources = message.id if isinstance(message.id, tuple) else (message.id,)
            targets = message.string if isinstance(message.string, tuple) else (message.string,)
            label = f"{language}: {sources[0]!r}"
            if message.fuzzy:
                found.append(f"{label} is fuzzy (unchecked)")
            if not all(targets):
                found.append(f"{label} has no translation")
                continue
            for target in targets:
                if placeholders(target) != placeholders(sources[-1]):
                    found.append(f"{label} changes the placeholders: {target!r}")
        write_mo(io.BytesIO(), catalog, use_fuzzy=False)
    return found


def main(arguments: list[str]) -> int:
    if arguments == ["--check"]:
        found = problems()
        for problem in found[:50]:
            print(problem, file=sys.stderr)
        if len(found) > 50:
            print(f"… and {len(found) - 50} more", file=sys.stderr)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
