"""Tracked email bodies: links rewritten to the click route, an HTML part with the pixel.

Pure text work: the caller gives a function that turns a link index into the signed click
URL. The plain-text part keeps its words and gets the rewritten links; the HTML part is the
same text, escaped, with the links as anchors and a 1x1 image at the end.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable

#: http(s) URLs in plain text, ending before whitespace or closing punctuation.
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


@dataclasses.dataclass(frozen=True)
class TrackedBody:
    text: str
    html: str
    #: The original links, by index as the click URLs name them.
    links: tuple[str, ...]


def find_links(text: str) -> tuple[str, ...]:
    """Each distinct http(s) link of ``text`` once, in order of first appearance."""
    seen: list[str] = []
    for match in _URL.finditer(text):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    return tuple(seen)


def tracked_body(
    text: str,
    click_url: Callable[[int], str],
    pixel_url: str | None,
    unsubscribe_url: str | None = None,
) -> TrackedBody:
    """The text and HTML parts of a tracked email (``pixel_url`` None: links only)."""
    links = find_links(text)
    index = {link: position for position, link in enumerate(links)}
    plain = _URL.sub(lambda m: click_url(index[m.group(0)]), text)
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(html.escape(text[last : match.start()]))
        href = html.escape(click_url(index[match.group(0)]), quote=True)
        parts.append(f'<a href="{href}">{html.escape(match.group(0))}</a>')
        last = match.end()
    parts.append(html.escape(text[last:]))
    body = "".join(parts).replace("\r\n", "\n").replace("\n", "<br>\n")
    if unsubscribe_url:
        href = html.escape(unsubscribe_url, quote=True)
        body += f'<br>\n<br>\n<a href="{href}">Unsubscribe</a>'
    if pixel_url:
        src = html.escape(pixel_url, quote=True)
        body += f'\n<img src="{src}" width="1" height="1" alt="" style="display:none">'
    return TrackedBody(plain, f"<!DOCTYPE html>\n<html><body>{body}</body></html>\n", links)


def unsubscribe_footer(unsubscribe_url: str) -> str:
    """The plain-text line every sales email ends with (UNSUB)."""
    return f"\n\n--\nTo stop receiving these emails: {unsubscribe_url}\n"
