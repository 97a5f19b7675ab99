"""Signed tokens for tracking pixels, rewritten links and unsubscribe links.

A token names what it is for and the email (and link or recipient) as plain integers, signed
with HMAC-SHA256 under a key derived from the secret key. The web app answers 404 to any token
whose signature does not verify, so nobody can forge an open, a click or an unsubscribe, and a
click can only ever redirect to the link stored with the email (never to a URL in the token).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac

#: Purposes a token can carry.
OPEN, CLICK, UNSUBSCRIBE = "o", "c", "u"
_PURPOSES = frozenset({OPEN, CLICK, UNSUBSCRIBE})
#: 128 bits of signature: far beyond guessing, short enough for a URL.
_SIGNATURE_BYTES = 16


@dataclasses.dataclass(frozen=True)
class TrackingToken:
    """What a token stands for: an open of, a click in, or an unsubscribe from one email."""

    purpose: str
    email_id: int
    #: The link index of a click; the recipient id of an unsubscribe; 0 for an open.
    item: int = 0


def tracking_key(secret_key: bytes) -> bytes:
    """A key used only for tracking tokens, so they never sign anything else."""
    return hmac.new(secret_key, b"salesync tracking tokens v1", hashlib.sha256).digest()


def sign(token: TrackingToken, key: bytes) -> str:
    if token.purpose not in _PURPOSES or token.email_id < 0 or token.item < 0:
        raise ValueError(f"not a valid token: {token}")
    body = f"{token.purpose}{token.email_id}.{token.item}"
    return f"{body}.{_signature(body, key)}"


def verify(text: str, key: bytes) -> TrackingToken | None:
    """The token ``text`` stands for, or None when it is malformed, altered or forged."""
    body, _, signature = text.rpartition(".")
    if not body or len(text) > 100:
        return None
    if not hmac.compare_digest(signature.encode(), _signature(body, key).encode()):
        return None
    purpose, rest = body[:1], body[1:]
    email_part, _, item_part = rest.partition(".")
    if purpose not in _PURPOSES or not email_part.isdigit() or not item_part.isdigit():
        return None
    return TrackingToken(purpose, int(email_part), int(item_part))


def _signature(body: str, key: bytes) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
