"""Which language a reader sees: a tag's supported language, Accept-Language, the choice."""

from __future__ import annotations

import pytest

from salesync.domain.languages import (
    AUTOMATIC,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    PSEUDO_LANGUAGE,
    choose_language,
    parse_accept_language,
    supported_language,
)


def test_the_languages_are_named_in_themselves() -> None:
    assert LANGUAGES == {"en": "English", "ja": "日本語", "zh-Hant": "繁體中文", "de": "Deutsch"}
    assert DEFAULT_LANGUAGE == "en" and AUTOMATIC == ""


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("ja", "ja"),
        ("ja-JP", "ja"),
        ("de", "de"),
        ("de-AT", "de"),
        ("de-CH", "de"),
        ("de_DE", "de"),
        (" de-DE ", "de"),
        ("zh-Hant", "zh-Hant"),
        ("zh-hant", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-Hant-CN", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh_TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-CN", None),
        ("zh-SG", None),
        ("zh", None),
        ("zh-Hans", None),
        ("zh-Hans-HK", None),
        ("en-XA", PSEUDO_LANGUAGE),
        ("en-xa", PSEUDO_LANGUAGE),
        ("fr", None),
        ("pt-BR", None),
        ("jav", None),
        ("deu", None),
        ("*", None),
        ("", None),
        (None, None),
        ("   ", None),
        ("de AT", None),
        ("de-A;T", None),
        ("日本語", None),
        ("-", None),
    ],
)
def test_a_tag_reads_the_supported_language_it_asks_for(
    tag: str | None, expected: str | None
) -> None:
    assert supported_language(tag) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, []),
        ("", []),
        ("ja", ["ja"]),
        ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", ["ja-JP", "ja", "en-US", "en"]),
        ("en;q=0.5, de", ["de", "en"]),
        ("fr;q=0.9, de;q=0.9, ja;q=0.9", ["fr", "de", "ja"]),  # equal weights keep the order
        ("de;q=0, en", ["en"]),  # q=0 means "not this one"
        ("de;q=0.000, en", ["en"]),
        ("de;q=1.0", ["de"]),
        ("de;Q=0.3, ja;q=0.4", ["ja", "de"]),
        ("de ; q = 0.3 , ja", ["ja", "de"]),
        ("*", []),
        ("*;q=0.1, ja", ["ja"]),
        ("de;q=abc, ja", ["ja"]),  # a malformed weight drops the tag
        ("de;q=1.5, ja", ["ja"]),
        ("de;q=-1, ja", ["ja"]),
        ("de;q=nan, ja", ["ja"]),
        ("de;q=inf, ja", ["ja"]),
        (",,, ;q=1, ja", ["ja"]),
        ("zh-TW;q=0.8, zh-CN", ["zh-CN", "zh-TW"]),
    ],
)
def test_accept_language_lists_the_tags_most_wanted_first(
    header: str | None, expected: list[str]
) -> None:
    assert parse_accept_language(header) == expected


def test_a_huge_header_is_read_only_in_part() -> None:
    header = ", ".join(["fr"] * 40 + ["ja"])
    assert parse_accept_language(header) == ["fr"] * 32
    assert choose_language(None, header, None) == DEFAULT_LANGUAGE


@pytest.mark.parametrize(
    ("chosen", "header", "team", "expected"),
    [
        # the reader's own choice wins over everything
        ("ja", "de", "zh-Hant", "ja"),
        ("zh-Hant", None, "de", "zh-Hant"),
        ("en", "ja", "de", "en"),
        (PSEUDO_LANGUAGE, "ja", "de", PSEUDO_LANGUAGE),
        # automatic ("" or nothing): the browser's first supported language
        ("", "fr, de-AT;q=0.9, ja;q=0.8", "en", "de"),
        (None, "zh-CN, zh-TW;q=0.5", "de", "zh-Hant"),
        ("", "zh-HK", "en", "zh-Hant"),
        ("", "ja;q=0.2, de;q=0.7", "en", "de"),
        # the browser asks for nothing salesync has: the team's default
        ("", "fr, pt-BR;q=0.5", "de", "de"),
        ("", "zh-CN, zh", "ja", "ja"),
        ("", "*", "zh-Hant", "zh-Hant"),
        ("", None, "ja", "ja"),
        ("", "ja;q=0", "de", "de"),
        # nothing anywhere, or rubbish: English
        ("", None, None, "en"),
        ("", "fr", "", "en"),
        ("xx", "fr", "klingon", "en"),
        ("", "garbage;;;q==", None, "en"),
    ],
)
def test_the_choice_goes_reader_then_browser_then_team_then_english(
    chosen: str | None, header: str | None, team: str | None, expected: str
) -> None:
    assert choose_language(chosen, header, team) == expected
