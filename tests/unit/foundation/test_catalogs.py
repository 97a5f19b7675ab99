"""The message catalogs: what ``scripts/i18n --check`` checks, run in-process so a failing
check shows up as a failing test, plus the rules the checks themselves rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Message

from salesync import catalogs


def test_the_template_holds_exactly_the_ids_the_code_and_templates_use() -> None:
    assert catalogs.stale_template() == []


@pytest.mark.parametrize("language", catalogs.LANGUAGES)
def test_every_id_is_translated_unfuzzy_keeps_its_placeholders_and_compiles(
    language: str,
) -> None:
    found = catalogs.catalog_problems(language)
    assert found == [], "\n".join(found)


def test_every_marked_text_in_the_code_is_a_literal_the_extraction_sees() -> None:
    found = catalogs.dynamic_ids()
    assert found == [], "\n".join(found)


def test_the_check_reports_an_untranslated_a_fuzzy_and_a_broken_entry() -> None:
    assert catalogs.message_problems("de", Message("Hello {name}", "")) == [
        "de: 'Hello {name}' has no translation"
    ]
    fuzzy = Message("Users", "Benutzer", flags={"fuzzy"})
    assert catalogs.message_problems("de", fuzzy) == ["de: 'Users' is fuzzy (unchecked)"]
    broken = Message("Hello {name}", "Hallo {nam}")
    assert catalogs.message_problems("de", broken) == [
        "de: 'Hello {name}' changes the placeholders: 'Hallo {nam}'"
    ]
    plural = Message(("{count} item", "{count} items"), ("{count} Eintrag", ""))
    assert catalogs.message_problems("de", plural) == ["de: '{count} item' has no translation"]
    templated = Message("Sign out %(email)s", "%(email)s abmelden")
    assert catalogs.message_problems("de", templated) == []


def test_the_check_finds_ids_the_extraction_cannot_see(tmp_path: Path) -> None:
    package = tmp_path / "src" / "salesync"
    package.mkdir(parents=True)
    (package / "module.py").write_text(
        "from salesync import i18n\n"
        "from salesync.domain import wording\n"
        "from salesync.domain.wording import tr, trn\n"
        "name = 'x'\n"
        "ok = tr('Saved {name}.', name=name)\n"
        "ok_plural = trn('{count} item', '{count} items', 2)\n"
        "bad = tr(name)\n"
        "bad_plural = trn('{count} item', f'{name} items', 2)\n"
        "bad_module = wording.tr('Saved ' + name)\n"
        "bad_gettext = i18n.gettext(name)\n"
        "lookup = i18n.catalog('de').gettext(name)  # a lookup of a value, not a marker\n",
        encoding="utf-8",
    )
    assert catalogs.dynamic_ids(package) == [
        "src/salesync/module.py:7: tr() needs a literal string as argument 1",
        "src/salesync/module.py:8: trn() needs a literal string as argument 2",
        "src/salesync/module.py:9: tr() needs a literal string as argument 1",
        "src/salesync/module.py:10: gettext() needs a literal string as argument 1",
    ]
