"""Create, update, delete and upsert with Salesforce's validation order and error bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from salesync.sandbox import errors, rules, values
from salesync.sandbox.changes import Deletion
from salesync.sandbox.errors import ApiError
from salesync.sandbox.ids import KEY_PREFIXES, normalize_id, prefix_of
from salesync.sandbox.records import Record
from salesync.sandbox.schema import FieldDef, SObjectDef
from salesync.sandbox.security import UserAccess
from salesync.sandbox.timefmt import stamp

if TYPE_CHECKING:
    from salesync.sandbox.org import Org

#: api: a REST caller, with object and field-level security. ui: a person editing in
#: Salesforce (no API/FLS checks, read-only fields still refused). system: seeds and
#: automation, which may set anything.
WriteMode = Literal["api", "ui", "system"]
SYSTEM_STAMPS = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById")


def _id_characters(value: str) -> bool:
    """15 or 18 letters and digits: the shape of an id, whatever its checksum."""
    return len(value) in (15, 18) and value.isascii() and value.isalnum()


@dataclass(frozen=True)
class ValidationRule:
    """A stand-in for an org validation rule: refuse writes whose field matches a pattern."""

    id: int
    sobject: str
    field: str
    pattern: str
    message: str
    error_field: str | None = None


class MultipleMatches(Exception):
    """An external id matched several records (HTTP 300, API-FACTS §2.6)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} records match")
        self.ids = ids


class Dml:
    """One caller's writes within a request; every error is an ApiError."""

    def __init__(
        self,
        org: Org,
        user_id: str,
        *,
        client: str = "",
        origin: str = "",
        mode: WriteMode = "api",
        now: datetime | None = None,
    ) -> None:
        self.org = org
        self.user_id = user_id
        self.client = client
        self.origin = origin
        self.mode = mode
        self._now = now

    @cached_property
    def now(self) -> datetime:
        return stamp(self._now or self.org.clock.now())

    @cached_property
    def access(self) -> UserAccess:
        return self.org.access_of(self.user_id)

    @cached_property
    def context(self) -> rules.WriteContext:
        return rules.WriteContext(
            records=self.org.records,
            now=self.now,
            closed_statuses=self.org.picklist_flags("TaskStatus", "IsClosed"),
            high_priorities=self.org.picklist_flags("TaskPriority", "IsHighPriority"),
        )

    # public operations

    def create(self, obj: SObjectDef, body: Any) -> str:
        self._check_object(obj, "create")
        changes = self._resolve(obj, body, record_id=None)
        record: Record = dict.fromkeys(obj.fields)
        self._apply_defaults(obj, record)
        record.update(changes)
        record["Id"] = self.org.ids.new_id(obj.key_prefix)
        self._validate(obj, None, record, set(changes) | {"OwnerId"})
        self._stamp(record, created=True, given=changes)
        self.org.records.insert(obj.name, record)
        self._log(
            obj, record["Id"], "CREATE", sorted(k for k, v in record.items() if v is not None)
        )
        return str(record["Id"])

    def update(self, obj: SObjectDef, record_id: str, body: Any) -> None:
        old = self.load(obj, record_id)
        self._check_object(obj, "edit")
        if self.mode == "api" and old["Id"] in self.access.read_only_records:
            # Sharing gives this user read access only (API-FACTS §2.3).
            raise errors.insufficient_access()
        if obj.name == "Lead" and old.get("IsConverted") and self.mode != "system":
            raise ApiError(
                400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", []
            )
        changes = self._resolve(obj, body, record_id=old["Id"])
        new = {**old, **changes}
        changed = {name for name, value in changes.items() if old.get(name) != value}
        self._validate(obj, old, new, changed)
        self._stamp(new, created=False, given=changes)
        self.org.records.replace(new)
        diff = sorted(name for name in new if new[name] != old.get(name))
        self._log(obj, new["Id"], "UPDATE", diff)

    def delete(self, obj: SObjectDef, record_id: str) -> None:
        old = self.load(obj, record_id)
        self._check_object(obj, "delete")
        new = {**old, "IsDeleted": True, "SystemModstamp": self.now}
        self.org.records.replace(new)
        self.org.deletes.add(self.org.journal, Deletion(new["Id"], obj.name, self.now))
        self._log(obj, new["Id"], "DELETE", ["IsDeleted"])

    def upsert(self, obj: SObjectDef, field_name: str, value: str, body: Any) -> tuple[str, bool]:
        """Create or update by external id; returns (id, created)."""
        definition = obj.field(field_name)
        if (
            definition is None
            or not (definition.external_id or definition.name == "Id")
            or not self._visible(obj, definition)
        ):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        matches = self.find_by_external_id(obj, definition, value)
        if len(matches) > 1:
            raise MultipleMatches(matches)
        body = self._body_without_external_id(obj, definition, value, body)
        if matches:
            self.update(obj, matches[0], body)
            return matches[0], False
        if definition.name == "Id" and value:
            raise errors.not_found()
        seeded = dict(body) if definition.name == "Id" else {**body, definition.name: value}
        return self.create(obj, seeded), True

    def find_by_external_id(self, obj: SObjectDef, definition: FieldDef, value: str) -> list[str]:
        if definition.name == "Id":
            record_id = normalize_id(value) if value else None
            record = self.org.records.get(record_id) if record_id else None
            return [record_id] if record and record_id and not record["IsDeleted"] else []
        return self.org.records.find(obj.name, definition.name, value)

    def load(self, obj: SObjectDef, record_id: str) -> Record:
        """The live record ``record_id`` of type ``obj``, or the error Salesforce gives."""
        normalized = normalize_id(record_id)
        if not _id_characters(record_id):
            raise errors.malformed_id(f"{obj.label} ID", record_id)
        if normalized is None or prefix_of(normalized) != obj.key_prefix:
            # Id-shaped, but its suffix doesn't fit or it belongs to another object.
            answer = self.org.settings.wrong_id_answer
            raise errors.wrong_id(answer, f"{obj.label} ID", record_id)
        record = self.org.records.get(normalized)
        if record is None or self.org.records.sobject_of(normalized) != obj.name:
            raise errors.not_found()
        if record["IsDeleted"]:
            raise errors.entity_is_deleted()
        return record

    # steps

    def _check_object(self, obj: SObjectDef, action: Literal["create", "edit", "delete"]) -> None:
        if self.mode == "system":
            return
        allowed_by_api = {"create": obj.createable, "edit": obj.updateable, "delete": obj.deletable}
        if not allowed_by_api[action]:
            verb = {"create": "inserted", "edit": "updated", "delete": "deleted"}[action]
            raise ApiError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj.label}"
            )
        if self.mode == "api" and not getattr(self.access.object_access(obj.name), action):
            raise errors.insufficient_access()

    def _resolve(self, obj: SObjectDef, body: Any, *, record_id: str | None) -> dict[str, Any]:
        """Map body keys to fields and coerce values, refusing unknown and read-only fields."""
        if not isinstance(body, Mapping):
            raise errors.json_parser_error(
                f"Cannot deserialize instance of {obj.name} from {type(body).__name__.upper()}"
            )
        raw_changes: dict[str, Any] = {}
        read_only: list[str] = []
        for key, raw in body.items():
            if key == "attributes":
                continue
            definition = obj.field(key)
            if definition is None or not self._visible(obj, definition):
                raise errors.no_such_column(key, obj.name)
            if definition.name == "Id":
                self._check_body_id(raw, record_id)
            elif self._writable(obj, definition, creating=record_id is None):
                raw_changes[definition.name] = raw
            else:
                read_only.append(definition.name)
        if read_only:
            raise errors.not_writable(read_only)
        return {name: values.coerce(obj.fields[name], raw) for name, raw in raw_changes.items()}

    def _check_body_id(self, raw: Any, record_id: str | None) -> None:
        # API-FACTS §2.2: an Id in a create body is refused; an update may repeat its own id.
        if record_id is None or not isinstance(raw, str) or normalize_id(raw) != record_id:
            raise ApiError(
                400, "INVALID_FIELD", "The Id field should not be specified in the sobject data."
            )

    def _visible(self, obj: SObjectDef, definition: FieldDef) -> bool:
        return self.mode != "api" or self.access.field_visible(obj.name, definition)

    def _writable(self, obj: SObjectDef, definition: FieldDef, *, creating: bool) -> bool:
        if self.mode == "system":
            return True
        if self.mode == "ui":
            return definition.createable if creating else definition.updateable
        if creating:
            return self.access.can_create_field(obj.name, definition)
        return self.access.can_update_field(obj.name, definition)

    def _apply_defaults(self, obj: SObjectDef, record: Record) -> None:
        for definition in obj.fields.values():
            if definition.type == "boolean":
                record[definition.name] = False
            elif definition.picklist_source:
                record[definition.name] = self.org.default_picklist_value(
                    definition.picklist_source
                )
            elif definition.default_picklist_value is not None:
                record[definition.name] = definition.default_picklist_value
        if "OwnerId" in obj.fields:
            record["OwnerId"] = self.user_id

    def _validate(
        self, obj: SObjectDef, old: Record | None, new: Record, changed: set[str]
    ) -> None:
        self._check_references(obj, new, changed)
        rule = rules.rule_for(obj.name)
        if rule is not None:
            rule(self.context, old, new, changed)
        self._check_required(obj, new)
        self._check_unique(obj, new, changed)
        if self.mode != "system":
            self._check_validation_rules(obj, new)

    def _check_references(self, obj: SObjectDef, record: Record, names: set[str]) -> None:
        for name in sorted(names):
            definition = obj.fields.get(name)
            value = record.get(name)
            if definition is None or definition.type != "reference" or not value:
                continue
            self._check_reference(definition, value)

    def _check_reference(self, definition: FieldDef, value: str) -> None:
        target_type = self.org.records.sobject_of(value)
        allowed_prefixes = {KEY_PREFIXES[t] for t in definition.reference_to}
        if (target_type is None and prefix_of(value) not in allowed_prefixes) or (
            target_type is not None and target_type not in definition.reference_to
        ):
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                f"{definition.label}: id value of incorrect type: {value}",
                [definition.name],
            )
        target = self.org.records.get(value)
        if target is None or target["IsDeleted"]:
            raise ApiError(
                400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [definition.name]
            )
        if target_type == "User" and not target["IsActive"] and self.mode != "system":
            raise ApiError(
                400,
                "INACTIVE_OWNER_OR_USER",
                f"operation performed with inactive user [{value}] as owner of record",
                [definition.name],
            )

    def _check_required(self, obj: SObjectDef, record: Record) -> None:
        missing = [d.name for d in obj.fields.values() if d.required and record.get(d.name) is None]
        if missing:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def _check_unique(self, obj: SObjectDef, record: Record, changed: set[str]) -> None:
        for name in sorted(changed):
            definition = obj.fields.get(name)
            value = record.get(name)
            if definition is None or not definition.unique or value is None:
                continue
            others = [i for i in self.org.records.find(obj.name, name, value) if i != record["Id"]]
            if others:
                raise ApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {name} duplicates value on record with id: "
                    f"{others[0]}",
                    [],
                )

    def _check_validation_rules(self, obj: SObjectDef, record: Record) -> None:
        for rule in self.org.validation_rules:
            value = record.get(rule.field)
            if (
                rule.sobject == obj.name
                and value is not None
                and re.search(rule.pattern, str(value))
            ):
                fields = [rule.error_field] if rule.error_field else []
                raise ApiError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, fields)

    def _stamp(self, record: Record, *, created: bool, given: Mapping[str, Any]) -> None:
        stamps = {"LastModifiedDate": self.now, "LastModifiedById": self.user_id}
        if created:
            stamps |= {"CreatedDate": self.now, "CreatedById": self.user_id, "IsDeleted": False}
        for name, value in stamps.items():
            if name not in given:
                record[name] = value
        record["SystemModstamp"] = given.get("SystemModstamp") or record["LastModifiedDate"]

    def _body_without_external_id(
        self, obj: SObjectDef, definition: FieldDef, value: str, body: Any
    ) -> Mapping[str, Any]:
        if not isinstance(body, Mapping):
            raise errors.json_parser_error(f"Cannot deserialize instance of {obj.name}")
        kept = {k: v for k, v in body.items() if k.lower() != definition.name.lower()}
        given = [v for k, v in body.items() if k.lower() == definition.name.lower()]
        if given and str(given[0]).lower() != value.lower():
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"The value of {definition.name} in the body differs from the URL: {given[0]}",
                [definition.name],
            )
        return kept

    def _log(self, obj: SObjectDef, record_id: str, change_type: str, fields: list[str]) -> None:
        self.org.changes.append(
            self.org.journal,
            at=self.now,
            record_id=record_id,
            sobject=obj.name,
            change_type=change_type,
            changed_fields=tuple(fields),
            user_id=self.user_id,
            client=self.client,
            change_origin=self.origin,
        )
