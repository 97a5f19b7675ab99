"""Which outbound hosts a rep may use (pure rules)."""

from __future__ import annotations

import pytest

from salesync.domain.outbound_hosts import (
    AllowedHost,
    check_outbound_host,
    host_allowed,
    normalise_host,
    parse_allow_list,
)
from salesync.errors import InvalidInput

ALLOWED = parse_allow_list("smtp.example.com, imap.example.com:993, *.corp.example")
TEAM = [("mail.team.example", 587)]


def test_the_allow_list_parses_hosts_ports_and_wildcards() -> None:
    assert ALLOWED == (
        AllowedHost("smtp.example.com"),
        AllowedHost("imap.example.com", 993),
        AllowedHost("*.corp.example"),
    )
    assert parse_allow_list("") == ()


@pytest.mark.parametrize("entry", ["smtp.example.com:0", "smtp.example.com:70000", "bad host"])
def test_a_bad_allow_list_entry_is_refused(entry: str) -> None:
    with pytest.raises((ValueError, InvalidInput)):
        parse_allow_list(entry)


@pytest.mark.parametrize(
    ("host", "port", "allowed"),
    [
        ("smtp.example.com", 25, True),  # no port in the entry: any port
        ("smtp.example.com", 587, True),
        ("imap.example.com", 993, True),
        ("imap.example.com", 143, False),  # the entry names its port
        ("mx.corp.example", 25, True),
        ("corp.example", 25, False),  # the wildcard covers subdomains only
        ("evilcorp.example", 25, False),
        ("mail.team.example", 587, True),  # what the admin set for the team
        ("mail.team.example", 22, False),  # ...on that port only
        ("10.0.0.5", 6379, False),
        ("127.0.0.1", 5432, False),
    ],
)
def test_host_allowed(host: str, port: int, allowed: bool) -> None:
    assert host_allowed(host, port, admin_set=TEAM, allowed=ALLOWED) is allowed


def test_a_rep_outside_the_rules_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_outbound_host(
            "10.0.0.5", 6379, admin_set=TEAM, allowed=ALLOWED, chosen_by_admin=False
        )
    assert caught.value.field == "host"
    assert "not a server your admin set or allowed" in caught.value.message


def test_an_admin_may_choose_any_valid_host() -> None:
    name = check_outbound_host(
        "Relay.Internal.", 2525, admin_set=(), allowed=(), chosen_by_admin=True
    )
    assert name == "relay.internal"


@pytest.mark.parametrize(
    "host",
    [
        "",
        "smtp example.com",
        "smtp.example.com\r\nX",
        "smtp\x00.example.com",
        "http://x.example",
        "x.example/path",
        "-bad.example",
        "a" * 254,
        "smtp.example.com:25",
    ],
)
def test_a_malformed_host_is_refused_even_for_admins(host: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_outbound_host(host, 25, admin_set=(), allowed=(), chosen_by_admin=True)
    assert caught.value.field == "host"


@pytest.mark.parametrize(
    ("host", "normal"),
    [("SMTP.Example.COM", "smtp.example.com"), ("[::1]", "::1"), ("192.0.2.1", "192.0.2.1")],
)
def test_hosts_are_normalised(host: str, normal: str) -> None:
    assert normalise_host(host) == normal


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_ports_out_of_range_are_refused(port: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_outbound_host(
            "smtp.example.com", port, admin_set=(), allowed=ALLOWED, chosen_by_admin=True
        )
    assert caught.value.field == "port"
