"""Change events as the Pub/Sub API sends them: an Avro schema per entity and binary payloads.

API-FACTS §8.7: the payload is the plain Avro binary encoding of one record (no container
header); the record's first field is the ``ChangeEventHeader``, then every field of the entity
as a null-union (null when unchanged); dates and datetimes are epoch numbers; and
``changedFields``, ``nulledFields`` and ``diffFields`` are hex bitmaps over the positions of
the schema's top-level fields, built from the same schema ``GetSchema`` returns.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import fastavro

from salesync.sandbox.change_events import GAP_TYPES, ChangeEvent
from salesync.sandbox.schema import SObjectDef
from salesync.sandbox.timefmt import parse_datetime

NAMESPACE = "com.sforce.eventbus"
CHANGE_TYPES = ("CREATE", "UPDATE", "DELETE", "UNDELETE", *GAP_TYPES)
#: Record fields a change event leaves out: the record id travels in the header's recordIds.
_NOT_IN_EVENTS = frozenset({"Id"})
_BITMAP_FIELDS = ("changedFields", "nulledFields", "diffFields")

_HEADER_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "ChangeEventHeader",
    "namespace": NAMESPACE,
    "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": {"type": "array", "items": "string"}},
        {
            "name": "changeType",
            "type": {"type": "enum", "name": "ChangeType", "symbols": list(CHANGE_TYPES)},
        },
        {"name": "changeOrigin", "type": "string"},
        {"name": "transactionKey", "type": "string"},
        {"name": "sequenceNumber", "type": "int"},
        {"name": "commitTimestamp", "type": "long"},
        {"name": "commitNumber", "type": "long"},
        {"name": "commitUser", "type": "string"},
        {"name": "nulledFields", "type": {"type": "array", "items": "string"}},
        {"name": "diffFields", "type": {"type": "array", "items": "string"}},
        {"name": "changedFields", "type": {"type": "array", "items": "string"}},
    ],
}
_AVRO_TYPES: dict[str, Any] = {
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "date": {"type": "int", "logicalType": "date"},
    "datetime": {"type": "long", "logicalType": "timestamp-millis"},
}


@dataclass(frozen=True)
class EventSchema:
    """One entity's change-event schema: its JSON, fingerprint and field positions."""

    entity: str
    schema_json: str
    schema_id: str
    #: Top-level field names in schema order (position 0 is ChangeEventHeader).
    field_names: tuple[str, ...]
    parsed: Any
    #: Fields whose Avro type is a logical one (``date``, ``timestamp-millis``).
    logical_types: dict[str, str]

    def bitmap(self, names: list[str]) -> list[str]:
        """Field names as Pub/Sub's bitmap list: one ``0x…`` element (Task has no compound
        fields, so no ``{position}-0x…`` elements)."""
        bits = 0
        for name in names:
            if name in self.field_names:
                bits |= 1 << self.field_names.index(name)
        return [f"0x{bits:X}"] if bits else []


def event_schema(obj: SObjectDef) -> EventSchema:
    """The change-event schema of ``obj`` (``TaskChangeEvent`` for Task)."""
    record_fields: list[dict[str, Any]] = [{"name": "ChangeEventHeader", "type": _HEADER_SCHEMA}]
    logical: dict[str, str] = {}
    for definition in obj.fields.values():
        if definition.name in _NOT_IN_EVENTS:
            continue
        avro_type = _AVRO_TYPES.get(definition.type, "string")
        if isinstance(avro_type, dict):
            logical[definition.name] = avro_type["logicalType"]
        record_fields.append(
            {"name": definition.name, "type": ["null", avro_type], "default": None}
        )
    schema = {
        "type": "record",
        "name": f"{obj.name}ChangeEvent",
        "namespace": NAMESPACE,
        "fields": record_fields,
    }
    text = json.dumps(schema, separators=(",", ":"))
    # A stable fingerprint, shaped like Salesforce's 22-character schema ids.
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    schema_id = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    names = tuple(str(f["name"]) for f in record_fields)
    parsed = fastavro.parse_schema(schema)
    return EventSchema(obj.name, text, schema_id, names, parsed, logical)


def encode_event(event: ChangeEvent, schema: EventSchema) -> bytes:
    """The Avro binary payload of a logged change event."""
    payload = json.loads(event.payload_json)
    header = dict(payload.pop("ChangeEventHeader"))
    for name in _BITMAP_FIELDS:
        header[name] = schema.bitmap(list(header.get(name) or []))
    record: dict[str, Any] = {"ChangeEventHeader": header}
    for name, value in payload.items():
        if name in schema.field_names:
            record[name] = _avro_value(schema.logical_types.get(name), value)
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema.parsed, record)
    return out.getvalue()


def _avro_value(logical_type: str | None, value: Any) -> Any:
    """REST wire values (the change log keeps those) to what the Avro schema expects."""
    if value is None or logical_type is None:
        return value
    if logical_type == "date":
        return date.fromisoformat(str(value))
    parsed = parse_datetime(str(value))
    if not isinstance(parsed, datetime):
        raise ValueError(f"not a datetime: {value!r}")
    return parsed
