"""The one address rule (people, users and recipients alike)."""

from __future__ import annotations

import pytest

from salesync.domain.addresses import NOT_AN_ADDRESS, TOO_LONG, address_problem


@pytest.mark.parametrize(
    "address",
    [
        "pat@example.com",
        "o'brien+sales@mail.example.co.uk",
        "a.b.c@x-y.example",
        ("p" * 64) + "@example.com",
        "UPPER@EXAMPLE.COM",
    ],
)
def test_good_addresses(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "",
        "pat",
        "pat@",
        "@example.com",
        "pat@example",
        "pat@exa_mple.com",
        "pat@-example.com",
        "pat@example-.com",
        "pat..smith@example.com",
        ".pat@example.com",
        "pät@example.com",
        "pat smith@example.com",
        "pat@example.com\r\nBcc: x@y.z",
        " pat@example.com",
        "a@b@example.com",
    ],
)
def test_refused_addresses(address: str) -> None:
    assert address_problem(address) == NOT_AN_ADDRESS


def test_length_limits() -> None:
    assert address_problem(("p" * 65) + "@example.com") == TOO_LONG
    long_domain = ".".join(["d" * 60] * 5) + ".com"
    assert address_problem("p@" + long_domain) == TOO_LONG
