"""Password hashing with Argon2id (argon2-cffi), behind a small interface.

The interface lets tests count how many hashes a flow computed (sign-in throttling must refuse
before any hash) without patching this module.
"""

from __future__ import annotations

from typing import Protocol

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

#: Shorter passwords are refused at creation (NIST SP 800-63B minimum).
MIN_PASSWORD_LENGTH = 8
#: Longer ones are refused too: hashing megabytes of "password" is a cheap way to load us.
MAX_PASSWORD_LENGTH = 256


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class Argon2Hasher:
    """The real hasher: Argon2id with argon2-cffi's defaults (64 MiB, 3 passes)."""

    def __init__(self) -> None:
        self._argon2 = _Argon2()

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


_default = Argon2Hasher()


def hash_password(password: str) -> str:
    return _default.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    return _default.verify(password_hash, password)
