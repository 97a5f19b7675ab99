"""A rep's language may be automatic (""), and each team has a default language.

"" means: the browser's language, then the team's. Every stored "en" becomes "": the column
came in the same release with "en" as its default, so nobody chose it.

Revision ID: 17a7c0de1a9e
Revises: f17c5a1ab0de
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "17a7c0de1a9e"
down_revision = "f17c5a1ab0de"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "language",
            existing_type=sa.String(length=16),
            existing_nullable=False,
            server_default="",
        )
    op.execute(sa.text("UPDATE users SET language = '' WHERE language = 'en'"))
    op.add_column(
        "teams",
        sa.Column("default_language", sa.String(length=16), server_default="en", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("teams", "default_language")
    op.execute(sa.text("UPDATE users SET language = 'en' WHERE language = ''"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "language",
            existing_type=sa.String(length=16),
            existing_nullable=False,
            server_default="en",
        )
