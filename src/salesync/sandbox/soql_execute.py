"""Run a parsed query against a ``QuerySource`` and shape the records as the REST API does."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from salesync.sandbox import soql_dates, soql_errors, soql_ids
from salesync.sandbox.soql_filter import FilterCompiler, Key, Predicate, field_kind, sort_key
from salesync.sandbox.soql_schema import POLYMORPHIC_ENTITY, Hop, Row, Schema
from salesync.sandbox.soql_source import QuerySource
from salesync.sandbox.soql_syntax import (
    And,
    Comparison,
    Condition,
    Count,
    FieldPath,
    InList,
    OrderItem,
    Query,
    StringLiteral,
    Subquery,
    Value,
)


@dataclass
class QueryResult:
    """All matching records in wire form; the caller pages them."""

    #: ``{"attributes": {"type": T, "url": ...}, <fields>...}`` in SELECT order
    records: list[dict[str, Any]]
    #: the number of records, or for ``COUNT()`` the count (and ``records`` is empty)
    total_size: int


def execute(
    query: Query,
    source: QuerySource,
    *,
    now: datetime,
    version: str,
    include_deleted: bool = False,
) -> QueryResult:
    """Evaluate ``query`` for the caller ``source`` represents.

    Parameters
    ----------
    query:
        A statement from ``parse``; it can be executed any number of times.
    source:
        The org as the calling user sees it (hidden fields are absent from ``fields``).
    now:
        Anchors TODAY and the other relative date literals; days are taken in UTC.
    version:
        The API version of the request, e.g. ``"59.0"``, used in record urls.
    include_deleted:
        Passed to ``source.rows``: True for queryAll.

    Returns
    -------
    QueryResult
        Every matching record in wire form; paging is the caller's job.

    Raises ``SoqlError``: INVALID_TYPE for an unknown object, INVALID_FIELD for an unknown,
    hidden or unfilterable field or a literal of the wrong type.
    """
    schema = Schema(source)
    schema.require(query.sobject)
    run = _Run(schema, now, f"/services/data/v{version}/sobjects/", include_deleted)
    if query.is_count or query.is_aggregate:
        return run.count(query)
    return run.records(query)


# -- the shape of the output -----------------------------------------------------------------


@dataclass
class _Leaf:
    """A selected field on the node's record."""

    key: str
    #: the field's type differs per record when a polymorphic parent lies on the path
    per_type: bool = False
    is_type: bool = False


@dataclass
class _Parent:
    """A parent relationship object, e.g. ``"Who": {"attributes": ..., "Name": ...}``."""

    key: str
    hop: Hop
    entries: dict[str, _Entry] = field(default_factory=dict)


@dataclass
class _Children:
    """A child subquery, e.g. ``"Tasks": {"totalSize": n, "done": true, "records": [...]}``."""

    key: str
    sobject: str
    foreign_key: str
    entries: dict[str, _Entry]
    predicate: Predicate
    sort: Callable[[list[Row]], None]
    limit: int | None
    groups: dict[str, list[Row]] | None = None


_Entry = _Leaf | _Parent | _Children
_Render = Callable[[str, str, Row], dict[str, Any]]
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_plain(entry: _Entry) -> bool:
    return isinstance(entry, _Leaf) and not (entry.per_type or entry.is_type)


class _Run:
    """One execution: compiles the query's parts, then reads, filters, sorts and renders."""

    def __init__(self, schema: Schema, now: datetime, url_prefix: str, deleted: bool) -> None:
        self._schema = schema
        self._now = now
        self._url_prefix = url_prefix
        self._deleted = deleted
        self._parent_rows: list[Row] | None = None

    def records(self, query: Query) -> QueryResult:
        entries: dict[str, _Entry] = {}
        for item in query.select:
            if isinstance(item, Subquery):
                child = self._children(query.sobject, item)
                entries[child.key] = child
            elif isinstance(item, FieldPath):
                self._add_path(entries, query.sobject, item)
        render = self._renderer(entries)
        rows = self._matching(query.sobject, query.where, query.order_by)
        rows = _page(rows, query.offset, query.limit)
        self._parent_rows = rows  # whose children subqueries read
        sobject = self._type_of(query.sobject, rows)
        return QueryResult([render(sobject, sobject, row) for row in rows], len(rows))

    def count(self, query: Query) -> QueryResult:
        counted = [item for item in query.select if isinstance(item, Count)]
        getters = [self._getter(query.sobject, item.field) for item in counted if item.field]
        # the order cannot change a count, but its fields must still be valid
        rows = self._matching(query.sobject, query.where, query.order_by, sort=False)
        if query.is_count:
            return QueryResult([], len(_page(rows, query.offset, query.limit)))
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        unnamed = 0
        for item, getter in zip(counted, getters, strict=True):
            key = item.alias or f"expr{unnamed}"
            unnamed += item.alias is None
            record[key] = sum(1 for row in rows if getter(row) is not None)
        records = _page([record], query.offset, query.limit)
        return QueryResult(records, len(records))

    # -- compiling ---------------------------------------------------------------------------

    def _getter(self, sobject: str, path: FieldPath) -> Key:
        return self._schema.getter(self._schema.resolve(sobject, path))

    def _add_path(self, entries: dict[str, _Entry], sobject: str, path: FieldPath) -> None:
        resolved = self._schema.resolve(sobject, path)
        per_type = False
        for hop in resolved.hops:
            per_type = per_type or hop.polymorphic
            node = entries.get(hop.relationship)
            if not isinstance(node, _Parent):
                node = _Parent(hop.relationship, hop)
                entries[hop.relationship] = node
            entries = node.entries
        entries[resolved.field.name] = _Leaf(resolved.field.name, per_type, resolved.is_type)

    def _children(self, parent: str, subquery: Subquery) -> _Children:
        found = self._schema.source.child_relationship(parent, subquery.relationship)
        if found is None:
            raise soql_errors.unknown_child_relationship(subquery.relationship)
        sobject, foreign_key = found
        self._schema.require(sobject)
        entries: dict[str, _Entry] = {}
        for path in subquery.fields:
            self._add_path(entries, sobject, path)
        return _Children(
            key=subquery.relationship,
            sobject=sobject,
            foreign_key=foreign_key,
            entries=entries,
            predicate=self._predicate(sobject, subquery.where),
            sort=self._sorter(sobject, subquery.order_by),
            limit=subquery.limit,
        )

    def _predicate(self, sobject: str, where: Condition | None) -> Predicate:
        if where is None:
            return lambda row: True
        return FilterCompiler(self._schema, sobject, self._now).compile(where)

    def _sorter(self, sobject: str, order_by: tuple[OrderItem, ...]) -> Callable[[list[Row]], None]:
        keys = [self._order_key(sobject, item) for item in order_by]

        def sort(rows: list[Row]) -> None:
            # stable sorts from the last key to the first give the multi-key order
            for key, item in reversed(keys):
                rows[:] = _sorted_by(rows, key, item)

        return sort

    def _order_key(self, sobject: str, item: OrderItem) -> tuple[Key, OrderItem]:
        resolved = self._schema.resolve(sobject, item.field)
        if not resolved.field.filterable:
            raise soql_errors.not_sortable(resolved.field.name)
        return sort_key(resolved, self._schema.getter(resolved)), item

    # -- running -----------------------------------------------------------------------------

    def _matching(
        self,
        sobject: str,
        where: Condition | None,
        order_by: tuple[OrderItem, ...],
        *,
        sort: bool = True,
    ) -> list[Row]:
        predicate = self._predicate(sobject, where)
        sorter = self._sorter(sobject, order_by)
        candidates = self._indexed(sobject, where)
        if candidates is None:
            candidates = self._schema.source.rows(sobject, self._deleted)
        rows = [row for row in candidates if predicate(row)]
        if sort:
            sorter(rows)
        return rows

    def _indexed(self, sobject: str, where: Condition | None) -> Iterable[Row] | None:
        """The rows an index narrows ``where`` to: every match, in row order, maybe more (the
        predicate still decides); None when no condition that must hold has an index."""
        conditions = where.operands if isinstance(where, And) else (where,) if where else ()
        for condition in conditions:
            if not isinstance(condition, Comparison | InList):
                continue
            keys = _text_points(condition)
            if keys is None or len(condition.field.parts) != 1:
                continue
            resolved = self._schema.resolve(sobject, condition.field)
            if field_kind(resolved) != "text":
                continue
            found = self._schema.source.lookup(sobject, resolved.field.name, keys, self._deleted)
            if found is not None:
                return found
        return None

    def _type_of(self, written: str, rows: list[Row]) -> str:
        """The object's canonical name (FROM may spell it in any case)."""
        if rows and isinstance(rows[0].get("Id"), str):
            found = self._schema.parent(rows[0]["Id"])
            if found is not None and found[0].lower() == written.lower():
                return found[0]
        return written

    def _renderer(self, entries: dict[str, _Entry]) -> _Render:
        """Compile how a node's records are built; plain fields take a fast path."""
        prefix = self._url_prefix
        plain = [key for key, entry in entries.items() if _is_plain(entry)]
        if len(plain) == len(entries):

            def render_plain(sobject: str, label: str, row: Row) -> dict[str, Any]:
                record: dict[str, Any] = {
                    "attributes": {"type": label, "url": f"{prefix}{sobject}/{row.get('Id')}"}
                }
                for key in plain:
                    value = row.get(key)
                    record[key] = value if type(value) in _JSON_SCALARS else _wire(value)
                return record

            return render_plain
        values = [(key, self._value_reader(entry)) for key, entry in entries.items()]

        def render(sobject: str, label: str, row: Row) -> dict[str, Any]:
            record: dict[str, Any] = {
                "attributes": {"type": label, "url": f"{prefix}{sobject}/{row.get('Id')}"}
            }
            for key, value_of in values:
                record[key] = value_of(sobject, row)
            return record

        return render

    def _value_reader(self, entry: _Entry) -> Callable[[str, Row], Any]:
        if isinstance(entry, _Parent):
            return self._parent_reader(entry)
        if isinstance(entry, _Children):
            return self._children_reader(entry)
        key = entry.key
        if entry.is_type:
            return lambda sobject, row: sobject
        if not entry.per_type:
            return lambda sobject, row: _wire(row.get(key))
        lower = key.lower()

        def per_type(sobject: str, row: Row) -> Any:
            name = self._schema.visible_name(sobject, lower)
            return None if name is None else _wire(row.get(name))

        return per_type

    def _parent_reader(self, parent: _Parent) -> Callable[[str, Row], Any]:
        render = self._renderer(parent.entries)
        hops = (parent.hop,)
        polymorphic = parent.hop.polymorphic

        def read(sobject: str, row: Row) -> dict[str, Any] | None:
            found = self._schema.follow(row, hops)
            if found is None:
                return None
            parent_type, parent_row = found
            # Salesforce labels polymorphic parents (Who, What, Owner) with the "Name" entity
            label = POLYMORPHIC_ENTITY if polymorphic else parent_type
            return render(parent_type, label, parent_row)

        return read

    def _children_reader(self, children: _Children) -> Callable[[str, Row], Any]:
        render = self._renderer(children.entries)
        child_type = children.sobject

        def read(sobject: str, row: Row) -> dict[str, Any] | None:
            if children.groups is None:
                children.groups = self._group_children(children)
            parent_id = row.get("Id")
            group = children.groups.get(soql_ids.stored_id_key(parent_id) if parent_id else "", [])
            records = [render(child_type, child_type, child) for child in group[: children.limit]]
            if not records:
                return None
            return {"totalSize": len(records), "done": True, "records": records}

        return read

    def _group_children(self, children: _Children) -> dict[str, list[Row]]:
        """The child rows of each parent, keyed by the parent's 15-char id: those of the
        result's parents, when an index finds them, or every parent's."""
        candidates = None
        if self._parent_rows is not None:
            keys = [soql_ids.stored_id_key(row["Id"]) for row in self._parent_rows if row.get("Id")]
            candidates = self._schema.source.lookup(
                children.sobject, children.foreign_key, keys, self._deleted
            )
        if candidates is None:
            candidates = self._schema.source.rows(children.sobject, self._deleted)
        # Sorting whole groups of a subset gives each group the order it has in all rows.
        rows = [
            row for row in candidates if row.get(children.foreign_key) and children.predicate(row)
        ]
        children.sort(rows)
        groups: dict[str, list[Row]] = {}
        for row in rows:
            groups.setdefault(soql_ids.stored_id_key(row[children.foreign_key]), []).append(row)
        return groups


def _sorted_by(rows: list[Row], key: Key, item: OrderItem) -> list[Row]:
    """One stable pass; nulls go first unless NULLS LAST, whatever the direction (SOQL)."""
    nulls = [row for row in rows if key(row) is None]
    if not nulls:
        return sorted(rows, key=key, reverse=item.descending)
    present = sorted(
        (row for row in rows if key(row) is not None), key=key, reverse=item.descending
    )
    return present + nulls if item.nulls_last else nulls + present


def _text_points(condition: Comparison | InList) -> list[str] | None:
    """The casefolded strings ``field = 'x'`` or ``field IN ('x', ...)`` accepts, else None."""
    if isinstance(condition, Comparison):
        if condition.operator != "=":
            return None
        values: tuple[Value, ...] = (condition.value,)
    elif condition.negated:
        return None
    else:
        values = condition.values
    if not all(isinstance(value, StringLiteral) for value in values):
        return None
    return [value.value.casefold() for value in values if isinstance(value, StringLiteral)]


def _page(rows: list[Any], offset: int | None, limit: int | None) -> list[Any]:
    start = offset or 0
    return rows[start:] if limit is None else rows[start : start + limit]


def _wire(value: Any) -> Any:
    """JSON form of a field value: datetimes and dates as Salesforce writes them."""
    if isinstance(value, datetime):
        return soql_dates.wire_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
