"""Password hashing with Argon2id (argon2-cffi), behind a small interface.

The interface lets tests count how many hashes a flow computed (sign-in throttling must refuse
before any hash) without patching this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from argon2 import PasswordHasher as _Argon2

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
        self._hasher: _Argon2 | None = None

    @property
    def _argon2(self) -> _Argon2:
        # Imported on first use: every runtime has a hasher, but a sync worker never hashes a
        # password, and its start-up time is a DESIGN bar.
        if self._hasher is None:
            from argon2 import PasswordHasher

            self._hasher = PasswordHasher()
        return self._hasher

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


_default = Argon2Hasher()


def hash_password(password: str) -> str:
    return _default.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    return _default.verify(password_hash, password)
