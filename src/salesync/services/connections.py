"""Salesforce connections: connect (OAuth web-server flow with PKCE), reconnect, disconnect.

Tokens are stored encrypted (Fernet, key from the secret key file) and only decrypted in
memory to make a request. A refresh that Salesforce answers with ``invalid_grant`` marks the
connection broken and pauses the user's outgoing work; nothing queued is dropped
(DESIGN §3 "Connections", CONN-10).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from salesync.domain.wording import tr
from salesync.errors import InvalidInput, NotFound
from salesync.runtime import Runtime
from salesync.salesforce import oauth
from salesync.salesforce.auth import Refresher
from salesync.salesforce.errors import SalesforceError
from salesync.salesforce.limits import ApiUsage, LimitInfo
from salesync.store import connections as store
from salesync.store import diagnostics, outbox
from salesync.store.crypto import SecretBox
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    SalesforceConnection,
    User,
)

ENVIRONMENTS = ("production", "sandbox")
CALLBACK_PATH = "/salesforce/callback"


@dataclass(frozen=True)
class PendingConnect:
    """What the browser round trip must bring back: kept server-side (signed session)."""

    state: str
    code_verifier: str = field(repr=False)
    environment: str
    user_id: int
    purpose: str = ConnectionPurpose.USER.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "code_verifier": self.code_verifier,
            "environment": self.environment,
            "user_id": self.user_id,
            "purpose": self.purpose,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingConnect:
        return cls(
            state=str(data["state"]),
            code_verifier=str(data["code_verifier"]),
            environment=str(data["environment"]),
            user_id=int(data["user_id"]),
            purpose=str(data.get("purpose", ConnectionPurpose.USER.value)),
        )


@dataclass(frozen=True)
class ConnectOutcome:
    connection_id: int
    username: str
    org_id: str
    #: Things the rep should know but that do not block the connection (CONN-5 …).
    warnings: tuple[str, ...]
    resumed_items: int


def oauth_config(runtime: Runtime, environment: str) -> oauth.OAuthClientConfig:
    if environment not in ENVIRONMENTS:
        raise InvalidInput(
            tr("unknown environment {environment}", environment=repr(environment)),
            field="environment",
        )
    settings = runtime.settings
    login = (
        settings.salesforce_login_url
        if environment == "production"
        else settings.salesforce_sandbox_login_url
    )
    return oauth.OAuthClientConfig(
        client_id=settings.salesforce_client_id,
        client_secret=settings.salesforce_client_secret.get_secret_value(),
        login_url=str(login).rstrip("/"),
        redirect_uri=str(runtime.settings.base_url).rstrip("/") + CALLBACK_PATH,
    )


def begin_connect(
    runtime: Runtime,
    user: User,
    environment: str,
    *,
    purpose: ConnectionPurpose = ConnectionPurpose.USER,
    login_hint: str | None = None,
) -> tuple[str, PendingConnect]:
    """The Salesforce authorize URL to send the browser to, and what to keep until it returns."""
    config = oauth_config(runtime, environment)
    pkce = oauth.new_pkce_pair()
    pending = PendingConnect(
        state=oauth.new_state(),
        code_verifier=pkce.verifier,
        environment=environment,
        user_id=user.id,
        purpose=purpose.value,
    )
    url = oauth.authorize_url(config, pending.state, pkce.challenge, login_hint=login_hint)
    return url, pending


def complete_connect(
    runtime: Runtime,
    pending: PendingConnect,
    *,
    state: str,
    code: str,
    http: httpx.Client,
) -> ConnectOutcome:
    """Exchange the code, identify the Salesforce user and store the connection encrypted."""
    if state != pending.state:
        raise InvalidInput(tr("the sign-in answer does not match this browser; connect again"))
    config = oauth_config(runtime, pending.environment)
    tokens = oauth.exchange_code(config, code, pending.code_verifier, http=http)
    identity = oauth.fetch_identity(tokens, http=http)
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        user = session.get(User, pending.user_id)
        if user is None:
            raise NotFound(tr("the user who started this connection no longer exists"))
        return _store_connection(
            session, runtime.secret_box, user, pending, config, tokens, identity, now
        )


def _store_connection(
    session: Session,
    box: SecretBox,
    user: User,
    pending: PendingConnect,
    config: oauth.OAuthClientConfig,
    tokens: oauth.TokenSet,
    identity: oauth.Identity,
    now: datetime,
) -> ConnectOutcome:
    purpose = ConnectionPurpose(pending.purpose)
    row = (
        store.for_user(session, user.id)
        if purpose is ConnectionPurpose.USER
        else store.team_sync_connection(session, user.team_id)
    )
    warnings: list[str] = []
    if row is not None and row.org_id != identity.org_id:
        # A different org: the old Salesforce ids mean nothing there (DESIGN §3).
        dropped = store.drop_user_links(session, user.id, row.org_id)
        warnings.append(f"Connected to a different Salesforce org; {dropped} old links dropped.")
    if row is None:
        row = SalesforceConnection(team_id=user.team_id, purpose=purpose, connected_at=now)
        session.add(row)
    row.user_id = user.id if purpose is ConnectionPurpose.USER else None
    row.environment = pending.environment
    row.login_url = config.login_url
    row.instance_url = tokens.instance_url
    row.org_id = identity.org_id
    row.sf_user_id = identity.user_id
    row.sf_username = identity.username
    row.sf_email = identity.email
    row.access_token_enc = box.encrypt(tokens.access_token)
    row.refresh_token_enc = box.encrypt(tokens.refresh_token) if tokens.refresh_token else None
    row.status = ConnectionStatus.CONNECTED
    row.broken_reason = None
    row.connected_at = now
    row.updated_at = now
    session.flush()
    if identity.email.lower() != user.email.lower():
        # CONN-5: the docs require the same email on both sides.
        warnings.append(
            f"Your Salesforce email ({identity.email}) differs from your salesync email "
            f"({user.email}). Logging works, but sign-in from Salesforce will not match you."
        )
    if not tokens.refresh_token:
        warnings.append(
            "Salesforce granted no refresh token: add the refresh_token scope to the "
            "Connected App, or the connection stops when the session expires."
        )
    resumed = 0
    if purpose is ConnectionPurpose.USER:
        resumed = outbox.resume_user(session, user.id, now=now)
        diagnostics.resolve_code_for_user(session, user.id, "NOT_CONNECTED", now=now)
        diagnostics.resolve_code_for_user(session, user.id, "CONNECTION_BROKEN", now=now)
    return ConnectOutcome(row.id, identity.username, identity.org_id, tuple(warnings), resumed)


def mark_broken(runtime: Runtime, connection_id: int, reason: str) -> None:
    """Stop using a connection until the rep reconnects; their queue waits, paused."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = store.by_id(session, connection_id)
        if row is None:
            return
        row.status = ConnectionStatus.BROKEN
        row.broken_reason = reason
        row.updated_at = now
        if row.user_id is not None:
            outbox.pause_user(session, row.user_id, now=now, reason=reason)
            diagnostics.record(
                session,
                team_id=row.team_id,
                user_id=row.user_id,
                item_type="connection",
                item_id=row.id,
                code="CONNECTION_BROKEN",
                category="authentication",
                message=tr(
                    "Salesforce refused the stored sign-in ({reason}). Reconnect to resume.",
                    reason=reason,
                ),
                now=now,
            )


def disconnect(runtime: Runtime, user: User, *, http: httpx.Client) -> bool:
    """Revoke the token and forget it; settings and queued items stay (paused, visible)."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = store.for_user(session, user.id)
        if row is None or row.status is ConnectionStatus.DISCONNECTED:
            return False
        token_enc = row.refresh_token_enc or row.access_token_enc
        instance_url = row.instance_url
        row.status = ConnectionStatus.DISCONNECTED
        row.broken_reason = "disconnected by the user"
        row.access_token_enc = ""
        row.refresh_token_enc = None
        row.updated_at = now
        outbox.pause_user(session, user.id, now=now, reason="Salesforce is disconnected")
    if token_enc:
        # Revoking a refresh token revokes its access tokens too (API-FACTS §3). A failure
        # here leaves nothing usable on our side, so it is not fatal.
        try:
            oauth.revoke(instance_url, runtime.secret_box.decrypt(token_enc), http=http)
        except SalesforceError:
            return True
    return True


class StoredTokens:
    """A :class:`salesforce.auth.TokenStore` over one encrypted connection row.

    ``save`` commits on its own at once, so a rotated refresh token is durable before the new
    access token is used (API-FACTS "Pitfalls: Token handling").
    """

    def __init__(self, runtime: Runtime, connection_id: int, *, reuse_seconds: float = 0) -> None:
        self._runtime = runtime
        self._connection_id = connection_id
        #: How long tokens read (or kept, or saved) may be used without reading the row again.
        #: A worker reads its connection row at the start of every batch; reading it again
        #: for each call cost a sixth of its CPU per rep. Staleness is safe: a refused token
        #: is refreshed under the row's lock, which sees a newer token saved elsewhere.
        self._reuse_seconds = reuse_seconds
        self._kept: tuple[oauth.TokenSet, float] | None = None

    def keep(self, row: SalesforceConnection) -> None:
        """Use the tokens of ``row``, just read by the caller, for the next calls."""
        self._remember(self.from_row(row))

    def _remember(self, token_set: oauth.TokenSet) -> None:
        if self._reuse_seconds:
            self._kept = (token_set, time.monotonic())

    def load(self) -> oauth.TokenSet:
        kept = self._kept
        if kept is not None and time.monotonic() - kept[1] < self._reuse_seconds:
            return kept[0]
        with self._runtime.sessions() as session:
            row = store.by_id(session, self._connection_id)
            if row is None or row.status is ConnectionStatus.DISCONNECTED:
                raise NotFound(tr("this Salesforce connection no longer exists"))
            token_set = self.from_row(row)
        self._remember(token_set)
        return token_set

    def from_row(self, row: SalesforceConnection) -> oauth.TokenSet:
        box = self._runtime.secret_box
        return oauth.TokenSet(
            access_token=box.decrypt(row.access_token_enc),
            refresh_token=box.decrypt(row.refresh_token_enc) if row.refresh_token_enc else None,
            instance_url=row.instance_url,
            id_url=f"{row.login_url}/id/{row.org_id}/{row.sf_user_id}",
            issued_at=row.updated_at,
        )

    def save(self, token_set: oauth.TokenSet) -> None:
        box = self._runtime.secret_box
        with unit_of_work(self._runtime.sessions) as session:
            row = store.by_id(session, self._connection_id)
            if row is None:
                raise NotFound(tr("this Salesforce connection no longer exists"))
            row.access_token_enc = box.encrypt(token_set.access_token)
            if token_set.refresh_token:
                row.refresh_token_enc = box.encrypt(token_set.refresh_token)
            row.instance_url = token_set.instance_url
            row.updated_at = self._runtime.clock.now()
        self._remember(token_set)


class SerializedRefresher:
    """Refreshes a connection's tokens one process at a time, across every machine.

    With refresh-token rotation, two workers refreshing with the same refresh token would
    leave one holding a dead token and wrongly mark the connection broken. Holding the
    connection row's write lock while refreshing lets the second worker see that the first
    already refreshed, and use those tokens instead.
    """

    def __init__(self, runtime: Runtime, connection_id: int, refresher: Refresher) -> None:
        self._runtime = runtime
        self._connection_id = connection_id
        self._refresher = refresher

    def __call__(self, token_set: oauth.TokenSet) -> oauth.TokenSet:
        box = self._runtime.secret_box
        with unit_of_work(self._runtime.sessions) as session:
            row = store.by_id_for_update(session, self._connection_id)
            if row is None or not row.access_token_enc:
                raise NotFound(tr("this Salesforce connection no longer exists"))
            current = box.decrypt(row.access_token_enc)
            if current != token_set.access_token:
                return StoredTokens(self._runtime, self._connection_id).from_row(row)
            fresh = self._refresher(token_set)
            # Stored in this transaction, before the new access token is used anywhere.
            row.access_token_enc = box.encrypt(fresh.access_token)
            if fresh.refresh_token:
                row.refresh_token_enc = box.encrypt(fresh.refresh_token)
            row.instance_url = fresh.instance_url
            row.updated_at = self._runtime.clock.now()
            return fresh


class StoredLimits:
    """A :class:`salesforce.limits.LimitsSink` that keeps the org's latest API usage."""

    def __init__(self, runtime: Runtime, org_id: str, *, held: bool = False) -> None:
        self._runtime = runtime
        self._org_id = org_id
        self.latest: LimitInfo | None = None
        #: Held: calls are counted in memory and written by :meth:`flush`, which the owner
        #: calls when its batch ends (one write per batch instead of one per call).
        self._held = held
        self._lock = threading.Lock()
        self._unwritten = 0
        self._unwritten_usage: ApiUsage | None = None

    def record(self, info: LimitInfo) -> None:
        self.latest = info
        with self._lock:
            # Every answer that carries the header is one call of ours (composite included).
            self._unwritten += 1
            if info.api_usage is not None:
                self._unwritten_usage = info.api_usage
        if not self._held:
            self.flush()

    def flush(self, session: Session | None = None) -> None:
        """Write the calls counted since the last flush, and the latest usage seen.

        With ``session``, they are written in the caller's transaction (a batch saves its
        results and its calls together); otherwise in a transaction of their own.
        """
        with self._lock:
            calls, usage = self._unwritten, self._unwritten_usage
            self._unwritten, self._unwritten_usage = 0, None
        if not calls:
            return
        if session is not None:
            self._write(session, calls, usage)
            return
        with unit_of_work(self._runtime.sessions) as own:
            self._write(own, calls, usage)

    def _write(self, session: Session, calls: int, usage: ApiUsage | None) -> None:
        now = self._runtime.clock.now()
        store.count_calls(session, self._org_id, calls, now=now)
        if usage is not None:
            store.record_usage(session, self._org_id, usage.used, usage.max, now=now)
