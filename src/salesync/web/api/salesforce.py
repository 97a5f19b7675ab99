"""Salesforce connections and Sync Settings through the JSON API."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from salesync.domain.settings import SETTING_NAMES
from salesync.runtime import Runtime
from salesync.services import connections, sync_settings
from salesync.services.mail_accounts import save_smtp_account
from salesync.store import connections as connection_store
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep
from salesync.web.schemas import BoundedInput, EmailText, Line

router = APIRouter(prefix="/salesforce", tags=["salesforce"])

#: Key of the pending OAuth round trip in the signed session cookie.
PENDING_KEY = "salesforce_connect"


class ConnectRequest(BoundedInput):
    environment: Literal["production", "sandbox"] = "production"
    login_hint: EmailText | None = None


class ConnectStart(BaseModel):
    authorize_url: str


class ConnectionPublic(BaseModel):
    connected: bool
    status: str
    environment: str | None = None
    instance_url: str | None = None
    org_id: str | None = None
    username: str | None = None
    email: str | None = None
    broken_reason: str | None = None
    connected_at: datetime | None = None
    checks: list[dict[str, Any]] = []


class SettingsPublic(BaseModel):
    values: dict[str, Any]
    origins: dict[str, str]
    locked_by: dict[str, str]
    force_mode: str | None


SettingName = Annotated[Line, Field(max_length=64)]


class TeamSettingsBody(BoundedInput):
    defaults: dict[SettingName, Any] = Field(default={}, max_length=64)
    locked: list[SettingName] | None = Field(default=None, max_length=64)


class OverrideBody(BoundedInput):
    force_mode: Literal["api_only", "bcc_only"] | None = None


class AdminOptionsBody(BoundedInput):
    subject_template: Annotated[Line, Field(max_length=1000)] | None = None
    api_budget_share: int | None = Field(default=None, ge=0, le=100)


class AdminOptionsPublic(BaseModel):
    subject_template: str
    api_budget_share: int


class SmtpBody(BoundedInput):
    host: Annotated[Line, Field(max_length=253)]
    port: int = Field(default=587, ge=1, le=65535)
    username: Annotated[Line, Field(max_length=320)] = ""
    password: Annotated[str, Field(max_length=1024)] | None = None
    starttls: bool = True


def remember_pending(
    cookie_session: MutableMapping[str, Any], runtime: Runtime, pending: connections.PendingConnect
) -> None:
    """Keep the round trip's state in the signed cookie, with the PKCE verifier encrypted
    (the cookie is signed, not encrypted)."""
    data = pending.to_dict()
    data["code_verifier"] = runtime.secret_box.encrypt(pending.code_verifier)
    cookie_session[PENDING_KEY] = data


def take_pending(
    cookie_session: MutableMapping[str, Any], runtime: Runtime
) -> connections.PendingConnect | None:
    data = cookie_session.pop(PENDING_KEY, None)
    if not isinstance(data, dict):
        return None
    data = {**data, "code_verifier": runtime.secret_box.decrypt(str(data["code_verifier"]))}
    return connections.PendingConnect.from_dict(data)


def connection_public(runtime: Runtime, user: User) -> ConnectionPublic:
    with runtime.sessions() as session:
        row = connection_store.for_user(session, user.id)
        if row is None:
            return ConnectionPublic(connected=False, status="not_connected")
        return ConnectionPublic(
            connected=row.status.value == "connected",
            status=row.status.value,
            environment=row.environment,
            instance_url=row.instance_url,
            org_id=row.org_id,
            username=row.sf_username,
            email=row.sf_email,
            broken_reason=row.broken_reason,
            connected_at=row.connected_at,
            checks=list((row.org_profile or {}).get("checks", [])),
        )


@router.get("/connection", response_model=ConnectionPublic)
def read_connection(runtime: RuntimeDep, user: CurrentUser) -> ConnectionPublic:
    return connection_public(runtime, user)


@router.post("/connection", response_model=ConnectStart)
def start_connect(
    request: Request, runtime: RuntimeDep, user: CurrentUser, body: ConnectRequest
) -> ConnectStart:
    """Start connecting: open ``authorize_url`` in this browser; Salesforce returns to the
    callback, which finishes the connection."""
    url, pending = connections.begin_connect(
        runtime, user, body.environment, login_hint=body.login_hint
    )
    remember_pending(request.session, runtime, pending)
    return ConnectStart(authorize_url=url)


@router.delete("/connection", status_code=204)
def disconnect(runtime: RuntimeDep, user: CurrentUser) -> None:
    """Disconnect: revoke the token; settings and queued items stay (paused)."""
    with httpx.Client(timeout=30.0) as http:
        connections.disconnect(runtime, user, http=http)


def settings_public(runtime: Runtime, user: User) -> SettingsPublic:
    with runtime.sessions() as session:
        member = session.get(User, user.id)
        assert member is not None
        policy = sync_settings.team_policy(session, member.team)
        effective = sync_settings.effective_for(session, member)
    values = {
        name: getattr(getattr(effective.settings, name), "value", getattr(effective.settings, name))
        for name in SETTING_NAMES
    }
    return SettingsPublic(
        values=values,
        origins={name: origin.value for name, origin in effective.origins},
        locked_by={lock.setting: lock.locked_by for lock in policy.locks},
        force_mode=policy.force_mode.value if policy.force_mode else None,
    )


@router.get("/settings", response_model=SettingsPublic)
def read_settings(runtime: RuntimeDep, user: CurrentUser) -> SettingsPublic:
    return settings_public(runtime, user)


@router.patch("/settings", response_model=SettingsPublic)
def save_settings(runtime: RuntimeDep, user: CurrentUser, body: dict[str, Any]) -> SettingsPublic:
    """Save your own options; a locked option or a bad value refuses the whole change."""
    with unit_of_work(runtime.sessions) as session:
        member = session.get(User, user.id)
        assert member is not None
        sync_settings.save_my_settings(session, member, body, now=runtime.clock.now())
    return settings_public(runtime, user)


@router.put("/team-settings", response_model=SettingsPublic)
def save_team_settings(
    runtime: RuntimeDep, admin: AdminUser, body: TeamSettingsBody
) -> SettingsPublic:
    """Admin: team defaults and the options locked for every rep."""
    with unit_of_work(runtime.sessions) as session:
        member = session.get(User, admin.id)
        assert member is not None
        sync_settings.save_team_settings(
            session,
            member,
            defaults=body.defaults,
            locked=set(body.locked) if body.locked is not None else None,
            now=runtime.clock.now(),
        )
    return settings_public(runtime, admin)


@router.put("/team-override", response_model=SettingsPublic)
def save_override(runtime: RuntimeDep, admin: AdminUser, body: OverrideBody) -> SettingsPublic:
    """Admin: "Override all Salesforce sync settings for my team": api_only, bcc_only or none."""
    with unit_of_work(runtime.sessions) as session:
        member = session.get(User, admin.id)
        assert member is not None
        sync_settings.set_override(session, member, body.force_mode)
    return settings_public(runtime, admin)


@router.get("/admin-options", response_model=AdminOptionsPublic)
def read_admin_options(runtime: RuntimeDep, user: CurrentUser) -> AdminOptionsPublic:
    with runtime.sessions() as session:
        member = session.get(User, user.id)
        assert member is not None
        return AdminOptionsPublic(
            subject_template=sync_settings.subject_template_of(member.team),
            api_budget_share=member.team.api_budget_share,
        )


@router.put("/admin-options", response_model=AdminOptionsPublic)
def save_admin_options(
    runtime: RuntimeDep, admin: AdminUser, body: AdminOptionsBody
) -> AdminOptionsPublic:
    """Admin: the Activity Detail template and the API budget share."""
    with unit_of_work(runtime.sessions) as session:
        member = session.get(User, admin.id)
        assert member is not None
        team = sync_settings.save_admin_options(
            session,
            member,
            subject_template=body.subject_template,
            api_budget_share=body.api_budget_share,
            now=runtime.clock.now(),
        )
        return AdminOptionsPublic(
            subject_template=sync_settings.subject_template_of(team),
            api_budget_share=team.api_budget_share,
        )


@router.put("/smtp", status_code=204)
def save_my_smtp(runtime: RuntimeDep, user: CurrentUser, body: SmtpBody) -> None:
    """Your own SMTP server for sales email (the password is stored encrypted)."""
    save_smtp_account(runtime, user, for_team=False, now=runtime.clock.now(), **body.model_dump())


@router.put("/team-smtp", status_code=204)
def save_team_smtp(runtime: RuntimeDep, admin: AdminUser, body: SmtpBody) -> None:
    save_smtp_account(runtime, admin, for_team=True, now=runtime.clock.now(), **body.model_dump())
