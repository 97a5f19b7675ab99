"""Salesforce record ids: 15/18-character forms, checksums and key prefixes."""

from __future__ import annotations

import functools
import re

# API-FACTS §2.13: ids are 15 characters (case-sensitive) or 18 (case-insensitive).
_ID_PATTERN = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
# API-FACTS §2.13: each 5-bit case map indexes this alphabet.
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

#: Key prefix (first three characters) to sObject name. API-FACTS §2.13.
KEY_PREFIXES = {
    "00T": "Task",
    "003": "Contact",
    "00Q": "Lead",
    "001": "Account",
    "006": "Opportunity",
    "005": "User",
    "00k": "OpportunityContactRole",
    "02s": "EmailMessage",
}


def to_18(id15: str) -> str:
    """Return the 18-character form of a 15-character id (appends the case checksum).

    Raises ValueError when ``id15`` is not 15 alphanumeric characters.
    """
    if len(id15) != 15 or not _ID_PATTERN.fullmatch(id15):
        raise ValueError(f"not a 15-character Salesforce id: {id15!r}")
    return id15 + "".join(_suffix_char(id15[start : start + 5]) for start in (0, 5, 10))


@functools.lru_cache(maxsize=65536)  # pure and hot: every lookup row and target passes here
def normalize(record_id: str) -> str:
    """Return the canonical 18-character id for a 15- or 18-character id.

    An 18-character id is case-insensitive, so its case is restored from the checksum:
    ``A0BA0000000L2ZCMA0`` and ``a0ba0000000l2zcma0`` both give ``a0BA0000000L2ZCMA0``.
    Raises ValueError on anything else, including a checksum that does not fit.
    """
    candidate = record_id.strip()
    if not _ID_PATTERN.fullmatch(candidate):
        raise ValueError(f"malformed Salesforce id: {record_id!r}")
    if len(candidate) == 15:
        return to_18(candidate)
    suffix = candidate[15:].upper()
    if any(char not in _SUFFIX_ALPHABET for char in suffix):
        raise ValueError(f"Salesforce id checksum is not valid: {record_id!r}")
    restored = to_18(_apply_case(candidate[:15], suffix))
    if restored[15:] != suffix:
        raise ValueError(f"Salesforce id checksum does not match: {record_id!r}")
    return restored


def is_valid_id(value: object) -> bool:
    """Tell whether ``value`` is a well-formed 15- or 18-character Salesforce id."""
    if not isinstance(value, str):
        return False
    try:
        normalize(value)
    except ValueError:
        return False
    return True


def object_type(record_id: str) -> str | None:
    """Return the sObject name for an id's key prefix, or None for a prefix not in the table.

    Raises ValueError on a malformed id.
    """
    return KEY_PREFIXES.get(normalize(record_id)[:3])


def same_id(first: str | None, second: str | None) -> bool:
    """Tell whether two ids name the same record (15 vs 18 characters, any 18-char case).

    A missing or malformed id is never the same as anything.
    """
    if first is None or second is None or not is_valid_id(first) or not is_valid_id(second):
        return False
    return normalize(first) == normalize(second)


def _suffix_char(chunk: str) -> str:
    bits = sum(1 << position for position, char in enumerate(chunk) if "A" <= char <= "Z")
    return _SUFFIX_ALPHABET[bits]


def _apply_case(id15: str, suffix: str) -> str:
    """Upper-case the letters the checksum marks as capitals and lower-case the rest."""
    chars = []
    for start, marker in zip((0, 5, 10), suffix, strict=True):
        chunk_bits = _SUFFIX_ALPHABET.index(marker)
        for offset, char in enumerate(id15[start : start + 5]):
            chars.append(char.upper() if chunk_bits >> offset & 1 else char.lower())
    return "".join(chars)
