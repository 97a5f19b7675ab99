"""Typed results of Salesforce REST calls (everything but record field maps is a dataclass)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from salesync.salesforce import datetimes

#: A record as Salesforce returns it: field name -> value (``attributes`` included).
Record = dict[str, Any]

#: statusCode Salesforce puts on items that only failed because a sibling did (API-FACTS §2.4).
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


@dataclass(frozen=True)
class ApiErrorDetail:
    """One entry of a Salesforce error array."""

    #: ``errorCode`` (top-level errors) or ``statusCode`` (collection/composite items).
    code: str
    #: Salesforce's message, as sent.
    message: str
    #: Fields the error is about; often empty.
    fields: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> ApiErrorDetail:
        """Read either shape: ``{errorCode, message, fields}`` or ``{statusCode, ...}``."""
        code = item.get("errorCode") or item.get("statusCode") or ""
        fields = item.get("fields") or ()
        return cls(str(code), str(item.get("message") or ""), tuple(str(f) for f in fields))


def error_details(items: Sequence[Any]) -> tuple[ApiErrorDetail, ...]:
    """Read an error array, skipping anything that is not an object."""
    return tuple(ApiErrorDetail.from_json(item) for item in items if isinstance(item, Mapping))


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert by external id did (API-FACTS §2.6)."""

    #: The record id; None only for a pre-v46.0 204 answer, which carries no body.
    id: str | None
    #: True when no record matched and one was created.
    created: bool


@dataclass(frozen=True)
class CollectionItemResult:
    """The outcome of one record in an sObject Collections call, matched by position."""

    #: ``success`` of the item.
    ok: bool
    #: The record id; a failed create has none (API-FACTS Pitfalls: Partial failures).
    id: str | None
    #: The item's errors (``statusCode`` shape).
    errors: tuple[ApiErrorDetail, ...] = ()
    #: For upserts: whether the record was created; None for other operations.
    created: bool | None = None

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> CollectionItemResult:
        created = item.get("created")
        return cls(
            ok=bool(item.get("success")),
            id=item.get("id") or None,
            errors=error_details(item.get("errors") or ()),
            created=bool(created) if created is not None else None,
        )

    @property
    def real_error(self) -> ApiErrorDetail | None:
        """The error worth reporting: the first that is not an all-or-none rollback."""
        for error in self.errors:
            if error.code != ROLLED_BACK:
                return error
        return self.errors[0] if self.errors else None


@dataclass(frozen=True)
class UpdatedRecords:
    """Answer of getUpdated (API-FACTS §2.8)."""

    ids: tuple[str, ...]
    #: Use as the next start: changes up to here are covered.
    latest_date_covered: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> UpdatedRecords:
        return cls(
            ids=tuple(str(i) for i in body.get("ids") or ()),
            latest_date_covered=datetimes.parse(str(body["latestDateCovered"])),
        )


@dataclass(frozen=True)
class DeletedRecord:
    """One row of getDeleted."""

    id: str
    deleted_date: datetime


@dataclass(frozen=True)
class DeletedRecords:
    """Answer of getDeleted (API-FACTS §2.8)."""

    records: tuple[DeletedRecord, ...]
    #: If later than the start asked for, deletes were lost: do a full reconcile.
    earliest_date_available: datetime | None
    latest_date_covered: datetime | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> DeletedRecords:
        records = tuple(
            DeletedRecord(str(row["id"]), datetimes.parse(str(row["deletedDate"])))
            for row in body.get("deletedRecords") or ()
        )
        return cls(
            records=records,
            earliest_date_available=datetimes.parse_optional(body.get("earliestDateAvailable")),
            latest_date_covered=datetimes.parse_optional(body.get("latestDateCovered")),
        )

    def lost_deletes_since(self, start: datetime) -> bool:
        """True when Salesforce no longer holds every delete since ``start``."""
        return self.earliest_date_available is not None and self.earliest_date_available > start


@dataclass(frozen=True)
class OrgLimit:
    """One entry of ``/limits`` (API-FACTS §2.9)."""

    max: int
    remaining: int

    @property
    def used(self) -> int:
        return self.max - self.remaining
