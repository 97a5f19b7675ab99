"""The OAuth 2.0 JWT bearer grant (API-FACTS §3 "JWT bearer", item 2).

A server signs an RS256 assertion with ``iss`` = the consumer key, ``sub`` = the username,
``aud`` = the login host and ``exp``; the app must hold the public key and the user must be
pre-approved (otherwise "user hasn't approved this consumer"). No refresh token is issued.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_pem_x509_certificate

from salesync.sandbox.errors import OAuthError
from salesync.sandbox.tokens import ConnectedApp

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Audiences Salesforce accepts: the production and sandbox login hosts (or the org's own).
KNOWN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
#: An assertion valid for longer than this is refused [recall: Salesforce wants ~3 minutes].
MAX_LIFETIME = timedelta(minutes=5)


def _b64(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc


def _public_key(pem: str) -> rsa.RSAPublicKey:
    data = pem.encode()
    key: Any = (
        load_pem_x509_certificate(data).public_key()
        if b"CERTIFICATE" in data
        else serialization.load_pem_public_key(data)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise OAuthError("invalid_client", "the app's JWT key is not an RSA key")
    return key


def verify_assertion(
    assertion: str,
    app_for: Callable[[str], ConnectedApp | None],
    *,
    now: datetime,
    own_audience: str,
) -> tuple[ConnectedApp, str]:
    """The app and username of a valid assertion; raises OAuthError(invalid_grant) otherwise."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise OAuthError("invalid_grant", "invalid assertion")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
    except ValueError as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        raise OAuthError("invalid_grant", "invalid assertion")
    app = app_for(str(claims.get("iss", "")))
    if app is None or app.jwt_public_key_pem is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    try:
        _public_key(app.jwt_public_key_pem).verify(
            _b64(parts[2]),
            f"{parts[0]}.{parts[1]}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc
    if claims.get("aud") not in (*KNOWN_AUDIENCES, own_audience):
        raise OAuthError("invalid_grant", "audience is invalid")
    expires = claims.get("exp")
    if not isinstance(expires, int | float):
        raise OAuthError("invalid_grant", "invalid assertion")
    expiry = datetime.fromtimestamp(expires, UTC)
    if expiry <= now or expiry - now > MAX_LIFETIME:
        raise OAuthError("invalid_grant", "expired authorization code")
    username = str(claims.get("sub", ""))
    if username.lower() not in {u.lower() for u in app.jwt_approved_usernames}:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    return app, username
