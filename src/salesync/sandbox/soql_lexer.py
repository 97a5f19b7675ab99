"""Split SOQL text into tokens and decode its quoted strings (API-FACTS §2.10)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from salesync.sandbox import soql_errors

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<operator><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),:])
    |(?P<string>'[^'\\]*(?:\\.[^'\\]*)*')
    """,
    re.VERBOSE | re.DOTALL,
)

# API-FACTS §2.10: the only escapes allowed inside '...'; any other backslash is an error.
_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
# API-FACTS §2.10: \_ and \% are allowed in LIKE patterns only.
_LIKE_ESCAPES = {"_", "%"}
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)
_LIKE_PIECE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)|(%)|(_)|([^\\%_]+)", re.DOTALL)


@dataclass(frozen=True)
class Token:
    """One token; ``text`` is the source text, or the raw body of a quoted string."""

    kind: str
    text: str
    position: int

    @property
    def upper(self) -> str:
        return self.text.upper()

    def shown(self) -> str:
        """The token as an error message names it."""
        if self.kind == "eof":
            return "<EOF>"
        if self.kind == "string":
            return f"'{self.text}'"
        return self.text


def tokenize(text: str) -> list[Token]:
    """Return the tokens of ``text`` ending with an ``eof`` token."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _bad_character(text, position)
        kind = match.lastgroup or ""
        if kind == "string":
            tokens.append(Token(kind, match.group()[1:-1], position))
        elif kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _bad_character(text: str, position: int) -> soql_errors.SoqlError:
    if text[position] == "'":
        return soql_errors.malformed(f"unterminated string literal at position {position}")
    return soql_errors.unexpected_token(text[position])


def decode_string(raw: str) -> str:
    """Decode the body of a quoted string used as a plain value."""
    if "\\" not in raw:
        return raw
    decoded = _ESCAPE.sub(lambda match: _decode_escape(raw, match.group(1)), raw)
    return _join_surrogates(decoded)


def like_regex(raw: str) -> str:
    """Translate a LIKE pattern body into a regex for ``re.fullmatch``: ``%`` any run, ``_`` one."""
    parts: list[str] = []
    literal: list[str] = []
    for match in _LIKE_PIECE.finditer(raw):
        escape, percent, _, plain = match.groups()
        if escape is not None:
            literal.append(escape if escape in _LIKE_ESCAPES else _decode_escape(raw, escape))
        elif plain is not None:
            literal.append(plain)
        else:
            parts.append(re.escape(_join_surrogates("".join(literal))))
            literal.clear()
            parts.append(".*" if percent else ".")
    parts.append(re.escape(_join_surrogates("".join(literal))))
    return "".join(parts)


def _decode_escape(raw: str, escape: str) -> str:
    if len(escape) == 5:
        return chr(int(escape[1:], 16))
    if escape in _ESCAPES:
        return _ESCAPES[escape]
    raise soql_errors.malformed(
        f"Invalid string literal '{raw}'. Illegal character sequence '\\{escape}'"
        " in string literal."
    )


def _join_surrogates(text: str) -> str:
    """Merge UTF-16 surrogate pairs written as two ``\\uXXXX`` escapes into one character."""
    if not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    try:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        return text  # a lone surrogate stays as written
