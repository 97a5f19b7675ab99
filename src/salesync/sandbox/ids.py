"""Salesforce record ids: 18-character checksums, key prefixes and id minting."""

from __future__ import annotations

import string

# API-FACTS §2.13: the suffix indexes this alphabet with 5 bits per 5-character chunk.
_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_ID_CHARS = frozenset(string.ascii_letters + string.digits)
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

#: Key prefixes of the objects the sandbox serves (API-FACTS §2.13).
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "User": "005",
    "Organization": "00D",
    "OpportunityContactRole": "00K",
    "Lead": "00Q",
    "Task": "00T",
    "TaskStatus": "01J",
    "TaskPriority": "01J",
}


def checksum_suffix(id15: str) -> str:
    """Return the 3-character case-safety suffix of a 15-character id."""
    suffix = ""
    for chunk_start in (0, 5, 10):
        bits = 0
        for offset, char in enumerate(id15[chunk_start : chunk_start + 5]):
            if char.isupper():
                bits |= 1 << offset
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def _restore_case(id18: str) -> str:
    """Rebuild the case-sensitive 15-character id that an 18-character id encodes."""
    restored = []
    for chunk, suffix_char in enumerate(id18[15:18].upper()):
        bits = _SUFFIX_ALPHABET.index(suffix_char)
        for offset, char in enumerate(id18[chunk * 5 : chunk * 5 + 5]):
            restored.append(char.upper() if bits & (1 << offset) else char.lower())
    return "".join(restored)


def normalize_id(value: str) -> str | None:
    """Return the canonical 18-character form of ``value``, or None when it is malformed.

    15-character ids are case-sensitive; 18-character ids are case-insensitive because the
    suffix carries the case of the first 15 characters (API-FACTS §2.13).
    """
    if len(value) not in (15, 18) or not set(value) <= _ID_CHARS:
        return None
    if len(value) == 15:
        return value + checksum_suffix(value)
    if any(char not in _SUFFIX_ALPHABET for char in value[15:].upper()):
        return None
    id15 = _restore_case(value)
    if id15.lower() != value[:15].lower() or checksum_suffix(id15) != value[15:].upper():
        return None
    return id15 + checksum_suffix(id15)


def prefix_of(record_id: str) -> str:
    """Return the 3-character key prefix of an id."""
    return record_id[:3]


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


class IdFactory:
    """Mints unique 18-character ids per key prefix from a counter (picklable).

    Characters 4-6 of a real id name the pod and a reserved digit. Here they are the org's
    ``instance``, so two orgs built with different instances never share an id.
    """

    def __init__(self, instance: str = "5g0") -> None:
        if len(instance) != 3 or not set(instance) <= _ID_CHARS:
            raise ValueError(f"instance must be 3 letters or digits, got {instance!r}")
        self.instance = instance
        self._counters: dict[str, int] = {}

    def new_id(self, key_prefix: str) -> str:
        """Return the next id for ``key_prefix``."""
        counter = self._counters.get(key_prefix, 0) + 1
        self._counters[key_prefix] = counter
        id15 = key_prefix + self.instance + _base62(counter, 9)
        return id15 + checksum_suffix(id15)
