"""Encryption of secrets at rest (OAuth tokens, SMTP and IMAP passwords) with Fernet."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Encrypts and decrypts short secrets with a key derived from the secret key file.

    Fernet authenticates every ciphertext, so a tampered or foreign value fails loudly instead
    of decrypting to garbage.
    """

    def __init__(self, secret_key: bytes) -> None:
        # Fernet wants 32 url-safe base64 bytes; the key file holds arbitrary text, so hash it.
        derived = hashlib.sha256(b"salesync-secret-box-v1:" + secret_key).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        self._derive_root = hashlib.sha256(b"salesync-derived-keys-v1:" + secret_key).digest()

    def derive_key(self, purpose: str) -> bytes:
        """A key for one purpose only (e.g. signing tracking links), from the secret key."""
        return hmac.new(self._derive_root, purpose.encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with this secret key") from exc

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
