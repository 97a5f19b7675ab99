"""Telling a person reading an email from a machine fetching it (docs/engagement.md).

Mail-privacy proxies (Apple Mail Privacy Protection, Gmail's image proxy, Yahoo's) fetch the
pixel for the reader, often at delivery, so their "opens" say nothing about a person. Link
scanners (Microsoft Defender Safe Links, Mimecast, Proofpoint, Barracuda...) follow every link
of an incoming email before anyone sees it. Both are recognised from the user agent, the
address range the request came from and how soon after the send it came; they are counted and
shown apart, never as a person reading or clicking.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress

PRIVACY_PROXY, LINK_SCANNER = "privacy_proxy", "link_scanner"

#: User-agent fragments (lower case) of image proxies that fetch on the reader's behalf.
PROXY_AGENTS = {
    "googleimageproxy": "Gmail image proxy",
    "ggpht.com": "Gmail image proxy",
    "yahoomailproxy": "Yahoo Mail proxy",
    "mail.ru images": "Mail.ru image proxy",
}
#: Address ranges of Apple's Mail Privacy Protection relays: Apple owns 17.0.0.0/8, and
#: MPP fetches come from it with a bare "Mozilla/5.0" agent.
APPLE_RANGES = (ipaddress.ip_network("17.0.0.0/8"),)
#: User-agent fragments of security scanners that follow links in incoming mail.
SCANNER_AGENTS = {
    "barracuda": "Barracuda link protection",
    "mimecast": "Mimecast URL protection",
    "proofpoint": "Proofpoint URL defense",
    "safelinks": "Microsoft Defender Safe Links",
    "urldefense": "Proofpoint URL defense",
    "python-requests": "a script",
    "curl/": "a script",
    "wget/": "a script",
    "go-http-client": "a script",
    "headlesschrome": "a headless browser",
    "bot": "a bot",
    "spider": "a bot",
    "crawler": "a bot",
}
#: Exchange Online Protection and Defender scan from Microsoft's mail ranges.
SCANNER_RANGES = (
    ipaddress.ip_network("40.92.0.0/15"),
    ipaddress.ip_network("40.107.0.0/16"),
    ipaddress.ip_network("52.100.0.0/14"),
    ipaddress.ip_network("104.47.0.0/17"),
)
#: Nobody reads an email and clicks a link in it this soon after it was sent.
HUMAN_CLICK_AFTER = dt.timedelta(seconds=10)
#: Proxies and pre-fetchers fetch the pixel at delivery, within seconds of the send.
HUMAN_OPEN_AFTER = dt.timedelta(seconds=2)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """None for a person; otherwise which kind of machine and why."""

    machine: str | None
    reason: str | None = None


PERSON = Verdict(None)


def classify(kind: str, user_agent: str, ip: str, at: dt.datetime, sent_at: dt.datetime) -> Verdict:
    """Judge one ``kind`` ("open" or "click") request."""
    agent = user_agent.strip().lower()
    address = _address(ip)
    for fragment, name in PROXY_AGENTS.items():
        if fragment in agent:
            return Verdict(PRIVACY_PROXY, f"fetched through {name}")
    if address is not None and any(address in net for net in APPLE_RANGES):
        return Verdict(PRIVACY_PROXY, "fetched through Apple Mail Privacy Protection")
    for fragment, name in SCANNER_AGENTS.items():
        if fragment in agent:
            return Verdict(LINK_SCANNER, f"fetched by {name}")
    if address is not None and any(address in net for net in SCANNER_RANGES):
        return Verdict(LINK_SCANNER, "fetched from Microsoft's mail-scanning addresses")
    if not agent:
        return Verdict(LINK_SCANNER if kind == "click" else PRIVACY_PROXY, "no user agent")
    elapsed = at - sent_at
    if kind == "click" and elapsed < HUMAN_CLICK_AFTER:
        return Verdict(LINK_SCANNER, f"clicked {elapsed.total_seconds():.0f} s after sending")
    if kind == "open" and elapsed < HUMAN_OPEN_AFTER:
        return Verdict(PRIVACY_PROXY, "fetched at delivery")
    return PERSON


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
