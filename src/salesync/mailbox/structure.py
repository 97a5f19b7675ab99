"""Read IMAP FETCH answers as imaplib hands them over, and find a message's text part.

imaplib returns a FETCH answer as a list mixing ``bytes`` and ``(prefix, literal)`` tuples;
``parse_fetch`` turns it into one dict per message (item name -> value), with BODYSTRUCTURE
as nested lists (RFC 3501 §7.4.2). ``text_part`` walks that structure to the part salesync
reads: the first text/plain part that is not an attachment, else the first text/html one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: A value in an IMAP answer: an atom or string (bytes), NIL (None), or a parenthesised list.
Value = bytes | None | list["Value"]

_SPECIALS = b"()"


class _Literal(bytes):
    """Bytes that came as a literal: never an atom or a keyword."""


@dataclass(frozen=True)
class TextPart:
    """Where the text is and how it is encoded."""

    #: Section to fetch: "1", "1.2", ... ("TEXT" for a report read whole).
    section: str
    subtype: str
    transfer_encoding: str | None
    charset: str | None


def parse_fetch(data: Sequence[object]) -> list[dict[str, Value]]:
    """One dict per ``<n> (ITEM value ...)`` answer; unknown shapes are skipped."""
    segments: list[bytes] = []
    for piece in data:
        if isinstance(piece, tuple) and len(piece) == 2:
            prefix, literal = piece
            if isinstance(prefix, bytes) and isinstance(literal, bytes):
                head, _, _ = prefix.rpartition(b"{")
                segments.append(head)
                segments.append(_Literal(literal))
        elif isinstance(piece, bytes):
            segments.append(piece)
    reader = _Reader(segments)
    answers: list[dict[str, Value]] = []
    while reader.more():
        reader.token()  # the message sequence number
        if not reader.more():
            break  # a cut answer: nothing usable follows
        items = reader.value()
        if not isinstance(items, list):
            continue
        answer: dict[str, Value] = {}
        for index in range(0, len(items) - 1, 2):
            name = items[index]
            if isinstance(name, bytes):
                answer[name.decode("ascii", "replace").upper()] = items[index + 1]
        answers.append(answer)
    return answers


class _Reader:
    def __init__(self, segments: list[bytes]) -> None:
        self._tokens = list(self._tokenize(segments))
        self._at = 0

    @staticmethod
    def _tokenize(segments: list[bytes]) -> list[bytes | _Literal]:
        tokens: list[bytes | _Literal] = []
        for segment in segments:
            if isinstance(segment, _Literal):
                tokens.append(segment)
                continue
            i, n = 0, len(segment)
            while i < n:
                c = segment[i : i + 1]
                if c in (b" ", b"\r", b"\n", b"\t"):
                    i += 1
                elif c in (b"(", b")"):
                    tokens.append(c)
                    i += 1
                elif c == b'"':
                    i, text = _quoted(segment, i + 1)
                    tokens.append(_Literal(text))
                else:
                    start, depth = i, 0
                    while i < n:
                        ch = segment[i : i + 1]
                        if ch == b"[":
                            depth += 1
                        elif ch == b"]":
                            depth -= 1
                        elif depth <= 0 and (ch in b" ()\r\n\t"):
                            break
                        i += 1
                    tokens.append(segment[start:i])
        return tokens

    def more(self) -> bool:
        return self._at < len(self._tokens)

    def token(self) -> bytes:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def value(self) -> Value:
        token = self.token()
        if token == b"(" and not isinstance(token, _Literal):
            items: list[Value] = []
            while self.more():
                if self._tokens[self._at] == b")" and not isinstance(
                    self._tokens[self._at], _Literal
                ):
                    self._at += 1
                    return items
                items.append(self.value())
            return items
        if not isinstance(token, _Literal) and token.upper() == b"NIL":
            return None
        return bytes(token)


def _quoted(segment: bytes, i: int) -> tuple[int, bytes]:
    out = bytearray()
    while i < len(segment):
        c = segment[i]
        if c == 0x5C and i + 1 < len(segment):  # backslash escapes " and \
            out.append(segment[i + 1])
            i += 2
            continue
        if c == 0x22:
            return i + 1, bytes(out)
        out.append(c)
        i += 1
    return i, bytes(out)


def text_of(value: Value) -> str | None:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else None


def content_type(structure: Value) -> str:
    """``type/subtype`` of the whole message from its BODYSTRUCTURE."""
    if not isinstance(structure, list) or not structure:
        return "text/plain"
    if isinstance(structure[0], list):
        subtype = next((text_of(v) for v in structure if isinstance(v, bytes)), "mixed")
        return f"multipart/{(subtype or 'mixed').lower()}"
    return f"{(text_of(structure[0]) or 'text').lower()}/{(text_of(structure[1]) or '').lower()}"


def text_part(structure: Value) -> TextPart | None:
    """The part to read as the message's text, or None when there is none."""
    plain = _find(structure, "", "plain")
    return plain or _find(structure, "", "html")


def _find(structure: Value, prefix: str, wanted: str) -> TextPart | None:
    if not isinstance(structure, list) or not structure:
        return None
    if isinstance(structure[0], list):
        number = 0
        for child in structure:
            if not isinstance(child, list):
                break
            number += 1
            found = _find(child, f"{prefix}{number}.", wanted)
            if found:
                return found
        return None
    kind = (text_of(structure[0]) or "").lower()
    subtype = (text_of(structure[1]) if len(structure) > 1 else "") or ""
    if kind != "text" or subtype.lower() != wanted or _is_attachment(structure):
        return None
    params = structure[2] if len(structure) > 2 and isinstance(structure[2], list) else []
    charset = None
    for index in range(0, len(params) - 1, 2):
        if (text_of(params[index]) or "").lower() == "charset":
            charset = text_of(params[index + 1])
    encoding = text_of(structure[5]) if len(structure) > 5 else None
    section = prefix.rstrip(".") or "1"
    return TextPart(section, subtype.lower(), encoding, charset)


def _is_attachment(part: list[Value]) -> bool:
    # RFC 3501: a text part's extension data starts after its line count (index 7):
    # body MD5 at 8, disposition at 9.
    disposition = part[9] if len(part) > 9 else None
    if isinstance(disposition, list) and disposition:
        return (text_of(disposition[0]) or "").lower() == "attachment"
    return False
