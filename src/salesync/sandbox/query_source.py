"""Adapter from the org to the SOQL engine's QuerySource seam, for one calling user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from salesync.sandbox.ids import normalize_id
from salesync.sandbox.org import Org
from salesync.sandbox.security import UserAccess
from salesync.sandbox.soql import FieldMeta


class OrgQuerySource:
    """The org's rows and the fields ``user_id`` may see (hidden fields are INVALID_FIELD)."""

    def __init__(self, org: Org, user_id: str) -> None:
        self._org = org
        self._access: UserAccess = org.access_of(user_id)
        self._fields: dict[str, dict[str, FieldMeta] | None] = {}

    def fields(self, sobject: str) -> Mapping[str, FieldMeta] | None:
        key = sobject.lower()
        if key not in self._fields:
            self._fields[key] = self._visible(sobject)
        return self._fields[key]

    def _visible(self, sobject: str) -> dict[str, FieldMeta] | None:
        obj = self._org.sobject(sobject)
        if obj is None or not self._access.can_read(obj):
            return None
        return {
            f.name: FieldMeta(
                name=f.name,
                type=f.type,
                filterable=f.filterable,
                reference_to=f.reference_to,
                relationship_name=f.relationship_name,
            )
            for f in self._access.visible_fields(obj)
        }

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        obj = self._org.sobject(sobject)
        if obj is None:
            return []
        rows = self._org.records.rows(obj.name)
        return rows if include_deleted else (r for r in rows if not r["IsDeleted"])

    def lookup(
        self, sobject: str, field: str, keys: Iterable[str], include_deleted: bool
    ) -> Iterable[Mapping[str, Any]] | None:
        obj = self._org.sobject(sobject)
        rows = None if obj is None else self._org.records.lookup(obj.name, field, keys)
        if rows is None or include_deleted:
            return rows
        return [r for r in rows if not r["IsDeleted"]]

    def row_by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        normalized = normalize_id(record_id)
        record = self._org.records.get(normalized) if normalized else None
        if record is None or record["IsDeleted"]:
            return None
        sobject = self._org.records.sobject_of(record["Id"])
        return (sobject, record) if sobject else None

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        obj = self._org.sobject(sobject)
        if obj is None:
            return None
        for relationship in obj.child_relationships:
            if relationship.relationship_name.lower() == name.lower():
                return relationship.child_sobject, relationship.field
        return None
