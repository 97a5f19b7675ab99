"""one spelling of reminder status and priority: Open/Complete, Normal/High

The task table, the API and the forms already said "Open", "Complete", "Normal" and "High".
The sync snapshots (``sync_cursors`` rows named ``snapshot``) and the recorded conflicts of
those two fields said "open", "complete", "normal" and "high". This rewrites them to the one
spelling. Fingerprints cover only the Salesforce values ("Not Started", "Completed", ...), so
they stay as they are and no task is pushed again because of this.

Revision ID: f17c5a1ab0de
Revises: e13a5f7c2b01
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "f17c5a1ab0de"
down_revision: str | Sequence[str] | None = "e13a5f7c2b01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VALUES = ("open", "complete", "normal", "high")
_FIELDS = ("status", "priority")

_cursors = sa.table(
    "sync_cursors",
    sa.column("id", sa.Integer()),
    sa.column("scope", sa.String()),
    sa.column("name", sa.String()),
    sa.column("value", sa.JSON()),
)
_conflicts = sa.table(
    "task_conflicts",
    sa.column("id", sa.Integer()),
    sa.column("field", sa.String()),
    sa.column("local_value", sa.Text()),
    sa.column("remote_value", sa.Text()),
)


def _respell(value: Any, spell: Callable[[str], str]) -> Any:
    if isinstance(value, str) and value.lower() in _VALUES:
        return spell(value)
    return value


def _rewrite(spell: Callable[[str], str]) -> None:
    bind = op.get_bind()
    snapshots = bind.execute(
        sa.select(_cursors.c.id, _cursors.c.value).where(
            _cursors.c.name == "snapshot", _cursors.c.scope.like("task:%")
        )
    )
    for row_id, value in snapshots.all():
        base = (value or {}).get("base")
        if not isinstance(base, dict):
            continue
        new_base = {**base, **{f: _respell(base.get(f), spell) for f in _FIELDS if f in base}}
        if new_base != base:
            bind.execute(
                _cursors.update()
                .where(_cursors.c.id == row_id)
                .values(value={**value, "base": new_base})
            )
    conflicts = bind.execute(
        sa.select(_conflicts.c.id, _conflicts.c.local_value, _conflicts.c.remote_value).where(
            _conflicts.c.field.in_(_FIELDS)
        )
    )
    for row_id, local_value, remote_value in conflicts.all():
        new_local, new_remote = _respell(local_value, spell), _respell(remote_value, spell)
        if (new_local, new_remote) != (local_value, remote_value):
            bind.execute(
                _conflicts.update()
                .where(_conflicts.c.id == row_id)
                .values(local_value=new_local, remote_value=new_remote)
            )


def upgrade() -> None:
    _rewrite(str.capitalize)


def downgrade() -> None:
    _rewrite(str.lower)
