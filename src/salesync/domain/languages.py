"""Which language a reader sees: their own choice, else their browser's, else the team's."""

from __future__ import annotations

#: The languages salesync's pages, messages and Diagnostics come in (BCP 47 tag → own name).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "ja": "日本語",
    "zh-Hant": "繁體中文",
    "de": "Deutsch",
}

#: A pseudo-language for translators and tests: every catalog text shown in ⟦brackets⟧, so
#: text that bypasses the catalogs stands out. Accepted everywhere, offered nowhere.
PSEUDO_LANGUAGE = "en-XA"

DEFAULT_LANGUAGE = "en"

# Chinese tags that mean Traditional script (Taiwan, Hong Kong, Macau) without saying so.
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def supported_language(tag: str | None) -> str | None:
    """The supported language a BCP 47 tag asks for (``de-AT`` → ``de``), or None."""
    if not tag:
        return None
    parts = tag.strip().replace("_", "-").lower().split("-")
    if tag.strip().lower() == PSEUDO_LANGUAGE.lower():
        return PSEUDO_LANGUAGE
    primary = parts[0]
    if primary == "zh":
        rest = set(parts[1:])
        if "hant" in rest or rest & _TRADITIONAL_REGIONS:
            return "zh-Hant"
        return None  # Simplified Chinese is not translated: fall through to the next choice
    for known in LANGUAGES:
        if known == primary:
            return known
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (RFC 9110 §12.5.4)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _, parameters = item.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            weighted.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose_language(
    chosen: str | None, accept_language: str | None, team_default: str | None
) -> str:
    """The reader's own choice, else the first supported browser language, else the team's."""
    for candidate in [chosen, *parse_accept_language(accept_language), team_default]:
        language = supported_language(candidate)
        if language is not None:
            return language
    return DEFAULT_LANGUAGE
