"""The worker's hot queries use indexes, on SQLite and on PostgreSQL (EXPLAIN).

The tables are small in a test, so PostgreSQL is told to avoid sequential scans where it
can (``enable_seqscan = off``): a plan that still scans a whole table has no index to use.
SQLite's ``EXPLAIN QUERY PLAN`` says ``SCAN <table>`` for a whole-table read and ``SEARCH``
for an index lookup.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from salesync.store import activities, diagnostics, outbox

NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def plan(engine: Engine, statement: Any) -> str:
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}
    )
    verb = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
        rows = connection.exec_driver_sql(verb + str(compiled)).all()
    return "\n".join(str(row[-1]) for row in rows)


def whole_table_scans(engine: Engine, found: str) -> list[str]:
    """Lines of the plan that read a whole table."""
    if engine.dialect.name == "postgresql":
        return [line for line in found.splitlines() if "Seq Scan" in line]
    # SQLite: "SCAN outbox" reads every row; "SCAN … USING … INDEX" walks an index only.
    return [
        line
        for line in found.splitlines()
        if line.lstrip().startswith("SCAN") and "INDEX" not in line
    ]


OCCURRENCES = [
    diagnostics.Occurrence(1, 1, "email", 7, "NO_MATCH", "unmatched", "no match", outbox_id=3),
    diagnostics.Occurrence(1, 1, "email", 8, "NO_MATCH", "unmatched", "no match", outbox_id=4),
]

#: Each hot query, and the index its plan must use (any one of them).
HOT_QUERIES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "claim candidates": (
        outbox.claim_candidates(now=NOW, limit=1000, kinds=["log_email"]),
        ("ix_outbox_claim",),
    ),
    "capped claim candidates (reps held elsewhere left out)": (
        outbox.claim_candidates(now=NOW, limit=1000, kinds=["log_email"], for_worker="w1"),
        ("ix_outbox_claim",),
    ),
    "open Diagnostics entries of a batch": (
        diagnostics.open_entries_query(OCCURRENCES),
        ("ix_diagnostics_item",),
    ),
    "resolve a batch's Diagnostics entries": (
        diagnostics.resolve_items_statement("email", [7, 8], now=NOW),
        ("ix_diagnostics_item",),
    ),
    "Tasks already linked to a batch": (
        activities.linked_keys_query("email", [7, 8]),
        ("uq_salesforce_links", "sqlite_autoindex_salesforce_links"),
    ),
    "outbox rows settled as done": (
        outbox.mark_done_statement([1, 2, 3], now=NOW),
        ("pk_outbox", "PRIMARY KEY"),
    ),
}


@pytest.mark.parametrize("name", sorted(HOT_QUERIES))
def test_hot_queries_use_their_index_and_read_no_whole_table(engine: Engine, name: str) -> None:
    statement, indexes = HOT_QUERIES[name]
    found = plan(engine, statement)
    assert whole_table_scans(engine, found) == [], found
    assert any(index in found for index in indexes), found


def test_a_query_without_an_index_is_caught(engine: Engine) -> None:
    """The check itself: an unindexed filter does show as a whole-table read."""
    from sqlalchemy import select

    from salesync.store.tables import OutboxItem

    statement = select(OutboxItem.id).where(
        OutboxItem.last_error_message == "x", OutboxItem.updated_at < NOW - timedelta(days=1)
    )
    assert whole_table_scans(engine, plan(engine, statement)) != []
