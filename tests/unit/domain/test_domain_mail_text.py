"""Text parts decoded whatever the sender got wrong, and cut parts read as far as they go."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.mail_text import decode_charset, decode_transfer, html_to_text, part_text


@pytest.mark.parametrize(
    ("data", "encoding", "expected"),
    [
        (b"plain", None, b"plain"),
        (b"plain", "8bit", b"plain"),
        (b"caf=C3=A9=\r\nsoft", "quoted-printable", "café".encode() + b"soft"),
        (base64.b64encode(b"hello world"), "BASE64", b"hello world"),
        (base64.b64encode(b"hello world")[:7], "base64", b"hel"),  # cut mid-quad
        (b"!!!###", "base64", b""),
        (b"aGk=aGk=", "base64", b"hi"),  # padding inside: read up to it
    ],
)
def test_decode_transfer(data: bytes, encoding: str | None, expected: bytes) -> None:
    assert decode_transfer(data, encoding) == expected


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("café".encode(), "utf-8", "café"),
        ("café".encode("latin-1"), "ISO-8859-1", "café"),
        ("café".encode(), "us-ascii", "café"),  # 8-bit labelled ascii: really UTF-8
        ("café".encode(), "x-unknown-charset", "café"),
        ('"café"'.encode(), '"utf-8"', '"café"'),
        (b"caf\xe9", "utf-8", "caf\ufffd"),
    ],
)
def test_decode_charset(data: bytes, charset: str, expected: str) -> None:
    assert decode_charset(data, charset) == expected


def test_html_to_text_keeps_lines_and_drops_scripts() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><p>Hi&nbsp;Pat</p>"
        "<script>x()</script>Line<br>two</body>"
    )
    assert html_to_text(html) == "Hi Pat\nLine\ntwo"


def test_part_text_reads_html_as_text() -> None:
    assert part_text(b"<b>Hi</b>", transfer_encoding="7bit", charset=None, subtype="html") == "Hi"
    assert part_text(b"a\r\nb\x00", transfer_encoding=None, charset=None, subtype="plain") == "a\nb"


@given(
    st.binary(max_size=500),
    st.sampled_from(["base64", "quoted-printable", "7bit", None]),
    st.sampled_from(["utf-8", "latin-1", "bogus", None]),
    st.sampled_from(["plain", "html"]),
)
def test_any_part_decodes_to_text(
    data: bytes, encoding: str | None, charset: str | None, subtype: str
) -> None:
    assert isinstance(
        part_text(data, transfer_encoding=encoding, charset=charset, subtype=subtype), str
    )
