"""Decode Change Data Capture events from the Pub/Sub API (API-FACTS §8.7).

The payload is the plain Avro binary encoding of one record, read with the writer schema from
``GetSchema``. Its first field is ``ChangeEventHeader``; ``changedFields``, ``nulledFields``
and ``diffFields`` there are hex bitmaps over the schema's top-level field positions. Values
come out in the REST API's shapes (datetimes as ``…+0000`` strings, dates as ``YYYY-MM-DD``)
so that the rest of salesync reads an event like a queried record.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import fastavro

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ChangeEvent:
    """One decoded change event."""

    replay_id: bytes
    entity: str
    change_type: str
    record_ids: tuple[str, ...]
    change_origin: str
    commit_timestamp: dt.datetime
    changed_fields: frozenset[str]
    nulled_fields: frozenset[str]
    #: Non-null field values in REST shapes (unchanged fields are null in events: left out).
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_gap(self) -> bool:
        return self.change_type.startswith("GAP_")

    def made_by_client(self, client_id: str) -> bool:
        """Whether the change came from an API call naming ``client_id`` in its call options
        (``changeOrigin`` like ``com/salesforce/api/rest/59.0;client=salesync``)."""
        parts = self.change_origin.split(";")
        return any(part.strip() == f"client={client_id}" for part in parts[1:])


@dataclass(frozen=True)
class _Schema:
    parsed: Any
    field_names: tuple[str, ...]


@lru_cache(maxsize=64)
def _schema(schema_json: str) -> _Schema:
    raw = json.loads(schema_json)
    names = tuple(str(entry["name"]) for entry in raw["fields"])
    return _Schema(fastavro.parse_schema(raw), names)


def bitmap_fields(bitmap: list[str], field_names: tuple[str, ...]) -> frozenset[str]:
    """Field names of a Pub/Sub bitmap list. Element 0 is ``0x…`` over top-level positions
    (bit i = field i); ``{position}-0x…`` elements name nested fields of a compound field,
    which this returns as the compound field's name."""
    names: set[str] = set()
    for index, element in enumerate(bitmap):
        if index == 0 and element.startswith("0x"):
            bits = int(element, 16)
            names.update(name for i, name in enumerate(field_names) if bits >> i & 1)
        elif "-" in element:
            position = int(element.split("-", 1)[0])
            if 0 <= position < len(field_names):
                names.add(field_names[position])
    return frozenset(names)


def decode(replay_id: bytes, payload: bytes, schema_json: str) -> ChangeEvent:
    """Decode one event's payload with its writer schema."""
    schema = _schema(schema_json)
    record = fastavro.schemaless_reader(io.BytesIO(payload), schema.parsed, None)
    if not isinstance(record, dict):
        raise ValueError("a change event payload must be a record")
    header = record.pop("ChangeEventHeader")
    values = {name: _rest_value(value) for name, value in record.items() if value is not None}
    return ChangeEvent(
        replay_id=replay_id,
        entity=str(header["entityName"]),
        change_type=str(header["changeType"]),
        record_ids=tuple(str(i) for i in header["recordIds"]),
        change_origin=str(header.get("changeOrigin") or ""),
        commit_timestamp=_EPOCH + dt.timedelta(milliseconds=int(header["commitTimestamp"])),
        changed_fields=bitmap_fields(list(header.get("changedFields") or []), schema.field_names),
        nulled_fields=bitmap_fields(list(header.get("nulledFields") or []), schema.field_names),
        values=values,
    )


def _rest_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return utc.isoformat(timespec="milliseconds") + "+0000"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
