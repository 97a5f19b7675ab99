"""Turn the bytes of one MIME text part into text, whatever the sender got wrong.

The bytes may be cut (salesync reads at most the first 64 KB of a part), the transfer
encoding may be broken and the charset unknown or a lie: the answer is always some text,
with replacement characters where bytes could not be read.
"""

from __future__ import annotations

import binascii
import codecs
import html
import quopri
import re

_TAGS = re.compile(r"<[^>]*>")
_HIDDEN = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>")
_BREAKS = re.compile(r"(?i)<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>")


def decode_transfer(data: bytes, transfer_encoding: str | None) -> bytes:
    """Undo Content-Transfer-Encoding; cut or broken input decodes as far as it goes."""
    encoding = (transfer_encoding or "7bit").strip().lower()
    if encoding == "base64":
        compact = re.sub(rb"[^A-Za-z0-9+/=]", b"", data)
        compact = compact[: len(compact) - len(compact) % 4]
        try:
            return binascii.a2b_base64(compact)
        except binascii.Error:
            return b""
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


def decode_charset(data: bytes, charset: str | None) -> str:
    """Bytes to text in ``charset``, falling back to UTF-8 then Latin-1 semantics."""
    name = (charset or "").strip().strip('"').lower() or "us-ascii"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        codec = "utf-8"
    if codec == "ascii":
        codec = "utf-8"  # 8-bit bytes labelled us-ascii are almost always UTF-8
    return data.decode(codec, errors="replace")


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body: tags dropped, line breaks kept, entities decoded."""
    without_hidden = _HIDDEN.sub(" ", markup)
    with_breaks = _BREAKS.sub("\n", without_hidden)
    text = html.unescape(_TAGS.sub("", with_breaks))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def part_text(
    data: bytes, *, transfer_encoding: str | None, charset: str | None, subtype: str
) -> str:
    """The text of a text part; an HTML part is reduced to its text."""
    text = decode_charset(decode_transfer(data, transfer_encoding), charset)
    text = text.replace("\r\n", "\n").replace("\x00", "")
    return html_to_text(text) if subtype.lower() == "html" else text
