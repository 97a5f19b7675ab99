"""Queries for Diagnostics entries: one open entry per item and reason, counted on repeat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from salesync.domain.wording import Translatable
from salesync.store.tables import DiagnosticEntry

#: Key of an entry's detail that keeps its message's catalog id and values, so Diagnostics
#: can show the stored (English) message in the reader's language.
MESSAGE_I18N = "message_i18n"


def message_detail(message: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """``detail`` plus what translates ``message`` later (``None`` for text from elsewhere)."""
    wording = message.to_json() if isinstance(message, Translatable) else None
    return {**(detail or {}), MESSAGE_I18N: wording}


def shown_message(entry: DiagnosticEntry) -> str:
    """The entry's message as a :class:`Translatable` when it was ours, else as stored."""
    wording = (entry.detail or {}).get(MESSAGE_I18N)
    if isinstance(wording, dict) and "msgid" in wording:
        try:
            return Translatable.from_json(wording)
        except (KeyError, IndexError, ValueError, TypeError):
            return entry.message
    return entry.message


def record(
    session: Session,
    *,
    team_id: int,
    user_id: int | None,
    item_type: str,
    item_id: int | None,
    code: str,
    category: str,
    message: str,
    now: datetime,
    outbox_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> DiagnosticEntry:
    """Open an entry, or count one more occurrence of the same open entry."""
    detail = message_detail(message, detail)
    existing = session.scalars(
        select(DiagnosticEntry).where(
            DiagnosticEntry.team_id == team_id,
            DiagnosticEntry.item_type == item_type,
            DiagnosticEntry.item_id == item_id
            if item_id is not None
            else DiagnosticEntry.item_id.is_(None),
            DiagnosticEntry.user_id == user_id
            if user_id is not None
            else DiagnosticEntry.user_id.is_(None),
            DiagnosticEntry.code == code,
            DiagnosticEntry.resolved_at.is_(None),
        )
    ).first()
    if existing is not None:
        existing.occurrences += 1
        existing.last_seen_at = now
        existing.message = message
        existing.outbox_id = outbox_id or existing.outbox_id
        existing.detail = {**existing.detail, **detail}
        return existing
    entry = DiagnosticEntry(
        team_id=team_id,
        user_id=user_id,
        item_type=item_type,
        item_id=item_id,
        outbox_id=outbox_id,
        code=code,
        category=category,
        message=message,
        detail=detail,
        occurrences=1,
        first_seen_at=now,
        last_seen_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def resolve_item(session: Session, item_type: str, item_id: int, *, now: datetime) -> int:
    """Close every open entry of an item (it synced after all)."""
    result = session.execute(
        update(DiagnosticEntry)
        .where(
            DiagnosticEntry.item_type == item_type,
            DiagnosticEntry.item_id == item_id,
            DiagnosticEntry.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def resolve_code_for_user(session: Session, user_id: int, code: str, *, now: datetime) -> int:
    result = session.execute(
        update(DiagnosticEntry)
        .where(
            DiagnosticEntry.user_id == user_id,
            DiagnosticEntry.code == code,
            DiagnosticEntry.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def open_entries(
    session: Session, team_id: int, *, user_ids: Sequence[int] | None = None
) -> list[DiagnosticEntry]:
    query = select(DiagnosticEntry).where(
        DiagnosticEntry.team_id == team_id, DiagnosticEntry.resolved_at.is_(None)
    )
    if user_ids is not None:
        query = query.where(DiagnosticEntry.user_id.in_(list(user_ids)))
    return list(session.scalars(query.order_by(DiagnosticEntry.last_seen_at.desc())))


def open_counts(session: Session, team_id: int) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(DiagnosticEntry.category, DiagnosticEntry.code, func.count())
        .where(DiagnosticEntry.team_id == team_id, DiagnosticEntry.resolved_at.is_(None))
        .group_by(DiagnosticEntry.category, DiagnosticEntry.code)
    )
    return {(category, code): int(count) for category, code, count in rows}


def entries_for_item(session: Session, item_type: str, item_id: int) -> list[DiagnosticEntry]:
    return list(
        session.scalars(
            select(DiagnosticEntry)
            .where(DiagnosticEntry.item_type == item_type, DiagnosticEntry.item_id == item_id)
            .order_by(DiagnosticEntry.id)
        )
    )


def resolve_items(
    session: Session, item_type: str, item_ids: Sequence[int], *, now: datetime
) -> int:
    """Close every open entry of these items at once (a batch synced)."""
    if not item_ids:
        return 0
    result = session.execute(resolve_items_statement(item_type, item_ids, now=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def resolve_items_statement(item_type: str, item_ids: Sequence[int], *, now: datetime) -> Any:
    table = cast(Table, DiagnosticEntry.__table__)
    return (
        update(table)
        .where(
            table.c.item_type == item_type,
            table.c.item_id.in_(sorted(set(item_ids))),
            table.c.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )


@dataclass(frozen=True)
class Occurrence:
    """One reason one item did not sync, as a batch reports it (see :func:`record_many`)."""

    team_id: int
    user_id: int | None
    item_type: str
    item_id: int | None
    code: str
    category: str
    message: str
    outbox_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[int, int | None, str, int | None, str]:
        return (self.team_id, self.user_id, self.item_type, self.item_id, self.code)


def record_many(session: Session, occurrences: Sequence[Occurrence], *, now: datetime) -> None:
    """:func:`record` for a whole batch: one read, one executemany update, one insert."""
    if not occurrences:
        return
    merged: dict[tuple[int, int | None, str, int | None, str], tuple[Occurrence, int]] = {}
    for occurrence in occurrences:
        earlier = merged.get(occurrence.key())
        if earlier is None:
            merged[occurrence.key()] = (occurrence, 1)
        else:
            detail = {**earlier[0].detail, **occurrence.detail}
            outbox_id = occurrence.outbox_id or earlier[0].outbox_id
            latest = Occurrence(**{**occurrence.__dict__, "detail": detail, "outbox_id": outbox_id})
            merged[occurrence.key()] = (latest, earlier[1] + 1)
    existing = _open_entries_for(session, [o for o, _ in merged.values()])
    table = cast(Table, DiagnosticEntry.__table__)
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for key, (occurrence, count) in merged.items():
        found = existing.get(key)
        if found is not None:
            entry_id, outbox_id, detail = found
            updates.append(
                {
                    "b_id": entry_id,
                    "b_count": count,
                    "b_message": occurrence.message,
                    "b_outbox_id": occurrence.outbox_id or outbox_id,
                    "b_detail": {
                        **detail,
                        **message_detail(occurrence.message, occurrence.detail),
                    },
                }
            )
            continue
        inserts.append(
            {
                "team_id": occurrence.team_id,
                "user_id": occurrence.user_id,
                "item_type": occurrence.item_type,
                "item_id": occurrence.item_id,
                "outbox_id": occurrence.outbox_id,
                "code": occurrence.code,
                "category": occurrence.category,
                "message": occurrence.message,
                "detail": message_detail(occurrence.message, occurrence.detail),
                "occurrences": count,
                "first_seen_at": now,
                "last_seen_at": now,
            }
        )
    if updates:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                occurrences=table.c.occurrences + bindparam("b_count"),
                last_seen_at=now,
                message=bindparam("b_message"),
                outbox_id=bindparam("b_outbox_id"),
                detail=bindparam("b_detail"),
            ),
            updates,
        )
    if inserts:
        session.execute(insert(table), inserts)


def _open_entries_for(
    session: Session, occurrences: Sequence[Occurrence]
) -> dict[tuple[int, int | None, str, int | None, str], tuple[int, int | None, dict[str, Any]]]:
    """The open entries these occurrences would count on: id, outbox id and detail by key."""
    rows = session.execute(open_entries_query(occurrences))
    found: dict[
        tuple[int, int | None, str, int | None, str], tuple[int, int | None, dict[str, Any]]
    ] = {}
    for entry_id, team_id, user_id, item_type, item_id, code, outbox_id, detail in rows:
        found.setdefault(
            (team_id, user_id, item_type, item_id, code), (entry_id, outbox_id, detail or {})
        )
    return found


def open_entries_query(occurrences: Sequence[Occurrence]) -> Any:
    """The open entries of these occurrences' items and codes (what ``record_many`` reads).

    Found by item (its index); team and user are matched by the caller's keys.
    """
    item_ids = sorted({o.item_id for o in occurrences if o.item_id is not None})
    item_match: ColumnElement[bool] | None = (
        DiagnosticEntry.item_id.in_(item_ids) if item_ids else None
    )
    if any(o.item_id is None for o in occurrences):
        item_match = (
            DiagnosticEntry.item_id.is_(None)
            if item_match is None
            else or_(item_match, DiagnosticEntry.item_id.is_(None))
        )
    assert item_match is not None  # occurrences is never empty here
    return (
        select(
            DiagnosticEntry.id,
            DiagnosticEntry.team_id,
            DiagnosticEntry.user_id,
            DiagnosticEntry.item_type,
            DiagnosticEntry.item_id,
            DiagnosticEntry.code,
            DiagnosticEntry.outbox_id,
            DiagnosticEntry.detail,
        )
        .where(
            DiagnosticEntry.item_type.in_(sorted({o.item_type for o in occurrences})),
            DiagnosticEntry.code.in_(sorted({o.code for o in occurrences})),
            DiagnosticEntry.resolved_at.is_(None),
            item_match,
        )
        .order_by(DiagnosticEntry.id)
    )
