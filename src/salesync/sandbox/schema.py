"""Object and field definitions: what describe reports and what writes are checked against."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

#: Field types; the names match describe's ``type`` values and the SOQL module's FieldMeta.
FIELD_TYPES = frozenset(
    {
        "id",
        "string",
        "textarea",
        "picklist",
        "reference",
        "boolean",
        "date",
        "datetime",
        "int",
        "double",
        "email",
        "url",
        "phone",
        "combobox",
        "currency",
    }
)
TEXT_TYPES = frozenset({"string", "textarea", "picklist", "email", "url", "phone", "combobox"})


@dataclass(frozen=True)
class PicklistValue:
    """One picklist entry as describe shows it."""

    value: str
    label: str
    active: bool = True
    default: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "defaultValue": self.default,
            "label": self.label,
            "validFor": None,
            "value": self.value,
        }


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject and its schema-level properties (before field-level security)."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    defaulted_on_create: bool = False
    filterable: bool = True
    #: Must hold a value after every write (REQUIRED_FIELD_MISSING otherwise).
    required: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[PicklistValue, ...] = ()
    restricted: bool = False
    #: Picklist values live in a table (TaskStatus / TaskPriority), not in the schema.
    picklist_source: str | None = None
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    name_field: bool = False
    #: A system field: read-only, and field-level security cannot hide it.
    system: bool = False

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r}")
        if not self.label:
            object.__setattr__(self, "label", _label_for(self.name))

    @property
    def indexed(self) -> bool:
        """Whether writes keep a value index for upsert matching and uniqueness."""
        return self.external_id or self.unique

    @property
    def default_picklist_value(self) -> str | None:
        return next((entry.value for entry in self.picklist if entry.default), None)


def _label_for(name: str) -> str:
    base = name.removesuffix("__c")
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base).replace("_", " ")


@dataclass(frozen=True)
class ChildRelationship:
    """A child relationship usable in subqueries, e.g. Lead.Tasks -> Task.WhoId."""

    child_sobject: str
    field: str
    relationship_name: str


@dataclass
class SObjectDef:
    """An sObject: its fields in describe order and its object-level capabilities."""

    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: dict[str, FieldDef]
    child_relationships: tuple[ChildRelationship, ...] = ()
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    _by_lower: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self._by_lower = {name.lower(): name for name in self.fields}

    def field(self, name: str) -> FieldDef | None:
        """Look a field up case-insensitively, as the API does."""
        canonical = self._by_lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    def put_field(self, definition: FieldDef) -> None:
        """Add or replace a field (custom fields, picklist changes)."""
        self.fields[definition.name] = definition
        self._reindex()


class Schema:
    """The org's objects, looked up case-insensitively by name."""

    def __init__(self, objects: list[SObjectDef]) -> None:
        self.objects: dict[str, SObjectDef] = {obj.name: obj for obj in objects}

    def get(self, name: str) -> SObjectDef | None:
        lowered = name.lower()
        return next((obj for key, obj in self.objects.items() if key.lower() == lowered), None)

    def set_picklist(
        self, sobject: str, field_name: str, values: list[str], default: str | None = None
    ) -> None:
        """Replace an org-defined picklist's values (e.g. Task.Type) and its default."""
        obj = self.objects[sobject]
        current = obj.fields[field_name]
        entries = tuple(PicklistValue(v, v, default=(v == default)) for v in values)
        obj.put_field(
            dataclasses.replace(current, picklist=entries, defaulted_on_create=default is not None)
        )
