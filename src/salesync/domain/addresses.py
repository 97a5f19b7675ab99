"""The one rule for email addresses: what salesync will send to is what it accepts anywhere.

A person's address is checked with this rule when the person is created, edited or
imported, and the same rule refuses a recipient at send time, so an address is never
accepted first and refused later.
"""

from __future__ import annotations

import re

# RFC 5322 §3.2.3 dot-atom local part and RFC 1035 host names; ASCII only (no SMTPUTF8).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN = rf"{_LABEL}(?:\.{_LABEL})+"
_ADDRESS_RE = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>{DOMAIN})")
#: RFC 5321 §4.5.3.1: local part at most 64 octets, a path at most 256 (254 without the <>).
MAX_LOCAL_PART = 64
MAX_ADDRESS = 254

NOT_AN_ADDRESS = "is not a valid email address"
TOO_LONG = "is too long"


def address_problem(address: str) -> str | None:
    """Why salesync would refuse to send to ``address``, or None when it is fine.

    The address is taken as given (callers strip surrounding blanks first).
    """
    match = _ADDRESS_RE.fullmatch(address)
    if match is None:
        return NOT_AN_ADDRESS
    if len(match["local"]) > MAX_LOCAL_PART or len(address) > MAX_ADDRESS:
        return TOO_LONG
    return None
