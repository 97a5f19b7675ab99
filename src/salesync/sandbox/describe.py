"""Describe results filtered by the caller's field-level security (API-FACTS §2.11, item 13)."""

from __future__ import annotations

from typing import Any

from salesync.sandbox.call import Call
from salesync.sandbox.schema import TEXT_TYPES, FieldDef, PicklistValue, SObjectDef

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
}


def object_urls(call: Call, obj: SObjectDef) -> dict[str, str]:
    base = call.url(f"/sobjects/{obj.name}")
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
    }


def object_summary(call: Call, obj: SObjectDef) -> dict[str, Any]:
    """The object-level part shared by describeGlobal, basic info and describe."""
    rights = call.access.object_access(obj.name)
    return {
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "createable": obj.createable and rights.create,
        "updateable": obj.updateable and rights.edit,
        "deletable": obj.deletable and rights.delete,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "undeletable": False,
        "replicateable": True,
        "triggerable": True,
        "layoutable": True,
        "urls": object_urls(call, obj),
    }


def describe_global(call: Call) -> dict[str, Any]:
    readable = [o for o in call.org.schema.objects.values() if call.access.can_read(o)]
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(call, obj) for obj in readable],
    }


def describe_sobject(call: Call, obj: SObjectDef) -> dict[str, Any]:
    rights = call.access.object_access(obj.name)
    fields = [
        _describe_field(call, obj, f, rights.create, rights.edit) for f in call.visible_fields(obj)
    ]
    children = [
        {
            "childSObject": rel.child_sobject,
            "field": rel.field,
            "relationshipName": rel.relationship_name,
            "cascadeDelete": False,
            "deprecatedAndHidden": False,
            "restrictedDelete": False,
        }
        for rel in obj.child_relationships
    ]
    return {
        **object_summary(call, obj),
        "fields": fields,
        "childRelationships": children,
        "recordTypeInfos": [],
    }


def _picklist_values(call: Call, definition: FieldDef) -> tuple[PicklistValue, ...]:
    if definition.picklist_source:
        return call.org.picklist_values(definition.picklist_source)
    return definition.picklist


def _describe_field(
    call: Call, obj: SObjectDef, definition: FieldDef, can_create: bool, can_edit: bool
) -> dict[str, Any]:
    access = call.access
    is_picklist = definition.type in ("picklist", "combobox")
    return {
        "name": definition.name,
        "label": definition.label,
        "type": definition.type,
        "soapType": _SOAP_TYPES.get(definition.type, "xsd:string"),
        "length": definition.length if definition.type in TEXT_TYPES else 0,
        "byteLength": definition.length * 3 if definition.type in TEXT_TYPES else 0,
        "digits": 8 if definition.type == "int" else 0,
        "precision": 18 if definition.type in ("double", "currency") else 0,
        "scale": 2 if definition.type in ("double", "currency") else 0,
        "createable": can_create and access.can_create_field(obj.name, definition),
        "updateable": can_edit and access.can_update_field(obj.name, definition),
        "nillable": definition.nillable,
        "defaultedOnCreate": definition.defaulted_on_create,
        "defaultValue": False if definition.type == "boolean" else None,
        "filterable": definition.filterable,
        "sortable": definition.filterable,
        "groupable": definition.filterable and definition.type not in ("double", "datetime"),
        "unique": definition.unique,
        "externalId": definition.external_id,
        "idLookup": definition.name == "Id" or definition.external_id,
        "caseSensitive": False,
        "custom": definition.custom,
        "calculated": False,
        "autoNumber": False,
        "nameField": definition.name_field,
        "htmlFormatted": False,
        "dependentPicklist": False,
        "restrictedPicklist": definition.restricted,
        "picklistValues": [p.describe() for p in _picklist_values(call, definition)]
        if is_picklist
        else [],
        "referenceTo": list(definition.reference_to),
        "relationshipName": definition.relationship_name
        if definition.type == "reference"
        else None,
        "polymorphicForeignKey": len(definition.reference_to) > 1,
        "inlineHelpText": None,
    }
