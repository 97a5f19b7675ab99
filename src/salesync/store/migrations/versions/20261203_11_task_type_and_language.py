"""Reminder task types (TASK-10) and the rep's language.

Revision ID: 6a11c0ffee11
Revises: 16a0c1d2e3f4
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "6a11c0ffee11"
down_revision = "16a0c1d2e3f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "reminder_tasks",
        sa.Column("task_type", sa.String(length=16), server_default="Custom", nullable=False),
    )
    op.add_column(
        "users", sa.Column("language", sa.String(length=16), server_default="en", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "language")
    op.drop_column("reminder_tasks", "task_type")
