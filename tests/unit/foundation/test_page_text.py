"""The helpers the page and browser tests read pages with (tests/page_text.py): which texts
count, what is data, and what each check reports."""

from __future__ import annotations

from babel.messages.catalog import Catalog

from tests.page_text import (
    Data,
    Text,
    english_leftovers,
    foreign_words,
    parse_page,
    pseudo_leftovers,
    visible_texts,
)

PAGE = """<!doctype html><html lang="en-XA"><head><title>⟦Diagnostics⟧ · salesync</title>
<style>.x { content: "styled" }</style></head><body>
<a class="brand" href="/" translate="no">sale<span>sync</span></a>
<nav aria-label="⟦Main⟧"><a href="/people">⟦People⟧</a><a href="/x">Forgotten link</a></nav>
<p>⟦Sent “%(subject)s” to %(address)s⟧</p>
<p>⟦Retried ⟦Email⟧ “Proposal” to ada@acme.test⟧ <code>NO_MATCHING_RECORD</code></p>
<img src="/a.png" alt="Chart"><br><input type="submit" value="⟦Save⟧"><input name="q" value="Ada">
<button type="button" title="Close this">×</button><pre>raw text</pre>
<script>const message = "never shown";</script>
<p>Ada Lovelace · 2026-03-02 16:30 · 3 · Mar 2 · 00T000000000001AAA · FIELD_ERROR</p>
<p>https://acme.my.salesforce.test/003 · Salesforce · Europe/Berlin</p>
</body></html>"""


def test_visible_texts_are_text_nodes_and_the_attributes_a_reader_meets() -> None:
    texts, lang = parse_page(PAGE)
    shown = [str(text) for text in texts]
    assert lang == "en-XA"
    assert "⟦Diagnostics⟧ · salesync" in shown  # the window title
    assert "[aria-label] ⟦Main⟧" in shown and "[alt] Chart" in shown
    assert "[value] ⟦Save⟧" in shown and "[title] Close this" in shown
    assert "[value] Ada" not in shown  # what a field holds is not the page's text
    assert "sale" not in shown and "sync" not in shown  # the brand is translate="no"
    for hidden in ("styled", "NO_MATCHING_RECORD", "raw text", "never shown"):
        assert not any(hidden in text.text for text in texts), hidden


def test_pseudo_leftovers_are_letters_outside_brackets_that_are_not_data() -> None:
    data = Data({"Ada Lovelace", "Proposal", "ada@acme.test"})
    found = pseudo_leftovers(visible_texts(PAGE), data)
    assert [str(text) for text in found] == ["Forgotten link", "[alt] Chart", "[title] Close this"]


def test_data_is_what_the_database_holds_and_the_kinds_of_value() -> None:
    data = Data({"Al"})
    # A value is a whole word, never a part of one.
    assert data.without_data("Al Also").split() == ["Also"]
    assert not any(c.isalpha() for c in data.without_data("Mon 02 Mar 2026 · 16:30 · 12 PM"))
    assert not any(c.isalpha() for c in data.without_data("2026年3月2日 16:30", "ja"))
    assert data.without_data("Fehler FIELD_ERROR bei 00T000000000001AAA", "de").split() == [
        "Fehler",
        "bei",
    ]


def test_english_leftovers_are_ids_shown_where_a_translation_exists() -> None:
    catalog = Catalog(locale="de")
    catalog.add("Settings", "Einstellungen")
    catalog.add("Sign out %(email)s", "%(email)s abmelden")
    catalog.add("Engagement", "Engagement")  # the same word in German: not a leftover
    catalog.add("Diagnostics", "")  # not translated yet: the catalog test reports it
    texts = [
        Text(value, "text")
        for value in ("Settings", "Einstellungen", "Sign out ada@acme.test", "Engagement")
    ] + [Text("Diagnostics", "text")]
    found = english_leftovers(texts, "de", catalog)
    assert [text.text for text in found] == ["Settings", "Sign out ada@acme.test"]


def test_foreign_words_are_neither_data_nor_in_the_languages_catalog() -> None:
    # English reads the template's ids: the main menu is in the catalogs, this sentence not.
    texts = [Text("Settings", "text"), Text("Sign out rex@example.com", "text")]
    # Made-up words, so that no catalog text ever contains them.
    texts.append(Text("Zorbly quaxes flimbers", "text"))
    found = foreign_words(texts, "en", Data())
    assert [(text.text, words) for text, words in found] == [
        ("Zorbly quaxes flimbers", "Zorbly quaxes flimbers")
    ]
