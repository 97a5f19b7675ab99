"""Extract, merge and check salesync's message catalogs (a developer tool: ``scripts/i18n``).

``scripts/i18n`` extracts every id the code and the templates use into
``locales/messages.pot`` and merges it into each language's ``messages.po``;
``scripts/i18n --check`` (part of ``scripts/check``) and the catalog tests run
:func:`problems`. It works on a source checkout: the extraction reads ``babel.cfg`` at the
repository's root.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent.parent
LOCALES = PACKAGE / "locales"
TEMPLATE = LOCALES / "messages.pot"
#: The catalog folders of the translated languages (English is the source language).
LANGUAGES = ("ja", "zh_Hant", "de")
#: The functions whose literal arguments are catalog ids, and which arguments those are.
KEYWORDS: dict[str, tuple[int, ...] | None] = {
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
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
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


def update() -> int:
    """Extract the ids into messages.pot and merge them into every catalog; the id count."""
    template = extracted()
    write(template, TEMPLATE)
    for language in LANGUAGES:
        path = catalog_path(language)
        current = read(path, language) if path.exists() else Catalog(locale=language)
        current.update(template, no_fuzzy_matching=True, update_creation_date=False)
        current.obsolete.clear()
        write(current, path)
    return len(ids(template))


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(str(part) for part in value)
    return (str(value),) if value else ("",)


def stale_template() -> list[str]:
    """messages.pot differs from what the code and the templates use now."""
    stale = ids(extracted()) ^ ids(read(TEMPLATE))
    if stale:
        return [f"messages.pot is stale ({len(stale)} ids differ): run scripts/i18n"]
    return []


def message_problems(language: str, message: Message) -> list[str]:
    """A catalog entry that is fuzzy, untranslated, or changes its placeholders."""
    sources = _texts(message.id)
    targets = _texts(message.string)
    label = f"{language}: {sources[0]!r}"
    found: list[str] = []
    if message.fuzzy:
        found.append(f"{label} is fuzzy (unchecked)")
    if not all(targets):
        return [*found, f"{label} has no translation"]
    for target in targets:
        if placeholders(target) != placeholders(sources[-1]):
            found.append(f"{label} changes the placeholders: {target!r}")
    return found


def catalog_problems(language: str) -> list[str]:
    """The catalog lacks ids of the template, has an entry to fix, or does not compile."""
    template = read(TEMPLATE)
    catalog = read(catalog_path(language), language)
    found: list[str] = []
    missing = ids(template) - ids(catalog)
    if missing:
        found.append(f"{language}: {len(missing)} ids not merged: run scripts/i18n")
    for message in catalog:
        if message.id:
            found.extend(message_problems(language, message))
    try:
        write_mo(io.BytesIO(), catalog, use_fuzzy=False)
    except Exception as error:  # any failure to compile is the finding
        found.append(f"{language}: does not compile: {error}")
    return found


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        # wording.tr(…), i18n.gettext(…); a catalog object's .gettext(msgid) looks up a
        # value on purpose and is not a marker.
        if call.func.value.id in {"wording", "i18n"}:
            return call.func.attr
    return None


def dynamic_ids(package: Path = PACKAGE) -> list[str]:
    """Calls of tr/trn/gettext/ngettext/_ whose id is not a literal string: extraction cannot
    see such an id, so it would never be translated."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            if name not in KEYWORDS:
                continue
            positions = KEYWORDS[name] or (1,)
            for position in positions:
                argument = node.args[position - 1] if len(node.args) >= position else None
                if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                    where = f"{path.relative_to(package.parent.parent)}:{node.lineno}"
                    found.append(f"{where}: {name}() needs a literal string as argument {position}")
    return found


def problems() -> list[str]:
    """Everything ``scripts/i18n --check`` reports."""
    found = stale_template()
    for language in LANGUAGES:
        found.extend(catalog_problems(language))
    found.extend(dynamic_ids())
    return found
