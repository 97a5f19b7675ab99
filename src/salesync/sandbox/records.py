"""Record storage with value indexes and an undo journal for all-or-none rollbacks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Record = dict[str, Any]


def _text_key(value: str) -> str:
    return value.casefold()


def _reference_key(value: str) -> str:
    # Stored ids are 18 chars in canonical case: the first 15 name the record.
    return value[:15]


#: Fields with a lookup index, and the key a value is filed under: every stored row (deleted
#: ones too) with a non-empty text value. Salesforce indexes Email on Contact and Lead; the
#: Task references back a Contact's or Lead's Tasks subquery.
LOOKUP_FIELDS: dict[str, dict[str, Callable[[str], str]]] = {
    "Contact": {"Email": _text_key},
    "Lead": {"Email": _text_key},
    "Task": {"WhoId": _reference_key, "WhatId": _reference_key},
}


class Journal:
    """Undo actions for the writes of the current request, so a batch can be rolled back."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def record(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    def savepoint(self) -> int:
        return len(self._undo)

    def rollback_to(self, savepoint: int) -> None:
        while len(self._undo) > savepoint:
            self._undo.pop()()

    def clear(self) -> None:
        self._undo.clear()


def _index_key(value: Any) -> str:
    # Text external ids and unique fields match case-insensitively.
    return str(value).lower()


class RecordStore:
    """Records per sObject, keyed by 18-character id; deleted rows stay until purged."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal = journal or Journal()
        self._by_type: dict[str, dict[str, Record]] = {}
        self._type_of: dict[str, str] = {}
        self._indexed: dict[str, tuple[str, ...]] = {}
        self._index: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._lookup: dict[tuple[str, str], dict[str, set[str]]] = {
            (sobject, field): {} for sobject, fields in LOOKUP_FIELDS.items() for field in fields
        }
        #: Ascends in each sObject's row order: a row's place is kept until it is dropped.
        self._position: dict[str, int] = {}
        self._positions = itertools.count()
        #: Ids written or removed since the last save (persistence reads and clears it).
        self.dirty: set[str] = set()

    def __getstate__(self) -> dict[str, Any]:
        return {"by_type": self._by_type, "indexed": self._indexed}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        self._indexed = state["indexed"]
        for sobject, rows in state["by_type"].items():
            for record in rows.values():
                self._put(sobject, record)
        self.dirty.clear()

    # reads

    def get(self, record_id: str) -> Record | None:
        sobject = self._type_of.get(record_id)
        return self._by_type[sobject][record_id] if sobject else None

    def sobject_of(self, record_id: str) -> str | None:
        return self._type_of.get(record_id)

    def rows(self, sobject: str) -> Iterable[Record]:
        return self._by_type.get(sobject, {}).values()

    def all_items(self) -> Iterator[tuple[str, Record]]:
        for sobject, rows in self._by_type.items():
            for record in rows.values():
                yield sobject, record

    def count(self, sobject: str) -> int:
        return len(self._by_type.get(sobject, {}))

    def find(self, sobject: str, field: str, value: Any) -> list[str]:
        """Ids of live records whose indexed ``field`` equals ``value`` (case-insensitive)."""
        ids = self._index.get((sobject, field), {}).get(_index_key(value), set())
        return sorted(ids)

    def lookup(self, sobject: str, field: str, keys: Iterable[str]) -> list[Record] | None:
        """Rows (deleted ones too) whose ``field`` is filed under one of ``keys`` (the casefold
        of a text, the 15-char form of an id), in ``rows`` order; None when ``field`` has no
        lookup index (``LOOKUP_FIELDS``)."""
        index = self._lookup.get((sobject, field))
        if index is None:
            return None
        ids: set[str] = set()
        for key in keys:
            ids.update(index.get(key, ()))
        rows = self._by_type.get(sobject, {})
        return [rows[record_id] for record_id in sorted(ids, key=self._position.__getitem__)]

    # writes (journaled)

    def insert(self, sobject: str, record: Record) -> None:
        record_id = record["Id"]
        self._put(sobject, record)
        self.journal.record(lambda: self._drop(record_id))

    def replace(self, record: Record) -> None:
        record_id = record["Id"]
        sobject = self._type_of[record_id]
        old = self._by_type[sobject][record_id]
        self._drop(record_id)
        self._put(sobject, record)
        self.journal.record(lambda: self._restore(sobject, old))

    def remove(self, record_id: str) -> None:
        sobject = self._type_of[record_id]
        old = self._by_type[sobject][record_id]
        self._drop(record_id)
        self.journal.record(lambda: self._restore(sobject, old))

    def set_indexed_fields(self, sobject: str, fields: Iterable[str]) -> None:
        """Choose which fields of ``sobject`` are indexed, and rebuild their indexes."""
        self._indexed[sobject] = tuple(fields)
        for key in [k for k in self._index if k[0] == sobject]:
            del self._index[key]
        for record in self.rows(sobject):
            self._index_record(sobject, record, add=True)

    # internals

    def _restore(self, sobject: str, record: Record) -> None:
        if record["Id"] in self._type_of:
            self._drop(record["Id"])
        self._put(sobject, record)

    def _put(self, sobject: str, record: Record) -> None:
        rows = self._by_type.setdefault(sobject, {})
        record_id = record["Id"]
        old = rows.get(record_id)
        if old is None:
            self._position[record_id] = next(self._positions)
        else:  # the row keeps its place; its old values leave the lookup index
            self._lookup_record(sobject, old, add=False)
        rows[record_id] = record
        self._type_of[record_id] = sobject
        self._index_record(sobject, record, add=True)
        self._lookup_record(sobject, record, add=True)
        self.dirty.add(record_id)

    def _drop(self, record_id: str) -> None:
        sobject = self._type_of.pop(record_id)
        record = self._by_type[sobject].pop(record_id)
        del self._position[record_id]
        self._index_record(sobject, record, add=False)
        self._lookup_record(sobject, record, add=False)
        self.dirty.add(record_id)

    def _lookup_record(self, sobject: str, record: Record, *, add: bool) -> None:
        for field, key_of in LOOKUP_FIELDS.get(sobject, {}).items():
            value = record.get(field)
            if not isinstance(value, str) or not value:
                continue
            bucket = self._lookup[(sobject, field)]
            key = key_of(value)
            if add:
                bucket.setdefault(key, set()).add(record["Id"])
            else:
                ids = bucket.get(key)
                if ids is not None:
                    ids.discard(record["Id"])
                    if not ids:
                        del bucket[key]

    def _index_record(self, sobject: str, record: Record, *, add: bool) -> None:
        if record.get("IsDeleted"):
            return
        for field in self._indexed.get(sobject, ()):
            value = record.get(field)
            if value is None or value == "":
                continue
            bucket = self._index.setdefault((sobject, field), {})
            key = _index_key(value)
            if add:
                bucket.setdefault(key, set()).add(record["Id"])
            else:
                bucket.get(key, set()).discard(record["Id"])
