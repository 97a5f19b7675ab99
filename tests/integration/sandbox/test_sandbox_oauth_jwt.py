"""The JWT bearer grant: a signed assertion for a pre-approved user, no refresh token."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
USERNAME = "admin@sandbox.salesync.test"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _assertion(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    values = {
        "iss": "jwt-app",
        "sub": USERNAME,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 120,
        **claims,
    }
    header = _b64(json.dumps({"alg": "RS256"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(values).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _register(sandbox: Any, key: rsa.RSAPrivateKey, approved: list[str]) -> None:
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    answer = sandbox.control().post(
        "/__sandbox__/connected-apps",
        json={
            "clientId": "jwt-app",
            "clientSecret": "jwt-secret",
            "name": "jwt",
            "jwtPublicKeyPem": pem,
            "jwtApprovedUsernames": approved,
        },
    )
    assert answer.status_code in (200, 201), answer.text


def _token(sandbox: Any, assertion: str) -> httpx.Response:
    return httpx.post(
        f"{sandbox.base_url}/services/oauth2/token",
        data={"grant_type": GRANT, "assertion": assertion},
    )


def test_a_signed_assertion_for_an_approved_user_gets_an_access_token(sandbox: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _register(sandbox, key, [USERNAME])
    answer = _token(sandbox, _assertion(key))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "refresh_token" not in body and "expires_in" not in body
    api = httpx.get(
        f"{sandbox.base_url}/services/data/v59.0/sobjects/Task/describe",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert api.status_code == 200


def test_bad_assertions_are_invalid_grants(sandbox: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _register(sandbox, key, [USERNAME])
    cases = {
        "user hasn't approved this consumer": _assertion(key, sub="nobody@sandbox.salesync.test"),
        "invalid assertion": _assertion(other),
        "audience is invalid": _assertion(key, aud="https://example.com"),
        "expired authorization code": _assertion(key, exp=int(time.time()) - 10),
    }
    for description, assertion in cases.items():
        answer = _token(sandbox, assertion)
        assert answer.status_code == 400, description
        assert answer.json() == {"error": "invalid_grant", "error_description": description}
