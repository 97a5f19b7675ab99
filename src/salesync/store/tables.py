"""The database schema: one set of tables for SQLite and PostgreSQL.

Reading guide: a *team* has users (admins and reps); users own people, reminder tasks, sent
emails and calls. Everything that must reach Salesforce is an ``outbox`` row written in the same
transaction as the change; ``salesforce_links`` remember which Salesforce record a local row
became; ``diagnostics`` hold every reason something did not sync.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from salesync.domain.reminder_mapping import ReminderPriority, ReminderStatus
from salesync.store.types import BigId, UTCDateTime

#: Stable constraint names, so migrations can alter them on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native PG enum) so adding a value never needs a type migration.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Role(enum.StrEnum):
    ADMIN = "admin"
    REP = "rep"


class RecipientKind(enum.StrEnum):
    TO = "to"
    CC = "cc"


class ConnectionPurpose(enum.StrEnum):
    USER = "user"
    TEAM_SYNC = "team_sync"


class ConnectionStatus(enum.StrEnum):
    CONNECTED = "connected"
    BROKEN = "broken"
    DISCONNECTED = "disconnected"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    FAILED = "failed"
    PAUSED = "paused"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Activity Detail Customization (API-6); NULL means the default template.
    subject_template: Mapped[str | None] = mapped_column(String(1000))
    #: Share of the org's daily API allocation salesync may spend, in percent (DESIGN §3).
    api_budget_share: Mapped[int] = mapped_column(Integer, default=50)
    #: Team override of the logging mode: NULL, "api_only" or "bcc_only" (API-4, BCC-4).
    force_mode: Mapped[str | None] = mapped_column(String(16))
    #: salesync activity attribute -> Task custom field API name (spec 1.10); {} means defaults.
    attribute_field_map: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The Task External ID field that makes creates idempotent upserts.
    external_id_field: Mapped[str] = mapped_column(String(80), default="Salesync_Activity_Id__c")
    created_at: Mapped[datetime]
    #: The language of members who chose none and whose browser asks for none salesync has.
    default_language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")

    users: Mapped[list[User]] = relationship(back_populates="team")


class SmtpAccount(Base):
    """SMTP settings of a user (or of the team when ``user_id`` is NULL); password encrypted."""

    __tablename__ = "smtp_accounts"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(320), default="")
    password_enc: Mapped[str | None] = mapped_column(Text)
    starttls: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    #: IANA zone name; due dates and ActivityDate are computed in it.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    #: The language the rep chose to read salesync in ("en", "ja", "zh-Hant", "de"), or ""
    #: for automatic: their browser's language, then the team's default.
    language: Mapped[str] = mapped_column(String(16), default="", server_default="")

    team: Mapped[Team] = relationship(back_populates="users")


class ApiToken(Base):
    """A per-user token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SyncSettings(Base):
    """Sync Settings values for a team (``user_id`` NULL) or one user, with the team's locks."""

    __tablename__ = "sync_settings"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Only the options set at this level; absent keys fall back to the team, then defaults.
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Team level only: option name -> id of the admin who locked it.
    locks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CallChoice(Base):
    """An admin-defined call outcome or call reason (at most 15 of each, CALL-4)."""

    __tablename__ = "call_choices"
    __table_args__ = (UniqueConstraint("team_id", "kind", "label"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "outcome" | "reason"
    label: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        # One person per address in a team, whatever the case of the address.
        Index("uq_people_team_email", "team_id", text("lower(email)"), unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    company: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    sf_lead_id: Mapped[str | None] = mapped_column(String(18))
    sf_contact_id: Mapped[str | None] = mapped_column(String(18))
    sf_account_id: Mapped[str | None] = mapped_column(String(18))
    sf_opportunity_id: Mapped[str | None] = mapped_column(String(18))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReminderTask(Base):
    __tablename__ = "reminder_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[ReminderStatus] = mapped_column(
        _enum(ReminderStatus), default=ReminderStatus.OPEN
    )
    priority: Mapped[ReminderPriority] = mapped_column(
        _enum(ReminderPriority), default=ReminderPriority.NORMAL
    )
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    details: Mapped[str] = mapped_column(Text, default="")
    #: Per synced field, when it was last edited here (the conflict rule compares these).
    field_edited_at: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    #: Tombstone: a deleted task stays, so its deletion reaches Salesforce and never resurrects.
    deleted_at: Mapped[datetime | None]
    #: Email, Call, InMail or Custom (TASK-10); the subject template's {{activity_type}}.
    task_type: Mapped[str] = mapped_column(String(16), default="Custom", server_default="Custom")


class SentEmail(Base):
    __tablename__ = "sent_emails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    from_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998))
    body_text: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    is_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "sending" until SMTP accepted it, then "sent"; "failed" keeps an email SMTP refused.
    status: Mapped[str] = mapped_column(String(16), default="sent")
    #: Why sending failed, in the words shown to the rep.
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    #: "salesync" (composer, API) or "mailbox" (found in the rep's Sent folder over IMAP).
    source: Mapped[str] = mapped_column(String(16), default="salesync", server_default="salesync")
    #: Set from a delivery status notification (RFC 3464): when, the status code, the reason.
    bounced_at: Mapped[datetime | None]
    bounce_status: Mapped[str | None] = mapped_column(String(16))
    bounce_diagnostic: Mapped[str | None] = mapped_column(Text)

    recipients: Mapped[list[EmailRecipient]] = relationship(
        back_populates="email", cascade="all, delete-orphan", order_by="EmailRecipient.id"
    )


class EmailRecipient(Base):
    __tablename__ = "email_recipients"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email_id: Mapped[int] = mapped_column(
        ForeignKey("sent_emails.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[RecipientKind] = mapped_column(_enum(RecipientKind))

    email: Mapped[SentEmail] = relationship(back_populates="recipients")


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime]
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class SalesforceConnection(Base):
    """A user's own Salesforce connection (CONN-3) or the team's sync connection (DESIGN §3)."""

    __tablename__ = "salesforce_connections"
    __table_args__ = (
        # One connection per user; one team sync connection per team.
        Index("uq_connection_user", "user_id", unique=True),
        Index(
            "uq_connection_team_sync",
            "team_id",
            unique=True,
            sqlite_where=text("purpose = 'team_sync'"),
            postgresql_where=text("purpose = 'team_sync'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[ConnectionPurpose] = mapped_column(_enum(ConnectionPurpose))
    #: "production" or "sandbox" (SBX-1: different login hosts).
    environment: Mapped[str] = mapped_column(String(16))
    login_url: Mapped[str] = mapped_column(String(500))
    instance_url: Mapped[str] = mapped_column(String(500))
    org_id: Mapped[str] = mapped_column(String(18), index=True)
    sf_user_id: Mapped[str] = mapped_column(String(18))
    sf_username: Mapped[str] = mapped_column(String(320))
    sf_email: Mapped[str] = mapped_column(String(320))
    #: Fernet ciphertexts; never the tokens themselves.
    access_token_enc: Mapped[str] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus))
    broken_reason: Mapped[str | None] = mapped_column(String(500))
    #: Cached org discovery (Task fields, statuses, Type picklist, object access).
    org_profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    connected_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    team: Mapped[Team] = relationship()


class OrgApiUsage(Base):
    """The last ``Sforce-Limit-Info`` seen for an org (used/max over Salesforce's rolling 24 h)."""

    __tablename__ = "org_api_usage"

    org_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    used: Mapped[int] = mapped_column(Integer)
    max: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[datetime]


class ApiCallCount(Base):
    """salesync's own API calls per org and hour, summed over 24 h for the budget (DESIGN §3)."""

    __tablename__ = "api_call_counts"
    __table_args__ = (UniqueConstraint("org_id", "hour"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(18))
    hour: Mapped[datetime]
    calls: Mapped[int] = mapped_column(Integer, default=0)


class OutboxItem(Base):
    """One unit of pending Salesforce work, committed with the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_claim", "status", "available_at"),
        # Claims skip items whose subject has an earlier item in flight; state reads by subject.
        Index("ix_outbox_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: e.g. "log_email", "log_call", "push_task", "delete_task".
    kind: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    first_failed_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SalesforceLink(Base):
    """Which Salesforce record a local row became (one email may become several Tasks)."""

    __tablename__ = "salesforce_links"
    __table_args__ = (
        UniqueConstraint("local_type", "local_id", "target_key"),
        Index("ix_salesforce_links_sf_id", "org_id", "sf_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    local_type: Mapped[str] = mapped_column(String(32))
    local_id: Mapped[int] = mapped_column(BigId)
    #: Distinguishes the Tasks of one activity: e.g. "who:003…|what:006…".
    target_key: Mapped[str] = mapped_column(String(100), default="")
    org_id: Mapped[str] = mapped_column(String(18))
    sobject: Mapped[str] = mapped_column(String(64))
    sf_id: Mapped[str] = mapped_column(String(18))
    #: Hash of the synced field values last written or read (echo suppression).
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    sf_last_modified: Mapped[datetime | None]
    sf_system_modstamp: Mapped[datetime | None]
    synced_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class DiagnosticEntry(Base):
    """One reason one item did not sync, in the words of the Diagnostics page."""

    __tablename__ = "diagnostics"
    __table_args__ = (
        Index("ix_diagnostics_open", "team_id", "resolved_at"),
        # A batch resolves or counts on the open entries of its items.
        Index("ix_diagnostics_item", "item_type", "item_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    item_type: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(BigId)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(64))
    #: "authentication" | "access_validation" | "intermittent" | "other" | "unmatched" | "setup".
    category: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class SyncCursor(Base):
    """A named bookmark of the poller (e.g. the last SystemModstamp seen for an org's Tasks)."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("scope", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class TaskConflict(Base):
    """A field edited on both sides; both values and the winner are kept for the rep to see."""

    __tablename__ = "task_conflicts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_tasks.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(32))
    local_value: Mapped[str | None] = mapped_column(Text)
    remote_value: Mapped[str | None] = mapped_column(Text)
    winner: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the session token is kept; deleting the row
    ends the session at once, whatever the browser still holds."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    client_address: Mapped[str] = mapped_column(String(64), default="")


class SignInFailure(Base):
    """A refused sign-in, kept for the throttling window (per account and per client address)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account: Mapped[str] = mapped_column(String(320), index=True)
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class MailboxTeamSettings(Base):
    """The team's mailbox rules: its IMAP server, whether reps may use another, what to skip."""

    __tablename__ = "mailbox_team_settings"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    #: The team's server; NULL lets each rep give their own.
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    security: Mapped[str | None] = mapped_column(String(16))
    allow_custom_servers: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The team's own domains (mail among them is internal) and domains never logged.
    internal_domains: Mapped[list[Any]] = mapped_column(default=list)
    blocked_domains: Mapped[list[Any]] = mapped_column(default=list)
    #: Log sent mail to anyone Salesforce knows by address, not only to salesync people.
    log_anyone: Mapped[bool] = mapped_column(Boolean, default=False)
    lookback_days: Mapped[int] = mapped_column(Integer, default=7)
    poll_seconds: Mapped[int] = mapped_column(Integer, default=60)
    updated_at: Mapped[datetime]


class MailboxAccount(Base):
    """A rep's mailbox connection, and the work item the mailbox sync leases."""

    __tablename__ = "mailbox_accounts"
    __table_args__ = (Index("ix_mailbox_accounts_due", "next_sync_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: The rep's own server; NULL means the team's.
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    security: Mapped[str | None] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(320))
    #: Fernet ciphertext of the (app) password; never the password itself.
    password_enc: Mapped[str] = mapped_column(Text)
    #: Folder names set by hand; NULL means found through SPECIAL-USE.
    sent_folder: Mapped[str | None] = mapped_column(String(255))
    inbox_folder: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: "new" until the first sync, then "ok" or "broken" (with the server's answer).
    status: Mapped[str] = mapped_column(String(16), default="new")
    broken_reason: Mapped[str | None] = mapped_column(Text)
    #: Per folder role: {"folder", "uid_validity", "last_uid", "since"}.
    cursors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_sync_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MailboxMessage(Base):
    """A message the mailbox sync has handled, by Message-ID (or header key): seen once."""

    __tablename__ = "mailbox_messages"
    __table_args__ = (UniqueConstraint("mailbox_id", "message_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(
        ForeignKey("mailbox_accounts.id", ondelete="CASCADE"), index=True
    )
    message_key: Mapped[str] = mapped_column(String(255))
    folder_role: Mapped[str] = mapped_column(String(16))
    #: "logged", "reply", "bounce" or "skipped:<reason>".
    outcome: Mapped[str] = mapped_column(String(40))
    email_id: Mapped[int | None] = mapped_column(ForeignKey("sent_emails.id", ondelete="SET NULL"))
    seen_at: Mapped[datetime]


class EmailTemplate(Base):
    """A reusable email with merge fields: the team's (``owner_id`` NULL) or one rep's own."""

    __tablename__ = "email_templates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(998))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EmailEngagement(Base):
    """What happened after one sales email was sent: template, tracking, opens, clicks, reply."""

    __tablename__ = "email_engagement"

    email_id: Mapped[int] = mapped_column(
        ForeignKey("sent_emails.id", ondelete="CASCADE"), primary_key=True
    )
    tracked: Mapped[bool] = mapped_column(Boolean, default=False)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_templates.id", ondelete="SET NULL")
    )
    template_name: Mapped[str | None] = mapped_column(String(200))
    #: The original URLs of the rewritten links; a click token names an index into it.
    links: Mapped[list[Any]] = mapped_column(default=list)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    first_open_at: Mapped[datetime | None]
    last_open_at: Mapped[datetime | None]
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    first_click_at: Mapped[datetime | None]
    last_click_at: Mapped[datetime | None]
    last_clicked_url: Mapped[str | None] = mapped_column(Text)
    #: Opens by mail-privacy proxies and clicks by link scanners: shown apart, never counted.
    machine_opens: Mapped[int] = mapped_column(Integer, default=0)
    machine_clicks: Mapped[int] = mapped_column(Integer, default=0)
    replied_at: Mapped[datetime | None]
    #: Hash of what was last written to Salesforce, per Task id and for the roll-ups, so each
    #: change is written once.
    written: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EngagementEvent(Base):
    """One open or click as the web app saw it, with why it was judged a machine's."""

    __tablename__ = "engagement_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email_id: Mapped[int] = mapped_column(
        ForeignKey("sent_emails.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # "open" | "click"
    link_index: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    #: NULL for a person; otherwise "privacy_proxy" or "link_scanner".
    machine: Mapped[str | None] = mapped_column(String(32))
    machine_reason: Mapped[str | None] = mapped_column(String(200))


class OptOut(Base):
    """An address that unsubscribed: never emailed again by the team (UNSUB-1..4)."""

    __tablename__ = "opt_outs"
    __table_args__ = (
        Index("uq_opt_outs_team_address", "team_id", text("lower(address)"), unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(320))
    #: "link", "one_click", "salesforce" or "manual".
    source: Mapped[str] = mapped_column(String(16))
    #: The email whose link was used, when there was one.
    email_id: Mapped[int | None] = mapped_column(ForeignKey("sent_emails.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class EngagementSettings(Base):
    """A team's tracking, opt-out and roll-up settings (admin)."""

    __tablename__ = "engagement_settings"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    #: Opens and clicks are opt-in: the team allows them, then each email chooses.
    tracking_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Whether a new email is tracked unless the rep unticks it.
    track_by_default: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Lead/Contact checkbox that receives opt-outs (UNSUB-4).
    opt_out_field: Mapped[str] = mapped_column(String(80), default="HasOptedOutOfEmail")
    #: Daily pull of opt-outs set in Salesforce (UNSUB-3): local time and IANA zone.
    opt_out_pull_time: Mapped[str] = mapped_column(String(5), default="20:00")
    opt_out_pull_zone: Mapped[str] = mapped_column(String(64), default="America/Los_Angeles")
    opt_out_pulled_at: Mapped[datetime | None]
    #: Roll-up key -> API name, per object ({} means the documented defaults).
    rollup_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
