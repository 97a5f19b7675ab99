"""Connected apps, authorization codes, access tokens and refresh tokens (API-FACTS §3)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit


@dataclass
class ConnectedApp:
    """A connected app from the org seed."""

    client_id: str
    client_secret: str
    name: str = ""
    #: Registered callback URLs, matched exactly.
    callback_urls: tuple[str, ...] = ()
    #: Accept any http://localhost or http://127.0.0.1 callback (demo convenience).
    allow_any_localhost: bool = False
    #: Refresh token rotation: each refresh returns a new refresh token, the old one dies.
    rotate_refresh_tokens: bool = False
    #: OAuth scopes the app may be granted.
    scopes: tuple[str, ...] = ("api", "refresh_token", "id", "web", "openid")
    #: Username the client-credentials flow runs as; None disables that flow.
    run_as_username: str | None = None
    #: Web-server flow: the token request must carry the client secret.
    require_secret: bool = True
    #: JWT bearer flow: the PEM public key (or certificate) that signs assertions; None: off.
    jwt_public_key_pem: str | None = None
    #: Usernames an admin pre-approved for the JWT bearer flow (it has no consent screen).
    jwt_approved_usernames: tuple[str, ...] = ()

    def accepts_callback(self, redirect_uri: str) -> bool:
        if redirect_uri in self.callback_urls:
            return True
        parts = urlsplit(redirect_uri)
        return (
            self.allow_any_localhost
            and parts.scheme in ("http", "https")
            and (parts.hostname in ("localhost", "127.0.0.1"))
        )


@dataclass
class AuthCode:
    code: str
    client_id: str
    user_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    expires_at: datetime
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class RefreshToken:
    token: str
    user_id: str
    client_id: str
    scope: tuple[str, ...]
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    user_id: str
    client_id: str
    scope: tuple[str, ...]
    expires_at: datetime
    refresh_token: str | None = None
    revoked: bool = False

    def valid_at(self, now: datetime) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass
class TokenBook:
    """All OAuth state of the org."""

    apps: dict[str, ConnectedApp] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)

    def new_code(self, **values: object) -> AuthCode:
        code = AuthCode(code="aPrx" + secrets.token_urlsafe(40), **values)  # type: ignore[arg-type]
        self.codes[code.code] = code
        return code

    def take_code(self, code: str, now: datetime) -> AuthCode | None:
        """Consume a code: codes are single use and expire."""
        found = self.codes.pop(code, None)
        return found if found is not None and now < found.expires_at else None

    def new_refresh(self, user_id: str, client_id: str, scope: tuple[str, ...]) -> RefreshToken:
        token = RefreshToken("5Aep861" + secrets.token_urlsafe(64), user_id, client_id, scope)
        self.refresh[token.token] = token
        return token

    def new_access(
        self,
        org_id: str,
        user_id: str,
        client_id: str,
        scope: tuple[str, ...],
        expires_at: datetime,
        refresh_token: str | None = None,
    ) -> AccessToken:
        # Real access tokens start with the 15-character org id and "!".
        value = f"{org_id[:15]}!" + secrets.token_urlsafe(72)
        token = AccessToken(value, user_id, client_id, scope, expires_at, refresh_token)
        self.access[value] = token
        return token

    def revoke_refresh(self, token: str) -> bool:
        """Revoke a refresh token and the access tokens minted from it (API-FACTS §3)."""
        found = self.refresh.get(token)
        if found is None or found.revoked:
            return False
        found.revoked = True
        for access in self.access.values():
            if access.refresh_token == token:
                access.revoked = True
        return True

    def retire_refresh(self, token: str) -> None:
        """Rotation: the old refresh token dies, access tokens it minted live on."""
        found = self.refresh.get(token)
        if found is not None:
            found.revoked = True

    def revoke_access(self, token: str) -> bool:
        found = self.access.get(token)
        if found is None or found.revoked:
            return False
        found.revoked = True
        return True

    def expire_access(self, now: datetime, user_id: str | None = None) -> int:
        """End the sessions of one user (or everyone); returns how many were live."""
        count = 0
        for access in self.access.values():
            if (user_id is None or access.user_id == user_id) and access.valid_at(now):
                access.expires_at = now
                count += 1
        return count

    def revoke_user_refresh(self, user_id: str) -> int:
        tokens = [t.token for t in self.refresh.values() if t.user_id == user_id and not t.revoked]
        for token in tokens:
            self.revoke_refresh(token)
        return len(tokens)

    def prune(self, now: datetime, keep: timedelta = timedelta(days=1)) -> None:
        """Forget access tokens that died more than ``keep`` ago (keeps the state small)."""
        dead = [t for t, a in self.access.items() if a.expires_at + keep < now or a.revoked]
        for token in dead:
            del self.access[token]
