"""The rep's mailbox connection and the team's mailbox rules through the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from salesync.mailbox.client import MailboxConnector
from salesync.mailbox.imap import ImapConnector
from salesync.services import mailbox_accounts
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep
from salesync.web.schemas import Line

router = APIRouter(tags=["mailbox"])

SecurityName = Literal["tls", "starttls", "plain"]


def connector_of(request: Request) -> MailboxConnector:
    """The app's IMAP connector (a deployment or a test may set its own)."""
    connector: MailboxConnector | None = getattr(request.app.state, "mailbox_connector", None)
    return connector or ImapConnector()


class MailboxPublic(BaseModel):
    configured: bool
    username: str
    host: str | None
    port: int | None
    security: str | None
    uses_team_server: bool
    sent_folder: str | None
    inbox_folder: str | None
    enabled: bool
    #: "not connected", "new" (not synced yet), "ok" or "broken".
    status: str
    #: The server's answer when broken.
    broken_reason: str | None
    last_sync_at: datetime | None
    team_server: str | None
    allow_custom_servers: bool


class MailboxUpdate(BaseModel):
    username: str = Field(min_length=1, max_length=320)
    #: Omit to keep the stored password. Stored encrypted, never returned.
    password: str | None = Field(default=None, max_length=1000)
    #: Omit host, port and security to use the team's server.
    host: str | None = Field(default=None, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: SecurityName | None = None
    #: Folder names; omit to find them through SPECIAL-USE.
    sent_folder: str | None = Field(default=None, max_length=255)
    inbox_folder: str | None = Field(default=None, max_length=255)
    enabled: bool = True


class MailboxTestPublic(BaseModel):
    ok: bool
    #: The server's own answer.
    message: str
    folders: list[str]
    sent_folder: str | None
    inbox_folder: str | None


class TeamMailboxSettings(BaseModel):
    host: str | None = Field(default=None, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: SecurityName | None = None
    allow_custom_servers: bool = True
    internal_domains: list[Annotated[Line, Field(max_length=253)]] = Field(
        default_factory=list, max_length=100
    )
    blocked_domains: list[Annotated[Line, Field(max_length=253)]] = Field(
        default_factory=list, max_length=1000
    )
    #: Log sent mail to anyone found in Salesforce by address, not only to salesync people.
    log_anyone: bool = False
    lookback_days: int = Field(default=7, ge=1, le=mailbox_accounts.MAX_LOOKBACK_DAYS)
    poll_seconds: int = Field(default=60, ge=15, le=3600)


def _public(view: mailbox_accounts.MailboxView) -> MailboxPublic:
    return MailboxPublic(**view.__dict__)


@router.get("/me/mailbox", response_model=MailboxPublic)
def read_mailbox(runtime: RuntimeDep, user: CurrentUser) -> MailboxPublic:
    return _public(mailbox_accounts.view(runtime, user))


@router.put("/me/mailbox", response_model=MailboxPublic)
def save_mailbox(runtime: RuntimeDep, user: CurrentUser, body: MailboxUpdate) -> MailboxPublic:
    mailbox_accounts.save_mailbox(runtime, user, mailbox_accounts.MailboxInput(**body.model_dump()))
    return _public(mailbox_accounts.view(runtime, user))


@router.delete("/me/mailbox", status_code=204)
def delete_mailbox(runtime: RuntimeDep, user: CurrentUser) -> Response:
    mailbox_accounts.delete_mailbox(runtime, user)
    return Response(status_code=204)


@router.post("/me/mailbox/test", response_model=MailboxTestPublic)
def test_mailbox(request: Request, runtime: RuntimeDep, user: CurrentUser) -> MailboxTestPublic:
    result = mailbox_accounts.test_connection(runtime, user, connector_of(request))
    return MailboxTestPublic(
        ok=result.ok,
        message=result.message,
        folders=list(result.folders),
        sent_folder=result.sent_folder,
        inbox_folder=result.inbox_folder,
    )


@router.get("/team/mailbox-settings", response_model=TeamMailboxSettings)
def read_team_settings(runtime: RuntimeDep, admin: AdminUser) -> TeamMailboxSettings:
    with runtime.sessions() as session:
        row = mailbox_accounts.team_settings_of(session, admin.team_id)
        return TeamMailboxSettings(
            host=row.host,
            port=row.port,
            security=row.security,
            allow_custom_servers=row.allow_custom_servers,
            internal_domains=list(row.internal_domains),
            blocked_domains=list(row.blocked_domains),
            log_anyone=row.log_anyone,
            lookback_days=row.lookback_days,
            poll_seconds=row.poll_seconds,
        )


@router.put("/team/mailbox-settings", response_model=TeamMailboxSettings)
def save_team_settings(
    runtime: RuntimeDep, admin: AdminUser, body: TeamMailboxSettings
) -> TeamMailboxSettings:
    mailbox_accounts.save_team_settings(
        runtime, admin, mailbox_accounts.TeamMailboxInput(**body.model_dump())
    )
    return read_team_settings(runtime, admin)
