"""Connecting a rep's mailbox over IMAP, the team's mailbox rules, and "Test connection".

The password is encrypted with the secret box before it is stored and is never logged or
returned. An admin may give the team's server so that reps enter only their credentials, and
may forbid other servers.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from salesync.domain.mailbox_rules import normalize_domains
from salesync.domain.outbound_hosts import check_outbound_host, parse_allow_list
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, NotFound, PermissionDenied
from salesync.mailbox.auth import PasswordAuth
from salesync.mailbox.client import (
    MailboxConnector,
    Security,
    ServerAddress,
    inbox_folder,
    sent_folder,
)
from salesync.mailbox.errors import MailboxError
from salesync.mailbox.imap import is_loopback
from salesync.runtime import Runtime
from salesync.store import diagnostics
from salesync.store import mailboxes as store
from salesync.store.db import unit_of_work
from salesync.store.tables import MailboxAccount, MailboxTeamSettings, Role, User

_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$|^\[?[0-9a-fA-F:.]+\]?$")
#: Diagnostics item type and code of a mailbox that cannot be read.
ITEM_TYPE, BROKEN_CODE = "mailbox", "MAILBOX_BROKEN"
MAX_LOOKBACK_DAYS = 90


@dataclasses.dataclass(frozen=True)
class MailboxInput:
    """What a rep enters; host/port/security are None to use the team's server."""

    username: str
    #: None keeps the stored password.
    password: str | None
    host: str | None = None
    port: int | None = None
    security: str | None = None
    sent_folder: str | None = None
    inbox_folder: str | None = None
    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class TeamMailboxInput:
    host: str | None
    port: int | None
    security: str | None
    allow_custom_servers: bool
    internal_domains: Sequence[str]
    blocked_domains: Sequence[str]
    log_anyone: bool
    lookback_days: int = 7
    poll_seconds: int = 60


@dataclasses.dataclass(frozen=True)
class MailboxView:
    """A rep's mailbox as pages and the API show it (no password)."""

    configured: bool
    username: str
    host: str | None
    port: int | None
    security: str | None
    uses_team_server: bool
    sent_folder: str | None
    inbox_folder: str | None
    enabled: bool
    status: str
    broken_reason: str | None
    last_sync_at: datetime | None
    team_server: str | None
    allow_custom_servers: bool


@dataclasses.dataclass(frozen=True)
class TestResult:
    ok: bool
    #: The server's own answer (greeting/capabilities or its refusal).
    message: str
    folders: tuple[str, ...] = ()
    sent_folder: str | None = None
    inbox_folder: str | None = None


def _check_server(host: str | None, port: int | None, security: str | None) -> None:
    if host is None:
        return
    if not host.strip() or not _HOST.match(host.strip()):
        raise InvalidInput(tr("give a host name"), field="host")
    if port is None or not 1 <= port <= 65535:
        raise InvalidInput(tr("the port is from 1 to 65535"), field="port")
    try:
        mode = Security(security or "")
    except ValueError:
        raise InvalidInput(tr("security is tls, starttls or plain"), field="security") from None
    if mode is Security.PLAIN and not is_loopback(host):
        raise InvalidInput(
            tr(
                "an unencrypted connection is only allowed to a server on this machine; "
                "choose tls or starttls"
            ),
            field="security",
        )


def save_team_settings(runtime: Runtime, admin: User, data: TeamMailboxInput) -> None:
    if admin.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can set the team's mailbox server"))
    _check_server(data.host or None, data.port, data.security)
    if not 1 <= data.lookback_days <= MAX_LOOKBACK_DAYS:
        raise InvalidInput(
            tr("read back from 1 to {max_lookback_days} days", max_lookback_days=MAX_LOOKBACK_DAYS),
            field="lookback_days",
        )
    if not 15 <= data.poll_seconds <= 3600:
        raise InvalidInput(tr("poll every 15 to 3,600 seconds"), field="poll_seconds")
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = store.team_settings(session, admin.team_id)
        if row is None:
            row = MailboxTeamSettings(team_id=admin.team_id, updated_at=now)
            session.add(row)
        row.host = (data.host or "").strip() or None
        row.port = data.port if row.host else None
        row.security = data.security if row.host else None
        row.allow_custom_servers = data.allow_custom_servers
        row.internal_domains = sorted(normalize_domains(list(data.internal_domains)))
        row.blocked_domains = sorted(normalize_domains(list(data.blocked_domains)))
        row.log_anyone = data.log_anyone
        row.lookback_days = data.lookback_days
        row.poll_seconds = data.poll_seconds
        row.updated_at = now


def team_settings_of(session: Session, team_id: int) -> MailboxTeamSettings:
    """The stored rules, or the defaults (no team server, custom servers allowed)."""
    row = store.team_settings(session, team_id)
    if row is not None:
        return row
    return MailboxTeamSettings(
        team_id=team_id,
        allow_custom_servers=True,
        internal_domains=[],
        blocked_domains=[],
        log_anyone=False,
        lookback_days=7,
        poll_seconds=60,
    )


def save_mailbox(runtime: Runtime, user: User, data: MailboxInput) -> None:
    """Store the rep's connection; it is synced from the next worker round."""
    if not data.username.strip() or len(data.username) > 320:
        raise InvalidInput(tr("give the mailbox username"), field="username")
    if data.password is not None and len(data.password) > 1000:
        raise InvalidInput(tr("the password is too long"), field="password")
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        team = team_settings_of(session, user.team_id)
        custom = bool(data.host and data.host.strip())
        if custom and team.host and not team.allow_custom_servers:
            raise PermissionDenied(
                tr("your admin set the team's mail server; enter only your login")
            )
        if not custom and not team.host:
            raise InvalidInput(tr("give your mail server (host and port)"), field="host")
        _check_server(data.host if custom else None, data.port, data.security)
        if custom and data.host and data.port and user.role is not Role.ADMIN:
            # A rep's own server must be one an admin set or allowed: otherwise Test
            # connection and the sync could aim the server at any host and port.
            check_outbound_host(
                data.host.strip(),
                data.port,
                admin_set=[(team.host, team.port)] if team.host and team.port else [],
                allowed=parse_allow_list(runtime.settings.allowed_outbound_hosts),
                chosen_by_admin=False,
            )
        row = store.account_for_user(session, user.id)
        if row is None:
            if not data.password:
                raise InvalidInput(tr("give the (app) password"), field="password")
            row = MailboxAccount(
                team_id=user.team_id,
                user_id=user.id,
                cursors={},
                status="new",
                next_sync_at=now,
                created_at=now,
                updated_at=now,
                password_enc="",
            )
            session.add(row)
        server_changed = (row.host, row.port, row.username) != (
            data.host.strip() if custom and data.host else None,
            data.port if custom else None,
            data.username.strip(),
        )
        row.host = data.host.strip() if custom and data.host else None
        row.port = data.port if custom else None
        row.security = data.security if custom else None
        row.username = data.username.strip()
        if data.password:
            row.password_enc = runtime.secret_box.encrypt(data.password)
        for role in ("sent", "inbox"):
            wanted = (getattr(data, f"{role}_folder") or "").strip() or None
            if wanted != getattr(row, f"{role}_folder"):
                setattr(row, f"{role}_folder", wanted)
                row.cursors = {k: v for k, v in row.cursors.items() if k != role}
        if server_changed and row.id is not None:
            # Another mailbox: its UIDs mean nothing here; the handled-message keys still
            # protect against logging twice.
            row.cursors = {}
        row.enabled = data.enabled
        row.status = "new" if server_changed or data.password else row.status
        row.next_sync_at = now
        row.updated_at = now


def delete_mailbox(runtime: Runtime, user: User) -> None:
    with unit_of_work(runtime.sessions) as session:
        row = store.account_for_user(session, user.id)
        if row is None:
            raise NotFound(tr("no mailbox is connected"))
        diagnostics.resolve_item(session, ITEM_TYPE, row.id, now=runtime.clock.now())
        session.delete(row)


def view(runtime: Runtime, user: User) -> MailboxView:
    with runtime.sessions() as session:
        team = team_settings_of(session, user.team_id)
        row = store.account_for_user(session, user.id)
        team_server = f"{team.host}:{team.port} ({team.security})" if team.host else None
        if row is None:
            return MailboxView(
                False, user.email, None, None, None, bool(team.host), None, None, True,
                "not connected", None, None, team_server, team.allow_custom_servers,
            )  # fmt: skip
        return MailboxView(
            True, row.username, row.host, row.port, row.security, row.host is None,
            row.sent_folder, row.inbox_folder, row.enabled, row.status, row.broken_reason,
            row.last_sync_at, team_server, team.allow_custom_servers,
        )  # fmt: skip


def address_of(session: Session, row: MailboxAccount, timeout: float = 30.0) -> ServerAddress:
    """The server a mailbox uses: its own, else the team's."""
    if row.host:
        return ServerAddress(row.host, row.port or 993, Security(row.security or "tls"), timeout)
    team = team_settings_of(session, row.team_id)
    if not team.host:
        raise InvalidInput(tr("the team's mail server is not set; ask your admin"), field="host")
    return ServerAddress(team.host, team.port or 993, Security(team.security or "tls"), timeout)


def credentials_of(runtime: Runtime, row: MailboxAccount) -> PasswordAuth:
    return PasswordAuth(row.username, runtime.secret_box.decrypt(row.password_enc))


def test_connection(runtime: Runtime, user: User, connector: MailboxConnector) -> TestResult:
    """Log in with the stored connection and list the folders; the server's answer either way."""
    with runtime.sessions() as session:
        row = store.account_for_user(session, user.id)
        if row is None:
            raise NotFound(tr("no mailbox is connected"))
        address = address_of(session, row, timeout=15.0)
        auth = credentials_of(runtime, row)
        overrides = (row.sent_folder, row.inbox_folder)
    try:
        with connector.open(address, auth) as mailbox:
            folders = mailbox.folders()
            capabilities = " ".join(sorted(mailbox.capabilities))
    except MailboxError as exc:
        return TestResult(False, exc.message)
    sent = overrides[0] or sent_folder(folders)
    inbox = overrides[1] or inbox_folder(folders)
    names = tuple(f.name for f in folders)
    message = f"Logged in to {address.host}:{address.port}. Server capabilities: {capabilities}"
    if sent is None:
        message += ". No Sent folder was found: choose it below."
    return TestResult(True, message, names, sent, inbox)
