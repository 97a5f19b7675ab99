"""Org discovery: what a connected user's org lets salesync do, in one composite API call.

One composite request carries the Task describe, the TaskStatus query and the basic
information (object-level flags) of Lead, Contact, Account and Opportunity (API-FACTS §2.5:
one call, 6 of 25 subrequests, 1 of 5 queries). The answer is an :class:`OrgProfile`,
JSON-serialisable for caching, with the checks a setup page shows.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from salesync.domain.wording import Translatable, tr
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import (
    CompositeSubrequest,
    CompositeSubresponse,
    validate_subrequests,
)
from salesync.salesforce.describe import FieldDescribe, SObjectDescribe
from salesync.salesforce.errors import (
    ApiDisabled,
    AuthenticationError,
    IntermittentError,
    SalesforceError,
)

#: Default API name of the Task field that makes creates idempotent (DESIGN §3 Exactly-once).
DEFAULT_EXTERNAL_ID_FIELD = "Salesync_Activity_Id__c"
#: TaskStatus decides which Status values are closed (API-FACTS Pitfalls: Closed state).
TASK_STATUS_SOQL = (
    "SELECT ApiName, IsClosed, IsDefault, SortOrder FROM TaskStatus ORDER BY SortOrder"
)
#: Objects salesync reads or writes besides Task (msia-rules API-11).
RELATED_OBJECTS = ("Lead", "Contact", "Account", "Opportunity")
#: Task fields logging needs to set on create (DESIGN §3 logged email/call Task).
CREATE_FIELDS = (
    "Subject",
    "Status",
    "Priority",
    "ActivityDate",
    "Description",
    "WhoId",
    "WhatId",
    "OwnerId",
    "TaskSubtype",
)
#: Task fields two-way reminder sync changes (msia-rules TASK-2).
UPDATE_FIELDS = ("Subject", "Status", "Priority", "ActivityDate", "Description")
#: Type values logging uses; capitalization matters and no default may be set (API-5).
REQUIRED_TYPE_VALUES = ("Email", "Call", "Reply")


class CheckLevel(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SetupCheck(_Frozen):
    """One line of the setup page."""

    key: str
    level: CheckLevel
    text: str
    #: The text's catalog id and values, so pages show it in the reader's language.
    text_i18n: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _keep_wording(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("text"), Translatable):
            return {**data, "text_i18n": data["text"].to_json()}
        return data


class FieldAccess(_Frozen):
    """A Task field as the connected user may use it (field-level security applied)."""

    name: str
    type: str
    length: int
    createable: bool
    updateable: bool
    external_id: bool = False
    unique: bool = False


class TaskStatusInfo(_Frozen):
    """A row of TaskStatus."""

    api_name: str
    is_closed: bool
    is_default: bool
    sort_order: int


class ObjectAccess(_Frozen):
    """What the user may do with a related object."""

    name: str
    accessible: bool
    queryable: bool = False
    createable: bool = False
    updateable: bool = False
    #: Why not accessible (the Salesforce error), empty when accessible.
    reason: str = ""


class OrgProfile(_Frozen):
    """What discovery found; cache it as JSON and rediscover when writes hit INVALID_FIELD*."""

    api_enabled: bool
    task_fields: dict[str, FieldAccess] = {}
    task_types: tuple[str, ...] = ()
    task_type_default: str | None = None
    task_subtypes: tuple[str, ...] = ()
    external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD
    external_id_ready: bool = False
    task_statuses: tuple[TaskStatusInfo, ...] = ()
    objects: dict[str, ObjectAccess] = {}
    checks: tuple[SetupCheck, ...] = ()
    #: When this profile was read from Salesforce; None for profiles cached before it existed.
    discovered_at: datetime | None = None

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> OrgProfile:
        return cls.model_validate_json(text)

    @property
    def first_closed_status(self) -> str | None:
        """The Status logged emails and calls get (DESIGN §3)."""
        return next((s.api_name for s in self.task_statuses if s.is_closed), None)

    @property
    def closed_statuses(self) -> frozenset[str]:
        return frozenset(s.api_name for s in self.task_statuses if s.is_closed)

    def can_create(self, field: str) -> bool:
        access = self.task_fields.get(field)
        return access is not None and access.createable

    def can_update(self, field: str) -> bool:
        access = self.task_fields.get(field)
        return access is not None and access.updateable


def discover_org(
    client: SalesforceClient,
    *,
    external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD,
    written_fields: Sequence[str] = (),
    now: datetime | None = None,
) -> OrgProfile:
    """Discover the org as the client's user sees it, in one API call.

    ``written_fields`` are the Task fields logging writes (attribute fields included): the
    setup check names each one this user cannot edit, so nothing is skipped unannounced.

    Raises
    ------
    AuthenticationError, IntermittentError
        When the call itself can't be made; API being disabled is reported in the profile.
    """
    along = discover_org_along(
        client,
        (),
        external_id_field=external_id_field,
        written_fields=written_fields,
        now=now,
    )
    assert along is not None  # discovery alone always fits in one composite call
    return along[0]


def discover_org_along(
    client: SalesforceClient,
    subrequests: Sequence[CompositeSubrequest],
    *,
    external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD,
    written_fields: Sequence[str] = (),
    now: datetime | None = None,
) -> tuple[OrgProfile, list[CompositeSubresponse]] | None:
    """:func:`discover_org` in one composite call with ``subrequests`` (activity logging
    sends its lookups this way: one call for both); returns the profile and their answers
    (none when API access is disabled).

    None, with nothing sent, when the two together would break a composite call's limits
    (25 subrequests, 5 queries). ``subrequests`` must not use discovery's reference ids
    (``describe…``, ``taskStatuses``).
    """
    discovery = _subrequests()
    combined = [*discovery, *subrequests]
    try:
        validate_subrequests(combined)
    except ValueError:
        return None
    try:
        answers = client.composite(combined)
    except ApiDisabled as exc:
        return _api_disabled_profile(exc), []
    own = {sub.reference_id for sub in discovery}
    by_ref = {answer.reference_id: answer for answer in answers if answer.reference_id in own}
    task = _describe(by_ref["describeTask"])
    if task is not None:
        client.remember_describe(task)
    statuses = _statuses(by_ref["taskStatuses"])
    objects = {name: _object_access(name, by_ref[f"describe{name}"]) for name in RELATED_OBJECTS}
    written = tuple(dict.fromkeys((*CREATE_FIELDS, *written_fields)))
    profile = _profile(task, statuses, objects, external_id_field, written)
    others = [answer for answer in answers if answer.reference_id not in own]
    return profile.model_copy(update={"discovered_at": now}), others


def _subrequests() -> list[CompositeSubrequest]:
    requests = [
        CompositeSubrequest("GET", "sobjects/Task/describe", "describeTask"),
        CompositeSubrequest.query(TASK_STATUS_SOQL, "taskStatuses"),
    ]
    # sObject Basic Information, not the full describe: only the object's own flags are
    # used, and a full describe of Lead, Contact, Account or Opportunity is a hundred fields
    # or more each (hundreds of kilobytes in a real org) for every rep discovered.
    requests += [
        CompositeSubrequest("GET", f"sobjects/{name}", f"describe{name}")
        for name in RELATED_OBJECTS
    ]
    return requests


def _describe(answer: CompositeSubresponse) -> SObjectDescribe | None:
    error = answer.error()
    if error is not None:
        _raise_if_not_about_access(error)
        return None
    return SObjectDescribe.from_json(answer.body)


def _raise_if_not_about_access(error: SalesforceError) -> None:
    # Transient or auth trouble says nothing about the org's setup: let the caller retry.
    if isinstance(error, IntermittentError | AuthenticationError):
        raise error


def _statuses(answer: CompositeSubresponse) -> tuple[TaskStatusInfo, ...] | None:
    error = answer.error()
    if error is not None:
        _raise_if_not_about_access(error)
        return None
    return tuple(_status(row) for row in answer.records)


def _status(row: Mapping[str, object]) -> TaskStatusInfo:
    order = row.get("SortOrder")
    return TaskStatusInfo(
        api_name=str(row.get("ApiName") or ""),
        is_closed=bool(row.get("IsClosed")),
        is_default=bool(row.get("IsDefault")),
        sort_order=int(order) if isinstance(order, int | float | str) and str(order) else 0,
    )


def _object_access(name: str, answer: CompositeSubresponse) -> ObjectAccess:
    error = answer.error()
    if error is not None:
        _raise_if_not_about_access(error)
        reason = f"{error.error_code}: {error.message}"
        return ObjectAccess(name=name, accessible=False, reason=reason)
    body = answer.body.get("objectDescribe") or {}
    queryable = bool(body.get("queryable"))
    return ObjectAccess(
        name=name,
        accessible=queryable,
        queryable=queryable,
        createable=bool(body.get("createable")),
        updateable=bool(body.get("updateable")),
        reason="" if queryable else "not queryable for this user",
    )


def _api_disabled_profile(error: ApiDisabled) -> OrgProfile:
    if error.error_code == "API_DISABLED_FOR_ORG":
        text = tr("This Salesforce edition has no API access (API_DISABLED_FOR_ORG).")
    else:
        text = tr(
            "API access is disabled for this Salesforce user (API_CURRENTLY_DISABLED): "
            'ask your admin to grant the "API Enabled" permission.'
        )
    return OrgProfile(
        api_enabled=False, checks=(SetupCheck(key="api_access", level=CheckLevel.ERROR, text=text),)
    )


def _profile(
    task: SObjectDescribe | None,
    statuses: tuple[TaskStatusInfo, ...] | None,
    objects: dict[str, ObjectAccess],
    external_id_field: str,
    written: Sequence[str] = CREATE_FIELDS,
) -> OrgProfile:
    fields = _field_access(task)
    type_field = task.field("Type") if task else None
    subtype_field = task.field("TaskSubtype") if task else None
    external = fields.get(external_id_field)
    external_ready = bool(external and external.external_id and external.createable)
    checks = [SetupCheck(key="api_access", level=CheckLevel.OK, text=tr("API access works."))]
    checks += _task_checks(task, fields, written)
    checks.append(_type_check(type_field))
    checks.append(_external_id_check(external_id_field, external))
    checks.append(_status_check(statuses))
    checks += [_object_check(access) for access in objects.values()]
    return OrgProfile(
        api_enabled=True,
        task_fields=fields,
        task_types=type_field.active_values if type_field else (),
        task_type_default=type_field.default_picklist_value if type_field else None,
        task_subtypes=subtype_field.active_values if subtype_field else (),
        external_id_field=external_id_field,
        external_id_ready=external_ready,
        task_statuses=statuses or (),
        objects=objects,
        checks=tuple(checks),
    )


def _field_access(task: SObjectDescribe | None) -> dict[str, FieldAccess]:
    if task is None:
        return {}
    return {
        f.name: FieldAccess(
            name=f.name,
            type=f.type,
            length=f.length,
            createable=f.createable,
            updateable=f.updateable,
            external_id=f.external_id,
            unique=f.unique,
        )
        for f in task.fields
    }


def _task_checks(
    task: SObjectDescribe | None, fields: Mapping[str, FieldAccess], written: Sequence[str]
) -> list[SetupCheck]:
    if task is None or not task.createable:
        text = tr("This user can't create Tasks: ask your admin for Create and Edit on Tasks.")
        return [SetupCheck(key="task_access", level=CheckLevel.ERROR, text=text)]
    checks = [SetupCheck(key="task_access", level=CheckLevel.OK, text=tr("Tasks can be created."))]
    checks.append(_written_fields_check(fields, written))
    not_updateable = _missing(fields, UPDATE_FIELDS, lambda f: f.updateable)
    if not_updateable:
        text = tr(
            "Two-way task sync can't change these Task fields for this user: {fields}.",
            fields=", ".join(not_updateable),
        )
        checks.append(SetupCheck(key="task_sync_fields", level=CheckLevel.WARNING, text=text))
    return checks


def _written_fields_check(fields: Mapping[str, FieldAccess], written: Sequence[str]) -> SetupCheck:
    """Every Task field salesync writes that this user can't edit, by API name.

    A standard field is always in the org, so one missing from describe is hidden by
    field-level security; a custom field missing may not exist at all (FIELDS-1/2).
    """
    by_lower = {name.lower(): access for name, access in fields.items()}
    read_only = [n for n in written if n.lower() in by_lower and not by_lower[n.lower()].createable]
    absent = [n for n in written if n.lower() not in by_lower]
    hidden = [n for n in absent if not n.endswith("__c")]
    missing_custom = [n for n in absent if n.endswith("__c")]
    problems = []
    if read_only:
        problems.append(f"read-only for this user: {', '.join(read_only)}")
    if hidden:
        problems.append(f"hidden by field-level security: {', '.join(hidden)}")
    if missing_custom:
        problems.append(
            f"missing from the org or hidden from this user: {', '.join(missing_custom)}"
        )
    if not problems:
        ok = tr("All Task fields salesync writes are editable.")
        return SetupCheck(key="task_fields", level=CheckLevel.OK, text=ok)
    level = CheckLevel.ERROR if read_only or hidden else CheckLevel.WARNING
    text = (
        "Task fields salesync writes that this user can't edit, left out of every logged "
        f"Task: {'; '.join(problems)}. Fix: in Salesforce Setup > Object Manager > Activity > "
        "Fields & Relationships, create the missing fields and, under Set Field-Level "
        "Security, make each one Visible and not Read-Only for this user's profile."
    )
    return SetupCheck(key="task_fields", level=level, text=text)


def _missing(
    fields: Mapping[str, FieldAccess], names: Sequence[str], allowed: Callable[[FieldAccess], bool]
) -> list[str]:
    return [name for name in names if name not in fields or not allowed(fields[name])]


def _type_check(type_field: FieldDescribe | None) -> SetupCheck:
    # msia-rules API-5: Email, Call and Reply must exist (exact case) and no default be set.
    if type_field is None:
        text = tr("Task Type is not visible to this user; logged activities will have no Type.")
        return SetupCheck(key="task_type", level=CheckLevel.WARNING, text=text)
    missing = [value for value in REQUIRED_TYPE_VALUES if value not in type_field.active_values]
    default = type_field.default_picklist_value
    values = ", ".join(missing)
    if missing and default:
        text = tr(
            "For activity types to show in Salesforce, add {values} to the Task Type picklist "
            "(capitalization matters) and remove the default Type value ({default}).",
            values=values,
            default=default,
        )
    elif missing:
        text = tr(
            "For activity types to show in Salesforce, add {values} to the Task Type picklist "
            "(capitalization matters).",
            values=values,
        )
    elif default:
        text = tr(
            "For activity types to show in Salesforce, remove the default Type value ({default}).",
            default=default,
        )
    if missing or default:
        return SetupCheck(key="task_type", level=CheckLevel.WARNING, text=text)
    return SetupCheck(
        key="task_type", level=CheckLevel.OK, text=tr("Task Type has Email, Call, Reply.")
    )


def _external_id_check(name: str, field: FieldAccess | None) -> SetupCheck:
    if field is None:
        text = tr(
            "Add a Task text field {field} marked External ID and Unique so a retry can never "
            "log an activity twice; until then salesync searches before each retry.",
            field=name,
        )
        return SetupCheck(key="external_id", level=CheckLevel.WARNING, text=text)
    if not (field.external_id and field.unique and field.createable):
        text = tr("Mark {field} as External ID and Unique, and editable for this user.", field=name)
        return SetupCheck(key="external_id", level=CheckLevel.WARNING, text=text)
    return SetupCheck(
        key="external_id",
        level=CheckLevel.OK,
        text=tr("{field} makes logging idempotent.", field=name),
    )


def _status_check(statuses: tuple[TaskStatusInfo, ...] | None) -> SetupCheck:
    if statuses is None:
        text = tr("Task statuses could not be read; logged activities can't be marked closed.")
        return SetupCheck(key="task_status", level=CheckLevel.ERROR, text=text)
    names = {s.api_name for s in statuses}
    if not any(s.is_closed for s in statuses):
        text = tr(
            "No Task status counts as closed; ask your admin to mark one (e.g. Completed) closed."
        )
        return SetupCheck(key="task_status", level=CheckLevel.ERROR, text=text)
    missing = [name for name in ("Not Started", "Completed") if name not in names]
    if missing:
        # DESIGN §3: reminder sync maps Open/Complete to Not Started/Completed.
        text = tr(
            "Reminder task sync needs the Task statuses {statuses}.", statuses=", ".join(missing)
        )
        return SetupCheck(key="task_status", level=CheckLevel.WARNING, text=text)
    return SetupCheck(key="task_status", level=CheckLevel.OK, text=tr("Task statuses are set up."))


#: The objects' names as Salesforce shows them to users in their language; an object not
#: listed (OpportunityContactRole) keeps its API name.
_OBJECT_LABELS = {
    "Lead": tr("Lead"),
    "Contact": tr("Contact"),
    "Opportunity": tr("Opportunity"),
    "Account": tr("Account"),
}


def _object_check(access: ObjectAccess) -> SetupCheck:
    key = f"object_{access.name.lower()}"
    label = _OBJECT_LABELS.get(access.name, access.name)
    if access.accessible:
        return SetupCheck(
            key=key,
            level=CheckLevel.OK,
            text=tr("{object} records are readable.", object=label),
        )
    text = tr(
        "This user can't read {object} records ({reason}); activities won't be "
        "logged to them until your admin grants Read on {object}.",
        object=label,
        reason=access.reason,
    )
    return SetupCheck(key=key, level=CheckLevel.WARNING, text=text)
