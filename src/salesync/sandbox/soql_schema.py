"""Resolve field paths against what the caller may see, and read them from rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from salesync.sandbox import soql_errors
from salesync.sandbox.soql_source import FieldMeta, QuerySource
from salesync.sandbox.soql_syntax import FieldPath

Row = Mapping[str, Any]
Getter = Callable[[Row], Any]

#: Salesforce's polymorphic relationships point at the "Name" entity; Type is its sObject name
POLYMORPHIC_ENTITY = "Name"
_TYPE_FIELD = FieldMeta("Type", "string")


@dataclass(frozen=True)
class Hop:
    """One step along a parent relationship, e.g. WhoId -> Who."""

    reference_field: str
    relationship: str
    polymorphic: bool


@dataclass(frozen=True)
class ResolvedField:
    """A field path checked against the schema."""

    hops: tuple[Hop, ...]
    field: FieldMeta
    #: the ``Type`` pseudo-field of a polymorphic relationship (Who.Type, What.Type)
    is_type: bool = False


class Schema:
    """Caches over a ``QuerySource`` for one execution: field indexes and parent rows."""

    def __init__(self, source: QuerySource) -> None:
        self.source = source
        self._indexes: dict[str, dict[str, FieldMeta] | None] = {}
        self._parents: dict[str, tuple[str, Row] | None] = {}

    def index(self, sobject: str) -> dict[str, FieldMeta] | None:
        """Visible fields of ``sobject`` keyed by lower-case name."""
        if sobject not in self._indexes:
            fields = self.source.fields(sobject)
            self._indexes[sobject] = (
                None if fields is None else {meta.name.lower(): meta for meta in fields.values()}
            )
        return self._indexes[sobject]

    def require(self, sobject: str) -> dict[str, FieldMeta]:
        index = self.index(sobject)
        if index is None:
            raise soql_errors.unsupported_object(sobject)
        return index

    def parent(self, record_id: str) -> tuple[str, Row] | None:
        if record_id not in self._parents:
            self._parents[record_id] = self.source.row_by_id(record_id)
        return self._parents[record_id]

    def visible_name(self, sobject: str, lower_name: str) -> str | None:
        """Canonical name of a field on a parent's actual type, None when hidden or absent."""
        meta = (self.index(sobject) or {}).get(lower_name)
        return None if meta is None else meta.name

    def resolve(self, sobject: str, path: FieldPath) -> ResolvedField:
        """Check a path from ``sobject``; raise INVALID_FIELD for unknown or hidden parts."""
        objects: tuple[str, ...] = (sobject,)
        self.require(sobject)
        entity = sobject
        hops: list[Hop] = []
        for name in path.parts[:-1]:
            reference = self._relationship(objects, name)
            polymorphic = len(reference.reference_to) > 1
            hops.append(Hop(reference.name, reference.relationship_name or name, polymorphic))
            objects = tuple(t for t in reference.reference_to if self.index(t) is not None)
            entity = POLYMORPHIC_ENTITY if polymorphic else reference.reference_to[0]
        leaf = path.parts[-1]
        if hops and hops[-1].polymorphic and leaf.lower() == "type":
            return ResolvedField(tuple(hops), _TYPE_FIELD, is_type=True)
        meta = self._field(objects, leaf)
        if meta is None:
            raise soql_errors.no_such_column(leaf, entity)
        return ResolvedField(tuple(hops), meta)

    def _relationship(self, objects: tuple[str, ...], name: str) -> FieldMeta:
        lower = name.lower()
        for sobject in objects:
            for meta in (self.index(sobject) or {}).values():
                if meta.reference_to and (meta.relationship_name or "").lower() == lower:
                    return meta
        raise soql_errors.unknown_parent_relationship(name)

    def _field(self, objects: tuple[str, ...], name: str) -> FieldMeta | None:
        lower = name.lower()
        for sobject in objects:
            meta = (self.index(sobject) or {}).get(lower)
            if meta is not None:
                return meta
        return None

    def getter(self, resolved: ResolvedField) -> Getter:
        """A function reading the resolved field from a row, following parents as needed."""
        if not resolved.hops:
            name = resolved.field.name
            return lambda row: row.get(name)
        hops = resolved.hops
        lower = resolved.field.name.lower()
        is_type = resolved.is_type

        def read(row: Row) -> Any:
            found = self.follow(row, hops)
            if found is None:
                return None
            sobject, parent = found
            if is_type:
                return sobject
            name = self.visible_name(sobject, lower)
            return None if name is None else parent.get(name)

        return read

    def follow(self, row: Row, hops: tuple[Hop, ...]) -> tuple[str, Row] | None:
        """The (type, row) at the end of ``hops``, None where a reference is empty."""
        found: tuple[str, Row] | None = None
        current = row
        for hop in hops:
            reference = current.get(hop.reference_field)
            found = None if reference is None else self.parent(reference)
            if found is None:
                return None
            current = found[1]
        return found
