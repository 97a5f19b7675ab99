"""Indexes for the worker's hot queries: outbox items by subject, Diagnostics by item.

Revision ID: 16a0c1d2e3f4
Revises: 29b2d177e49b
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "16a0c1d2e3f4"
down_revision = "29b2d177e49b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_subject", ["subject_type", "subject_id"], unique=False)
    with op.batch_alter_table("diagnostics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_diagnostics_item", ["item_type", "item_id", "resolved_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("diagnostics", schema=None) as batch_op:
        batch_op.drop_index("ix_diagnostics_item")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_subject")
