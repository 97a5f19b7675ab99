"""What the SOQL engine needs from the org: field metadata and rows (a small seam)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class FieldMeta:
    """One field of an sObject as the calling user sees it."""

    #: canonical API name, used as the output key
    name: str
    #: describe type: "id", "string", "textarea", "picklist", "reference", "boolean", "date",
    #: "datetime", "int", "double", "email", "url", "phone", "combobox", "currency"
    type: str
    #: False for long text such as Task.Description, which WHERE and ORDER BY refuse
    filterable: bool = True
    #: target objects of a reference field; more than one makes it polymorphic
    reference_to: tuple[str, ...] = ()
    #: the relationship name used in paths, e.g. WhoId -> "Who"
    relationship_name: str | None = None


class QuerySource(Protocol):
    """The org's data as one user sees it."""

    def fields(self, sobject: str) -> Mapping[str, FieldMeta] | None:
        """Visible fields keyed by canonical name; None when the object is unknown."""

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        """Rows keyed by canonical field name; deleted ones only with include_deleted."""

    def lookup(
        self, sobject: str, field: str, keys: Iterable[str], include_deleted: bool
    ) -> Iterable[Mapping[str, Any]] | None:
        """The rows of ``rows`` whose ``field`` is one of ``keys``, in the same order, when an
        index finds them; None when ``field`` has no index. A text field's keys are casefolded,
        a reference field's are 15-char ids (``soql_ids.stored_id_key``)."""

    def row_by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        """The sObject name and row of a record, for parent relationship paths."""

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        """(child sObject, foreign key field) of a child relationship, e.g. Lead.Tasks."""
