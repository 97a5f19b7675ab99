"""Which outbound hosts (SMTP, IMAP, …) a rep may point the server at: pure rules.

The server connects to these hosts from inside its own network, so a host a rep types is
a way to probe that network. A rep may therefore only use a host and port an admin set (the
team's server, the configured default) or allowed (``SALESYNC_ALLOWED_OUTBOUND_HOSTS``);
admins are trusted with any syntactically valid host.

Use from any settings form that takes a host::

    check_outbound_host(host, port, admin_set=[(team.host, team.port)],
                        allowed=parse_allow_list(settings.allowed_outbound_hosts),
                        chosen_by_admin=user.role is Role.ADMIN)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from salesync.errors import InvalidInput

#: A DNS name: dot-separated labels of letters, digits and inner hyphens (RFC 1123).
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
MAX_HOST_LENGTH = 253


@dataclass(frozen=True)
class AllowedHost:
    """One allow-list entry: ``host``, ``host:port`` or ``*.domain`` (subdomains only)."""

    host: str
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and host != self.host[2:]
        return host == self.host


def normalise_host(host: str, *, field: str = "host") -> str:
    """The host in lower case, or InvalidInput: a DNS name or an IP address, nothing else
    (no scheme, path, port, spaces or control characters)."""
    value = host.strip().lower().rstrip(".")
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.split(".")
    if not value or len(value) > MAX_HOST_LENGTH or not all(_LABEL.match(p) for p in labels):
        raise InvalidInput("give a host name such as smtp.example.com", field=field)
    return value


def parse_allow_list(text: str) -> tuple[AllowedHost, ...]:
    """Parse ``"smtp.example.com, imap.example.com:993, *.corp.example"``."""
    entries = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        host, _, port_text = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
        port = int(port_text) if port_text else None
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"{item!r}: the port is from 1 to 65535")
        wildcard = host.startswith("*.")
        name = normalise_host(host[2:] if wildcard else host)
        entries.append(AllowedHost(("*." if wildcard else "") + name, port))
    return tuple(entries)


def host_allowed(
    host: str,
    port: int,
    *,
    admin_set: Iterable[tuple[str, int]],
    allowed: Iterable[AllowedHost],
) -> bool:
    """Whether a rep may use ``host:port`` (``host`` already normalised)."""
    for admin_host, admin_port in admin_set:
        if admin_port == port and admin_host.strip().lower().rstrip(".") == host:
            return True
    return any(entry.matches(host, port) for entry in allowed)


def check_outbound_host(
    host: str,
    port: int,
    *,
    admin_set: Iterable[tuple[str, int]],
    allowed: Iterable[AllowedHost],
    chosen_by_admin: bool,
    field: str = "host",
) -> str:
    """The normalised host, or InvalidInput naming ``field`` when a rep may not use it.

    The refusal names no reason beyond the rule, so it says nothing about the network.
    """
    if not 1 <= port <= 65535:
        raise InvalidInput("the port is from 1 to 65535", field="port")
    name = normalise_host(host, field=field)
    if chosen_by_admin or host_allowed(name, port, admin_set=admin_set, allowed=allowed):
        return name
    raise InvalidInput(
        f"{name}:{port} is not a server your admin set or allowed; ask an admin to add it",
        field=field,
    )
