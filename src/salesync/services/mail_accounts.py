"""Which SMTP server sends a rep's email: their own, the team's, or the configured default."""

from __future__ import annotations

from datetime import datetime

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.domain.outbound_hosts import check_outbound_host, parse_allow_list
from salesync.domain.wording import tr
from salesync.errors import PermissionDenied
from salesync.mail.smtp import Mailer, SmtpMailer, SmtpSettings
from salesync.runtime import Runtime
from salesync.store.db import unit_of_work
from salesync.store.tables import Role, SmtpAccount, User


def _account(session: Session, team_id: int, user_id: int | None) -> SmtpAccount | None:
    condition = SmtpAccount.user_id.is_(None) if user_id is None else SmtpAccount.user_id == user_id
    return session.scalars(
        select(SmtpAccount).where(SmtpAccount.team_id == team_id, condition)
    ).first()


def _check_host(
    runtime: Runtime, session: Session, user: User, host: str, port: int, *, for_team: bool
) -> str:
    """A rep's own server must be one an admin set or allowed (see domain.outbound_hosts)."""
    team = _account(session, user.team_id, None)
    admin_set = [(runtime.settings.smtp_host, runtime.settings.smtp_port)]
    if team is not None:
        admin_set.append((team.host, team.port))
    return check_outbound_host(
        host,
        port,
        admin_set=admin_set,
        allowed=parse_allow_list(runtime.settings.allowed_outbound_hosts),
        chosen_by_admin=for_team or user.role is Role.ADMIN,
    )


def smtp_settings_for(runtime: Runtime, user: User) -> SmtpSettings:
    """The rep's own server, else the team's, else ``SALESYNC_SMTP_*``.

    A rep's own server is checked again here: the allow-list may have shrunk since it was saved.
    """
    with runtime.sessions() as session:
        row = _account(session, user.team_id, user.id) or _account(session, user.team_id, None)
        if row is None:
            return SmtpSettings.from_settings(runtime.settings)
        if row.user_id is not None:
            _check_host(runtime, session, user, row.host, row.port, for_team=False)
        password = runtime.secret_box.decrypt(row.password_enc) if row.password_enc else ""
        return SmtpSettings(
            host=row.host,
            port=row.port,
            username=row.username,
            password=SecretStr(password),
            starttls=row.starttls,
            timeout_seconds=runtime.settings.smtp_timeout_seconds,
        )


def mailer_for(runtime: Runtime, user: User) -> Mailer:
    domain = user.email.rsplit("@", 1)[1]
    return SmtpMailer(smtp_settings_for(runtime, user), domain, clock=runtime.clock)


def save_smtp_account(
    runtime: Runtime,
    user: User,
    *,
    for_team: bool,
    host: str,
    port: int,
    username: str,
    password: str | None,
    starttls: bool,
    now: datetime,
) -> None:
    """Store SMTP settings; the password is encrypted, and kept when ``password`` is None."""
    if for_team and user.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can set the team's SMTP server"))
    with unit_of_work(runtime.sessions) as session:
        host = _check_host(runtime, session, user, host, port, for_team=for_team)
        owner = None if for_team else user.id
        row = _account(session, user.team_id, owner)
        if row is None:
            row = SmtpAccount(team_id=user.team_id, user_id=owner, updated_at=now)
            session.add(row)
        row.host, row.port, row.username, row.starttls = host.strip(), port, username, starttls
        if password is not None:
            row.password_enc = runtime.secret_box.encrypt(password) if password else None
        row.updated_at = now
