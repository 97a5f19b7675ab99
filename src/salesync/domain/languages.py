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


#: A rep's stored language when they chose none: their browser's, then their team's.
AUTOMATIC = ""


def supported_language(tag: str | None) -> str | None:
    """The supported language a BCP 47 tag asks for (``de-AT`` → ``de``), or None.

    Chinese is Traditional when the tag says so (``zh-Hant``) or names Taiwan, Hong Kong or
    Macau (``zh-TW``); Simplified Chinese (``zh``, ``zh-CN``, ``zh-Hans-HK``) is not
    translated, so it is None and the next choice applies.
    """
    if not tag:
        return None
    cleaned = tag.strip().replace("_", "-").lower()
    if cleaned == PSEUDO_LANGUAGE.lower():
        return PSEUDO_LANGUAGE
    parts = cleaned.split("-")
    if not all(part.isascii() and part.isalnum() for part in parts):
        return None
    primary, rest = parts[0], set(parts[1:])
    if primary == "zh":
        if "hant" in rest or ("hans" not in rest and rest & _TRADITIONAL_REGIONS):
            return "zh-Hant"
        return None
    for known in LANGUAGES:
        if known == primary:
            return known
    return None


def _weight(parameters: str) -> float | None:
    """The q-value of one Accept-Language item (1 when absent), None when it is malformed."""
    weight = 1.0
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return None
            if not 0 <= weight <= 1:  # also refuses nan
                return None
    return weight


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (RFC 9110 §12.5.4).

    Equal weights keep the header's order; ``q=0`` and malformed weights drop the tag, and so
    does ``*`` (any language: it prefers none, so the team's default applies).
    """
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _, parameters = item.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        weight = _weight(parameters)
        if weight is not None and weight > 0:
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
