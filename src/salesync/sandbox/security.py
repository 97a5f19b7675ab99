"""Per-user permissions: API access, object CRUD and field-level security (API-FACTS §2.11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from salesync.sandbox.schema import FieldDef, SObjectDef

FieldAccess = Literal["hidden", "read", "edit"]
FIELD_ACCESS_LEVELS: tuple[FieldAccess, ...] = ("hidden", "read", "edit")
#: Detail objects with no permissions of their own: access follows the parent's. A user who
#: cannot read Opportunities cannot read their contact roles either.
CONTROLLED_BY_PARENT = {"OpportunityContactRole": "Opportunity"}


@dataclass
class ObjectAccess:
    """Object permissions of one user on one sObject."""

    read: bool = True
    create: bool = True
    edit: bool = True
    delete: bool = True


@dataclass
class UserAccess:
    """What one user may do. Everything is allowed unless narrowed."""

    password: str = "sandbox"
    #: The profile's "API Enabled" permission (msia-rules CONN-5).
    api_enabled: bool = True
    #: Per sObject name; objects not listed get full access.
    objects: dict[str, ObjectAccess] = field(default_factory=dict)
    #: Keyed "Task.MSE_Clicked__c"; fields not listed are editable.
    fields: dict[str, FieldAccess] = field(default_factory=dict)
    #: Record ids sharing lets this user read but not edit (an org-wide default of
    #: Read Only, or a sharing rule granting read access only).
    read_only_records: set[str] = field(default_factory=set)

    def object_access(self, sobject: str) -> ObjectAccess:
        own = self.objects.get(sobject, ObjectAccess())
        parent = CONTROLLED_BY_PARENT.get(sobject)
        if parent is None:
            return own
        theirs = self.objects.get(parent, ObjectAccess())
        return ObjectAccess(
            read=own.read and theirs.read,
            create=own.create and theirs.edit,
            edit=own.edit and theirs.edit,
            delete=own.delete and theirs.edit,
        )

    def can_read(self, sobject: SObjectDef) -> bool:
        return self.object_access(sobject.name).read

    def field_level(self, sobject: str, definition: FieldDef) -> FieldAccess:
        if definition.system or definition.name == "Id":
            return "read"
        return self.fields.get(f"{sobject}.{definition.name}", "edit")

    def field_visible(self, sobject: str, definition: FieldDef) -> bool:
        return self.field_level(sobject, definition) != "hidden"

    def can_create_field(self, sobject: str, definition: FieldDef) -> bool:
        return definition.createable and self.field_level(sobject, definition) == "edit"

    def can_update_field(self, sobject: str, definition: FieldDef) -> bool:
        return definition.updateable and self.field_level(sobject, definition) == "edit"

    def visible_fields(self, sobject: SObjectDef) -> list[FieldDef]:
        return [f for f in sobject.fields.values() if self.field_visible(sobject.name, f)]
