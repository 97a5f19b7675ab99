"""Optional SQLite persistence: records as JSON rows, change history rows, the rest pickled."""

from __future__ import annotations

import json
import pickle
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from salesync.sandbox.changes import Change
from salesync.sandbox.records import Record, RecordStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, sobject TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
    return value


def encode_record(record: Record) -> str:
    return json.dumps({k: _encode(v) for k, v in record.items()}, separators=(",", ":"))


def decode_record(text: str) -> Record:
    return {k: _decode(v) for k, v in json.loads(text).items()}


@dataclass
class Loaded:
    meta: dict[str, Any]
    records: list[tuple[str, Record]]
    changes: list[Change]


class SqliteStore:
    """One SQLite file holding an org; every committed batch is written before the response."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        #: Batches written (SQLite transactions), for tests and benches.
        self.writes = 0

    def close(self) -> None:
        self._conn.close()

    def load(self, history_limit: int) -> Loaded | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()
        if row is None:
            return None
        records = [
            (sobject, decode_record(data))
            for sobject, data in self._conn.execute("SELECT sobject, data FROM records")
        ]
        change_rows = self._conn.execute(
            "SELECT data FROM changes ORDER BY seq DESC LIMIT ?", (history_limit,)
        ).fetchall()
        changes = [pickle.loads(data) for (data,) in reversed(change_rows)]
        meta = pickle.loads(row[0])
        setup = self._conn.execute("SELECT value FROM meta WHERE key = 'setup'").fetchone()
        if setup is not None:  # else a file whose 'state' holds the setup too
            meta.update(pickle.loads(setup[0]))
        return Loaded(meta, records, changes)

    def save(
        self,
        meta: dict[str, Any],
        records: RecordStore,
        dirty: Iterable[str],
        changes: Iterable[Change],
        *,
        setup: dict[str, Any] | None = None,
        replace_all: bool = False,
    ) -> None:
        """Write one committed batch; ``setup`` None keeps the setup blob last written."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN")
            try:
                if replace_all:
                    cur.execute("DELETE FROM records")
                    cur.execute("DELETE FROM changes")
                    dirty = [record["Id"] for _, record in records.all_items()]
                self._write_records(cur, records, dirty)
                cur.executemany(
                    "INSERT OR REPLACE INTO changes (seq, data) VALUES (?, ?)",
                    [(c.seq, pickle.dumps(c)) for c in changes],
                )
                cur.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('state', ?)",
                    (pickle.dumps(meta),),
                )
                if setup is not None:
                    cur.execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('setup', ?)",
                        (pickle.dumps(setup),),
                    )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self.writes += 1

    @staticmethod
    def _write_records(cur: sqlite3.Cursor, records: RecordStore, dirty: Iterable[str]) -> None:
        upserts, deletes = [], []
        for record_id in dirty:
            record = records.get(record_id)
            if record is None:
                deletes.append((record_id,))
            else:
                sobject = records.sobject_of(record_id)
                upserts.append((record_id, sobject, encode_record(record)))
        cur.executemany("DELETE FROM records WHERE id = ?", deletes)
        cur.executemany(
            "INSERT OR REPLACE INTO records (id, sobject, data) VALUES (?, ?, ?)", upserts
        )
