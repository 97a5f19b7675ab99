"""Salesforce record ids as SOQL compares them: 15 chars case-sensitive, 18 case-insensitive."""

from __future__ import annotations

# API-FACTS §2.13: the 3-char suffix encodes which of the first 15 chars are upper case.
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id_key(value: str) -> str | None:
    """The case-exact 15-char form of a 15- or 18-char id; None when it is no id."""
    if len(value) == 15 and value.isalnum() and value.isascii():
        return value
    if len(value) != 18 or not (value.isalnum() and value.isascii()):
        return None
    chars = list(value[:15])
    for chunk, suffix_char in enumerate(value[15:].upper()):
        bits = _SUFFIX_ALPHABET.find(suffix_char)
        if bits < 0:
            return None
        for offset in range(5):
            index = chunk * 5 + offset
            upper = bool(bits & (1 << offset))
            chars[index] = chars[index].upper() if upper else chars[index].lower()
    return "".join(chars)


def stored_id_key(value: str) -> str:
    """The 15-char key of an id the org stored: it is already in canonical case."""
    return value[:15]
