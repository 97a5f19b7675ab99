"""Typed sObject describe results: which fields exist and what this user may do with them.

Field-level security shows in describe: fields the user can't see are absent, and
``createable``/``updateable`` reflect the user's edit access (API-FACTS §2.11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PicklistValue:
    """One picklist entry."""

    value: str
    label: str
    active: bool
    #: True when this is the field's default value.
    default_value: bool

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> PicklistValue:
        return cls(
            value=str(item.get("value") or ""),
            label=str(item.get("label") or item.get("value") or ""),
            active=bool(item.get("active", True)),
            default_value=bool(item.get("defaultValue", False)),
        )


@dataclass(frozen=True)
class FieldDescribe:
    """One field as the connected user sees it."""

    name: str
    label: str
    type: str
    #: Maximum length for text fields; 0 for others.
    length: int
    createable: bool
    updateable: bool
    nillable: bool
    defaulted_on_create: bool
    #: Marked External ID (usable for upsert).
    external_id: bool
    unique: bool
    restricted_picklist: bool
    picklist_values: tuple[PicklistValue, ...]
    reference_to: tuple[str, ...]

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> FieldDescribe:
        return cls(
            name=str(item["name"]),
            label=str(item.get("label") or item["name"]),
            type=str(item.get("type") or ""),
            length=int(item.get("length") or 0),
            createable=bool(item.get("createable")),
            updateable=bool(item.get("updateable")),
            nillable=bool(item.get("nillable")),
            defaulted_on_create=bool(item.get("defaultedOnCreate")),
            external_id=bool(item.get("externalId")),
            unique=bool(item.get("unique")),
            restricted_picklist=bool(item.get("restrictedPicklist")),
            picklist_values=tuple(
                PicklistValue.from_json(v) for v in item.get("picklistValues") or ()
            ),
            reference_to=tuple(str(r) for r in item.get("referenceTo") or ()),
        )

    @property
    def active_values(self) -> tuple[str, ...]:
        """Active picklist values, in describe order."""
        return tuple(v.value for v in self.picklist_values if v.active)

    @property
    def default_picklist_value(self) -> str | None:
        """The active value marked default, if any."""
        for value in self.picklist_values:
            if value.active and value.default_value:
                return value.value
        return None


@dataclass(frozen=True)
class SObjectDescribe:
    """An sObject's describe, with its fields by name."""

    name: str
    label: str
    key_prefix: str | None
    createable: bool
    updateable: bool
    deletable: bool
    queryable: bool
    fields: tuple[FieldDescribe, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SObjectDescribe:
        return cls(
            name=str(body["name"]),
            label=str(body.get("label") or body["name"]),
            key_prefix=body.get("keyPrefix") or None,
            createable=bool(body.get("createable")),
            updateable=bool(body.get("updateable")),
            deletable=bool(body.get("deletable")),
            queryable=bool(body.get("queryable")),
            fields=tuple(FieldDescribe.from_json(f) for f in body.get("fields") or ()),
        )

    def field(self, name: str) -> FieldDescribe | None:
        """The field named ``name`` (case-insensitive, as Salesforce names are), or None."""
        wanted = name.lower()
        for candidate in self.fields:
            if candidate.name.lower() == wanted:
                return candidate
        return None

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)
