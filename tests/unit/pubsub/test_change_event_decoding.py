"""Decoding Pub/Sub change events: Avro payloads, bitmap field lists, echo detection."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import fastavro
import pytest

from salesync.salesforce.change_events import bitmap_fields, decode

FIELDS = ("ChangeEventHeader", "Subject", "ActivityDate", "LastModifiedDate", "IsRecurrence")
HEADER_FIELDS = [
    ("entityName", "string"),
    ("recordIds", {"type": "array", "items": "string"}),
    ("changeType", "string"),
    ("changeOrigin", "string"),
    ("transactionKey", "string"),
    ("sequenceNumber", "int"),
    ("commitTimestamp", "long"),
    ("commitNumber", "long"),
    ("commitUser", "string"),
    ("nulledFields", {"type": "array", "items": "string"}),
    ("diffFields", {"type": "array", "items": "string"}),
    ("changedFields", {"type": "array", "items": "string"}),
]
SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "TaskChangeEvent",
    "fields": [
        {
            "name": "ChangeEventHeader",
            "type": {
                "type": "record",
                "name": "ChangeEventHeader",
                "fields": [{"name": n, "type": t} for n, t in HEADER_FIELDS],
            },
        },
        {"name": "Subject", "type": ["null", "string"], "default": None},
        {"name": "ActivityDate", "type": ["null", {"type": "int", "logicalType": "date"}]},
        {
            "name": "LastModifiedDate",
            "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
        },
        {"name": "IsRecurrence", "type": ["null", "boolean"]},
    ],
}


def payload(**values: Any) -> bytes:
    header = {
        "entityName": "Task",
        "recordIds": ["00T5g000000000AAAA"],
        "changeType": "UPDATE",
        "changeOrigin": "com/salesforce/api/rest/59.0;client=salesync",
        "transactionKey": "k",
        "sequenceNumber": 1,
        "commitTimestamp": 1_740_996_000_123,
        "commitNumber": 7,
        "commitUser": "005",
        "nulledFields": ["0x2"],
        "diffFields": [],
        "changedFields": ["0xA"],
    }
    record = {
        "ChangeEventHeader": header,
        "Subject": None,
        "ActivityDate": None,
        "LastModifiedDate": None,
        "IsRecurrence": None,
        **values,
    }
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(SCHEMA), record)
    return out.getvalue()


@pytest.mark.parametrize(
    ("bitmap", "expected"),
    [
        ([], set()),
        (["0x1"], {"ChangeEventHeader"}),
        (["0xA"], {"Subject", "LastModifiedDate"}),
        (["0x1E"], {"Subject", "ActivityDate", "LastModifiedDate", "IsRecurrence"}),
        (["0x0", "2-0x10"], {"ActivityDate"}),  # a nested field names its compound parent
        (["0x10000"], set()),  # a position past the schema is ignored
    ],
)
def test_bitmaps_name_fields_by_schema_position(bitmap: list[str], expected: set[str]) -> None:
    assert bitmap_fields(bitmap, FIELDS) == expected


def test_the_documented_example_bitmap_sets_bits_5_6_7_10_24_26_29_30() -> None:
    names = tuple(f"F{i}" for i in range(32))
    found = bitmap_fields(["0x650004E0"], names)
    assert found == {f"F{i}" for i in (5, 6, 7, 10, 24, 26, 29, 30)}


def test_a_payload_decodes_to_rest_shaped_values_and_its_header() -> None:
    event = decode(
        b"\x01",
        payload(
            ActivityDate=dt.date(2025, 3, 7),
            LastModifiedDate=dt.datetime(2025, 3, 3, 10, 0, 0, 123000, tzinfo=dt.UTC),
            IsRecurrence=False,
        ),
        json.dumps(SCHEMA),
    )
    assert (event.entity, event.change_type, event.record_ids) == (
        "Task",
        "UPDATE",
        ("00T5g000000000AAAA",),
    )
    assert event.commit_timestamp == dt.datetime(2025, 3, 3, 10, 0, 0, 123000, tzinfo=dt.UTC)
    assert event.values == {
        "ActivityDate": "2025-03-07",
        "LastModifiedDate": "2025-03-03T10:00:00.123+0000",
        "IsRecurrence": False,
    }
    assert event.changed_fields == {"Subject", "LastModifiedDate"}
    assert event.nulled_fields == {"Subject"}
    assert not event.is_gap


@pytest.mark.parametrize(
    ("origin", "ours"),
    [
        ("com/salesforce/api/rest/59.0;client=salesync", True),
        ("com/salesforce/api/soap/59.0;client=salesync", True),
        ("com/salesforce/api/rest/59.0;client=salesync-other", False),
        ("com/salesforce/api/rest/59.0", False),
        ("", False),
        ("client=salesync", False),  # not an API origin
    ],
)
def test_echoes_are_told_by_the_client_in_change_origin(origin: str, ours: bool) -> None:
    event = decode(b"\x01", payload(), json.dumps(SCHEMA))
    event = type(event)(**{**event.__dict__, "change_origin": origin})
    assert event.made_by_client("salesync") is ours
