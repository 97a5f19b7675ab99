"""initial schema

Revision ID: 29b2d177e49b
Revises:
Create Date: 2026-11-23 11:42:37.914579
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "29b2d177e49b"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "api_call_counts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_call_counts")),
        sa.UniqueConstraint("org_id", "hour", name=op.f("uq_api_call_counts_org_id_hour")),
    )
    op.create_table(
        "org_api_usage",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("max", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_org_api_usage")),
    )
    op.create_table(
        "salesforce_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("local_type", sa.String(length=32), nullable=False),
        sa.Column("local_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target_key", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("sobject", sa.String(length=64), nullable=False),
        sa.Column("sf_id", sa.String(length=18), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("sf_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sf_system_modstamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salesforce_links")),
        sa.UniqueConstraint(
            "local_type",
            "local_id",
            "target_key",
            name=op.f("uq_salesforce_links_local_type_local_id_target_key"),
        ),
    )
    with op.batch_alter_table("salesforce_links", schema=None) as batch_op:
        batch_op.create_index("ix_salesforce_links_sf_id", ["org_id", "sf_id"], unique=False)

    op.create_table(
        "sync_cursors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_cursors")),
        sa.UniqueConstraint("scope", "name", name=op.f("uq_sync_cursors_scope_name")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("subject_template", sa.String(length=1000), nullable=True),
        sa.Column("api_budget_share", sa.Integer(), nullable=False),
        sa.Column("force_mode", sa.String(length=16), nullable=True),
        sa.Column("attribute_field_map", sa.JSON(), nullable=False),
        sa.Column("external_id_field", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_table(
        "call_choices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_call_choices_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_choices")),
        sa.UniqueConstraint(
            "team_id", "kind", "label", name=op.f("uq_call_choices_team_id_kind_label")
        ),
    )
    with op.batch_alter_table("call_choices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_choices_team_id"), ["team_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "rep", name="role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_users_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_team_id"), ["team_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "in_flight",
                "done",
                "failed",
                "paused",
                name="outboxstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_code", sa.String(length=64), nullable=True),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outbox_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbox_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_claim", ["status", "available_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_user_id"), ["user_id"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("sf_lead_id", sa.String(length=18), nullable=True),
        sa.Column("sf_contact_id", sa.String(length=18), nullable=True),
        sa.Column("sf_account_id", sa.String(length=18), nullable=True),
        sa.Column("sf_opportunity_id", sa.String(length=18), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_people_owner_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_people_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_team_id"), ["team_id"], unique=False)

    op.create_index(
        "uq_people_team_email", "people", ["team_id", sa.text("lower(email)")], unique=True
    )
    op.create_table(
        "salesforce_connections",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "purpose",
            sa.Enum("user", "team_sync", name="connectionpurpose", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("login_url", sa.String(length=500), nullable=False),
        sa.Column("instance_url", sa.String(length=500), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("sf_user_id", sa.String(length=18), nullable=False),
        sa.Column("sf_username", sa.String(length=320), nullable=False),
        sa.Column("sf_email", sa.String(length=320), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=False),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "connected",
                "broken",
                "disconnected",
                name="connectionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("broken_reason", sa.String(length=500), nullable=True),
        sa.Column("org_profile", sa.JSON(), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_salesforce_connections_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_salesforce_connections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salesforce_connections")),
    )
    with op.batch_alter_table("salesforce_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_salesforce_connections_org_id"), ["org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_salesforce_connections_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "uq_connection_team_sync",
            ["team_id"],
            unique=True,
            sqlite_where=sa.text("purpose = 'team_sync'"),
            postgresql_where=sa.text("purpose = 'team_sync'"),
        )
        batch_op.create_index("uq_connection_user", ["user_id"], unique=True)

    op.create_table(
        "sent_emails",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "sender_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("in_reply_to", sa.String(length=255), nullable=True),
        sa.Column("is_reply", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["users.id"],
            name=op.f("fk_sent_emails_sender_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_sent_emails_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_emails")),
        sa.UniqueConstraint("message_id", name=op.f("uq_sent_emails_message_id")),
    )
    with op.batch_alter_table("sent_emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_emails_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sent_emails_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sent_emails_team_id"), ["team_id"], unique=False)

    op.create_table(
        "smtp_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("password_enc", sa.Text(), nullable=True),
        sa.Column("starttls", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_smtp_accounts_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_smtp_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smtp_accounts")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_smtp_accounts_team_id_user_id")),
    )
    with op.batch_alter_table("smtp_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_smtp_accounts_team_id"), ["team_id"], unique=False)

    op.create_table(
        "sync_settings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("locks", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_sync_settings_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_sync_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sync_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_settings")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_sync_settings_team_id_user_id")),
    )
    with op.batch_alter_table("sync_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_settings_team_id"), ["team_id"], unique=False)

    op.create_table(
        "calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=50), nullable=True),
        sa.Column("reason", sa.String(length=50), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_calls_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_calls_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calls_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_user_id"), ["user_id"], unique=False)

    op.create_table(
        "diagnostics",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("item_type", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_diagnostics_outbox_id_outbox"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_diagnostics_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_diagnostics_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnostics")),
    )
    with op.batch_alter_table("diagnostics", schema=None) as batch_op:
        batch_op.create_index("ix_diagnostics_open", ["team_id", "resolved_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_diagnostics_user_id"), ["user_id"], unique=False)

    op.create_table(
        "email_recipients",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("to", "cc", name="recipientkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["sent_emails.id"],
            name=op.f("fk_email_recipients_email_id_sent_emails"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_email_recipients_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_recipients")),
    )
    with op.batch_alter_table("email_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_recipients_email_id"), ["email_id"], unique=False
        )

    op.create_table(
        "reminder_tasks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "assignee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum("Open", "Complete", name="taskstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum("Normal", "High", name="taskpriority", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("field_edited_at", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_reminder_tasks_assignee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_reminder_tasks_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_reminder_tasks_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_reminder_tasks_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_tasks")),
    )
    with op.batch_alter_table("reminder_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_tasks_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reminder_tasks_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_tasks_team_id"), ["team_id"], unique=False)

    op.create_table(
        "task_conflicts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("local_value", sa.Text(), nullable=True),
        sa.Column("remote_value", sa.Text(), nullable=True),
        sa.Column("winner", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["reminder_tasks.id"],
            name=op.f("fk_task_conflicts_task_id_reminder_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_conflicts")),
    )
    with op.batch_alter_table("task_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_conflicts_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index("uq_people_team_email", table_name="people")

    with op.batch_alter_table("task_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_conflicts_task_id"))

    op.drop_table("task_conflicts")
    with op.batch_alter_table("reminder_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_tasks_team_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_tasks_due_date"))
        batch_op.drop_index(batch_op.f("ix_reminder_tasks_assignee_id"))

    op.drop_table("reminder_tasks")
    with op.batch_alter_table("email_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_recipients_email_id"))

    op.drop_table("email_recipients")
    with op.batch_alter_table("diagnostics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diagnostics_user_id"))
        batch_op.drop_index("ix_diagnostics_open")

    op.drop_table("diagnostics")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_user_id"))
        batch_op.drop_index(batch_op.f("ix_calls_team_id"))
        batch_op.drop_index(batch_op.f("ix_calls_person_id"))

    op.drop_table("calls")
    with op.batch_alter_table("sync_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_settings_team_id"))

    op.drop_table("sync_settings")
    with op.batch_alter_table("smtp_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_smtp_accounts_team_id"))

    op.drop_table("smtp_accounts")
    with op.batch_alter_table("sent_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_emails_team_id"))
        batch_op.drop_index(batch_op.f("ix_sent_emails_sent_at"))
        batch_op.drop_index(batch_op.f("ix_sent_emails_sender_id"))

    op.drop_table("sent_emails")
    with op.batch_alter_table("salesforce_connections", schema=None) as batch_op:
        batch_op.drop_index("uq_connection_user")
        batch_op.drop_index(
            "uq_connection_team_sync",
            sqlite_where=sa.text("purpose = 'team_sync'"),
            postgresql_where=sa.text("purpose = 'team_sync'"),
        )
        batch_op.drop_index(batch_op.f("ix_salesforce_connections_team_id"))
        batch_op.drop_index(batch_op.f("ix_salesforce_connections_org_id"))

    op.drop_table("salesforce_connections")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_team_id"))
        batch_op.drop_index(batch_op.f("ix_people_email"))

    op.drop_table("people")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_user_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_team_id"))
        batch_op.drop_index("ix_outbox_claim")

    op.drop_table("outbox")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_team_id"))

    op.drop_table("users")
    with op.batch_alter_table("call_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_choices_team_id"))

    op.drop_table("call_choices")
    op.drop_table("teams")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("salesforce_links", schema=None) as batch_op:
        batch_op.drop_index("ix_salesforce_links_sf_id")

    op.drop_table("salesforce_links")
    op.drop_table("org_api_usage")
    op.drop_table("api_call_counts")
