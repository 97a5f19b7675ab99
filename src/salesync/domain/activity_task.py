"""Build the Salesforce Task fields for a logged email, reply or call (DESIGN §3)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from collections.abc import Mapping
from types import MappingProxyType

from salesync.domain import ids
from salesync.domain.activity_kinds import ActivityKind
from salesync.domain.dates import local_date, require_aware, zone
from salesync.domain.matching import LogTarget
from salesync.domain.org_capabilities import OrgCapabilities, TaskFieldInfo
from salesync.domain.subject_template import DEFAULT_TEMPLATE, render_subject, reply_subject

#: Task.Description limit (API-FACTS §1).
DESCRIPTION_MAX_LENGTH = 32000
#: Appended to a cut Description so readers can see text is missing.
TRUNCATION_MARKER = "\n[truncated by salesync]"
#: Default API name of the unique External ID field that makes creates idempotent (DESIGN §3).
DEFAULT_EXTERNAL_ID_FIELD = "Salesync_Activity_Id__c"
#: Used only when the org's TaskStatus values are unknown or none is closed.
FALLBACK_CLOSED_STATUS = "Completed"
#: salesync attribute -> Task custom field, defaulting to the names in spec 1.10 (CALL-5/6).
DEFAULT_ATTRIBUTE_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "call_outcome": "mktosales_call_outcome__c",
        "call_reason": "mktosales_call_reason__c",
        "call_local_presence_id": "MSE_Call_Local_Presence_ID__c",
        "call_recording_url": "MSE_Call_Recording__c",
        "sales_campaign_name": "MSE_Campaign__c",
        "sales_campaign_step": "MSE_Current_Campaign_Step__c",
        "sales_campaign_url": "MSE_Campaign_Details_Link__c",
        "attachment_viewed": "MSE_Presentation_Viewed__c",
        "clicked": "MSE_Clicked__c",
        "replied": "MSE_Replied__c",
        "email_status": "MSE_Email_Status__c",
        "email_template": "MSE_Template__c",
        "email_template_url": "MSE_Template_Details__c",
        "email_url": "MSE_Details__c",
        "viewed": "MSE_Viewed__c",
    }
)


#: Task fields every logged email or call may carry besides the configurable ones.
STANDARD_WRITTEN_FIELDS = (
    "Subject",
    "TaskSubtype",
    "Status",
    "ActivityDate",
    "OwnerId",
    "Description",
    "WhoId",
    "WhatId",
    "Type",
    "CallType",
    "CallDurationInSeconds",
)


@dataclasses.dataclass(frozen=True)
class LoggedActivity:
    """An email, reply or call to be logged as one Task per target."""

    kind: ActivityKind
    #: Email subject; for a call, the reminder task's name if there is one (API-6).
    subject: str | None
    #: When the email was sent or the call made (time-zone aware).
    sent_at: dt.datetime
    body_text: str = ""
    from_address: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    #: salesync's stable id of the activity, written to the External ID field.
    activity_id: str | None = None
    call_duration_seconds: int | None = None
    #: Attribute values by salesync name: template fields (sales_campaign_name, call_outcome,
    #: ...) and keys of the attribute field map.
    attributes: Mapping[str, object] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware(self.sent_at, "sent_at")
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


@dataclasses.dataclass(frozen=True)
class RepContext:
    """The rep who logs: their Salesforce user id and IANA time zone."""

    salesforce_user_id: str
    time_zone: str


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Admin configuration for logged Tasks."""

    template: str = DEFAULT_TEMPLATE
    attribute_fields: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: DEFAULT_ATTRIBUTE_FIELDS
    )
    external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD

    def __post_init__(self) -> None:
        object.__setattr__(self, "attribute_fields", MappingProxyType(dict(self.attribute_fields)))


@dataclasses.dataclass(frozen=True)
class SkippedField:
    """A field salesync wanted to write but left out, and why."""

    name: str
    reason: str


@dataclasses.dataclass(frozen=True)
class TaskDraft:
    """The Task to create: its fields, what was left out, and notes for Diagnostics."""

    fields: Mapping[str, object]
    skipped_fields: tuple[SkippedField, ...] = ()
    notes: tuple[str, ...] = ()
    #: (External ID field, value) when the create can be an idempotent upsert.
    upsert_key: tuple[str, str] | None = None
    #: Names in ``fields`` the rep may also update. An upsert that matches an existing Task
    #: is an update, and Salesforce refuses the whole record if it carries a field that is
    #: createable only, such as TaskSubtype (API-FACTS §1).
    updateable: frozenset[str] = frozenset()

    def request_body(self) -> dict[str, object]:
        """A fresh dict of the fields, ready to send as JSON to create the Task."""
        return dict(self.fields)

    def update_body(self) -> dict[str, object]:
        """The fields an update of the same Task may carry: the updateable ones only."""
        return {name: value for name, value in self.fields.items() if name in self.updateable}

    @property
    def create_only(self) -> frozenset[str]:
        """Fields sent on create that an update must leave out."""
        return frozenset(self.fields) - self.updateable


def written_task_fields(config: TaskConfig) -> tuple[str, ...]:
    """Every Task field logging may write under ``config``: what the setup check inspects."""
    names = [
        *STANDARD_WRITTEN_FIELDS,
        *config.attribute_fields.values(),
        config.external_id_field,
    ]
    return tuple(dict.fromkeys(names))


def build_activity_task(
    activity: LoggedActivity,
    target: LogTarget,
    rep: RepContext,
    capabilities: OrgCapabilities,
    config: TaskConfig = TaskConfig(),
) -> TaskDraft:
    """Build the Task for one activity and one target.

    Every field is checked against the rep's describe: a field that is missing or not
    createable is left out and listed in ``skipped_fields`` (FIELDS-2/3), never sent.
    Raises ValueError for an unknown time zone or a malformed rep user id.
    """
    notes: list[str] = []
    skipped: list[SkippedField] = []
    wanted = _wanted_fields(activity, target, rep, capabilities, config, notes)
    type_refusal = _type_refusal(activity.kind, capabilities)
    if type_refusal is None:
        wanted["Type"] = activity.kind.type_value
    else:
        skipped.append(type_refusal)
    fields: dict[str, object] = {}
    updateable: set[str] = set()
    for name, value in wanted.items():
        info = capabilities.field(name)
        if info is None or not info.createable:
            skipped.append(_not_writable(name, info))
            continue
        fields[info.name] = _fit(info, value, notes)
        if info.updateable:
            updateable.add(info.name)
    upsert_key = _upsert_key(activity, config, fields, notes)
    return TaskDraft(
        MappingProxyType(fields), tuple(skipped), tuple(notes), upsert_key, frozenset(updateable)
    )


def _wanted_fields(
    activity: LoggedActivity,
    target: LogTarget,
    rep: RepContext,
    capabilities: OrgCapabilities,
    config: TaskConfig,
    notes: list[str],
) -> dict[str, object]:
    wanted: dict[str, object] = {
        "Subject": _subject(activity, config.template),
        "TaskSubtype": activity.kind.task_subtype,
        "Status": _closed_status(capabilities, notes),
        # Pitfalls "ActivityDate time zones": the date in the rep's zone, never UTC-shifted.
        "ActivityDate": local_date(activity.sent_at, rep.time_zone).isoformat(),
        "OwnerId": ids.normalize(rep.salesforce_user_id),
        "Description": _description(activity, rep.time_zone),
    }
    if target.who_id is not None:
        wanted["WhoId"] = target.who_id
    if target.what_id is not None:
        wanted["WhatId"] = target.what_id
    if activity.kind is ActivityKind.CALL:
        wanted["CallType"] = "Outbound"
        if activity.call_duration_seconds is not None:
            wanted["CallDurationInSeconds"] = activity.call_duration_seconds
    wanted.update(_attribute_fields(activity, config))
    if activity.activity_id:
        wanted[config.external_id_field] = activity.activity_id
    return wanted


def _subject(activity: LoggedActivity, template: str) -> str:
    if activity.kind is ActivityKind.REPLY:
        return reply_subject(activity.subject)  # API-7: replies ignore the template
    values = {key: _text(value) for key, value in activity.attributes.items()}
    values["activity_type"] = activity.kind.activity_type
    values["activity_subject"] = activity.subject
    rendered = render_subject(template, values)
    # A template whose fields are all empty would give a blank Subject; the type says more.
    return rendered or activity.kind.activity_type


def _closed_status(capabilities: OrgCapabilities, notes: list[str]) -> str:
    status = capabilities.first_closed_status()
    if status is None:
        notes.append(
            f"No closed TaskStatus value is known; Status set to {FALLBACK_CLOSED_STATUS}."
        )
        return FALLBACK_CLOSED_STATUS
    return status


def _description(activity: LoggedActivity, time_zone: str) -> str:
    sent_local = activity.sent_at.astimezone(zone(time_zone))
    headers = [
        ("From", activity.from_address or ""),
        ("To", ", ".join(activity.to)),
        ("Cc", ", ".join(activity.cc)),
        ("Date", email.utils.format_datetime(sent_local)),
    ]
    lines = [f"{name}: {value}" for name, value in headers if value]
    return "\n".join(lines) + "\n\n" + activity.body_text


def _attribute_fields(activity: LoggedActivity, config: TaskConfig) -> dict[str, object]:
    return {
        config.attribute_fields[key]: value
        for key, value in activity.attributes.items()
        if key in config.attribute_fields and value is not None and value != ""
    }


def _not_writable(name: str, info: TaskFieldInfo | None) -> SkippedField:
    if info is None:
        reason = "The field does not exist on Task or is hidden from the rep (FIELDS-2/3)."
        return SkippedField(name, reason)
    return SkippedField(name, "Field-level security does not let the rep write it (FIELDS-3).")


def _type_refusal(kind: ActivityKind, capabilities: OrgCapabilities) -> SkippedField | None:
    """API-5: set Type only when the exact value exists and the picklist has no default."""
    picklist = capabilities.type_picklist
    value = kind.type_value
    if picklist.default_value is not None:
        reason = (
            f"The Task Type picklist has a default value ({picklist.default_value}); "
            f"Type is set only when no default is selected (API-5)."
        )
        return SkippedField("Type", reason)
    if value not in picklist.values:
        reason = (
            f"'{value}' is not a value of the Task Type picklist (capitalization matters, API-5)."
        )
        return SkippedField("Type", reason)
    return None


def _fit(info: TaskFieldInfo, value: object, notes: list[str]) -> object:
    if not isinstance(value, str):
        return value
    is_description = info.name.lower() == "description"
    limit = info.length
    if is_description:
        limit = min(limit or DESCRIPTION_MAX_LENGTH, DESCRIPTION_MAX_LENGTH)
    if limit is None or len(value) <= limit:
        return value
    notes.append(f"{info.name} was cut from {len(value)} to {limit} characters.")
    return cut_description(value, limit) if is_description else value[:limit]


def cut_description(text: str, limit: int = DESCRIPTION_MAX_LENGTH) -> str:
    """Cut ``text`` to ``limit`` characters, ending with a visible marker when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER


def _upsert_key(
    activity: LoggedActivity, config: TaskConfig, fields: Mapping[str, object], notes: list[str]
) -> tuple[str, str] | None:
    if not activity.activity_id:
        return None
    written = next(
        (name for name in fields if name.lower() == config.external_id_field.lower()), None
    )
    if written is None:
        notes.append(
            f"No writable External ID field {config.external_id_field}: a retry must first "
            "search for a Task it may already have created."
        )
        return None
    return (written, activity.activity_id)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
