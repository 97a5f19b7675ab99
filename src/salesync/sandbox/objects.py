"""The standard objects the sandbox serves, with Task as documented in API-FACTS §1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict, Unpack

from salesync.sandbox.ids import KEY_PREFIXES
from salesync.sandbox.schema import ChildRelationship, FieldDef, PicklistValue, SObjectDef


class FieldOptions(TypedDict, total=False):
    """Boolean properties that field builders pass through to FieldDef."""

    createable: bool
    updateable: bool
    nillable: bool
    defaulted_on_create: bool
    required: bool
    name_field: bool
    system: bool
    filterable: bool


class ReadOnlyOptions(TypedDict):
    createable: bool
    updateable: bool


READ_ONLY: ReadOnlyOptions = {"createable": False, "updateable": False}

# API-FACTS §1: TaskSubtype is restricted; `Cadence` exists but can't be set manually.
TASK_SUBTYPES = ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")
CALL_TYPES = ("Inbound", "Internal", "Outbound")
DEFAULT_TASK_TYPES = ("Call", "Email", "Meeting", "Other")
OPPORTUNITY_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
CLOSED_STAGES = {"Closed Won": True, "Closed Lost": False}
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
CONTACT_ROLES = (
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
)


@dataclass(frozen=True)
class CustomFieldSpec:
    """A custom field declared at seed time (text, checkbox or url)."""

    sobject: str
    name: str
    kind: str  # "text" | "checkbox" | "url" | "datetime"
    length: int = 255
    external_id: bool = False
    unique: bool = False
    label: str = ""

    def to_field(self) -> FieldDef:
        if not self.name.endswith("__c"):
            raise ValueError(f"custom field names end in __c: {self.name}")
        if self.kind == "checkbox":
            return FieldDef(
                self.name,
                "boolean",
                self.label,
                nillable=False,
                defaulted_on_create=True,
                custom=True,
            )
        if self.kind == "datetime":
            return FieldDef(self.name, "datetime", self.label, custom=True)
        if self.kind not in ("text", "url"):
            raise ValueError(f"unsupported custom field kind {self.kind!r}")
        return FieldDef(
            self.name,
            "string" if self.kind == "text" else "url",
            self.label,
            length=self.length,
            external_id=self.external_id,
            unique=self.unique,
            custom=True,
        )


def picklist(*values: str, default: str | None = None) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(v, v, default=(v == default)) for v in values)


def ref(
    name: str,
    *targets: str,
    relationship: str | None = None,
    label: str = "",
    **options: Unpack[FieldOptions],
) -> FieldDef:
    return FieldDef(
        name,
        "reference",
        label,
        length=18,
        reference_to=targets,
        relationship_name=relationship or name.removesuffix("Id"),
        **options,
    )


def text(
    name: str, length: int = 255, kind: str = "string", **options: Unpack[FieldOptions]
) -> FieldDef:
    return FieldDef(name, kind, length=length, **options)


def _system_fields() -> list[FieldDef]:
    return [
        FieldDef("IsDeleted", "boolean", "Deleted", nillable=False, system=True, **READ_ONLY),
        FieldDef(
            "CreatedDate", "datetime", "Created Date", nillable=False, system=True, **READ_ONLY
        ),
        ref(
            "CreatedById",
            "User",
            relationship="CreatedBy",
            nillable=False,
            system=True,
            **READ_ONLY,
        ),
        FieldDef("LastModifiedDate", "datetime", nillable=False, system=True, **READ_ONLY),
        ref(
            "LastModifiedById",
            "User",
            relationship="LastModifiedBy",
            nillable=False,
            system=True,
            **READ_ONLY,
        ),
        FieldDef("SystemModstamp", "datetime", nillable=False, system=True, **READ_ONLY),
    ]


def _id_field() -> FieldDef:
    return FieldDef("Id", "id", "Record ID", length=18, nillable=False, system=True, **READ_ONLY)


def _sobject(
    name: str,
    plural: str,
    fields: list[FieldDef],
    children: tuple[ChildRelationship, ...] = (),
    *,
    api_writable: bool = True,
) -> SObjectDef:
    all_fields = [_id_field(), *fields, *_system_fields()]
    return SObjectDef(
        name=name,
        key_prefix=KEY_PREFIXES[name],
        label=name,
        label_plural=plural,
        fields={f.name: f for f in all_fields},
        child_relationships=children,
        createable=api_writable,
        updateable=api_writable,
        deletable=api_writable,
    )


def _name() -> FieldDef:
    """The read-only compound Name of people and users."""
    return text("Name", 121, name_field=True, **READ_ONLY)


def task_object(task_types: tuple[str, ...] = DEFAULT_TASK_TYPES) -> SObjectDef:
    """Task with the fields, lengths and properties of API-FACTS §1."""
    fields = [
        text("Subject", 255, kind="combobox"),
        FieldDef(
            "Status",
            "picklist",
            length=255,
            nillable=False,
            defaulted_on_create=True,
            required=True,
            picklist_source="TaskStatus",
        ),
        FieldDef(
            "IsClosed", "boolean", "Closed", nillable=False, defaulted_on_create=True, **READ_ONLY
        ),
        FieldDef(
            "Priority",
            "picklist",
            length=40,
            nillable=False,
            defaulted_on_create=True,
            required=True,
            picklist_source="TaskPriority",
        ),
        FieldDef("IsHighPriority", "boolean", "High Priority", nillable=False, **READ_ONLY),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        FieldDef("Description", "textarea", length=32000, filterable=False),
        ref("WhoId", "Contact", "Lead", relationship="Who", label="Name ID"),
        ref("WhatId", "Account", "Opportunity", relationship="What", label="Related To ID"),
        ref("AccountId", "Account", **READ_ONLY),
        ref(
            "OwnerId",
            "User",
            relationship="Owner",
            label="Assigned To ID",
            nillable=False,
            defaulted_on_create=True,
        ),
        FieldDef(
            "TaskSubtype",
            "picklist",
            length=40,
            updateable=False,
            picklist=picklist(*TASK_SUBTYPES),
            restricted=True,
        ),
        FieldDef("Type", "picklist", length=40, picklist=picklist(*task_types)),
        FieldDef(
            "CallType", "picklist", length=40, picklist=picklist(*CALL_TYPES), restricted=True
        ),
        FieldDef("CallDurationInSeconds", "int", "Call Duration"),
        text("CallDisposition", 255),
        text("CallObject", 255),
        FieldDef("IsReminderSet", "boolean", nillable=False, defaulted_on_create=True),
        FieldDef("ReminderDateTime", "datetime"),
        FieldDef("CompletedDateTime", "datetime", **READ_ONLY),
        FieldDef(
            "IsRecurrence", "boolean", nillable=False, defaulted_on_create=True, updateable=False
        ),
        FieldDef("IsArchived", "boolean", nillable=False, defaulted_on_create=True, **READ_ONLY),
        FieldDef("IsVisibleInSelfService", "boolean", nillable=False, defaulted_on_create=True),
        FieldDef("WhoCount", "int", **READ_ONLY),
        FieldDef("WhatCount", "int", **READ_ONLY),
    ]
    return _sobject("Task", "Tasks", fields)


def _tasks(field_name: str) -> ChildRelationship:
    return ChildRelationship("Task", field_name, "Tasks")


def standard_objects(task_types: tuple[str, ...] = DEFAULT_TASK_TYPES) -> list[SObjectDef]:
    """Every object of a fresh org, without custom fields."""
    return [
        _user(),
        _organization(),
        _account(),
        _contact(),
        _lead(),
        _opportunity(),
        _opportunity_contact_role(),
        task_object(task_types),
        _task_status(),
        _task_priority(),
    ]


def _user() -> SObjectDef:
    fields = [
        text("Username", 80, **READ_ONLY),
        text("FirstName", 40, **READ_ONLY),
        text("LastName", 80, **READ_ONLY),
        _name(),
        text("Alias", 8, **READ_ONLY),
        text("Email", 128, kind="email", **READ_ONLY),
        FieldDef("IsActive", "boolean", "Active", nillable=False, **READ_ONLY),
        text("TimeZoneSidKey", 40, kind="picklist", **READ_ONLY),
        text("UserType", 40, kind="picklist", **READ_ONLY),
    ]
    return _sobject("User", "Users", fields, api_writable=False)


def _organization() -> SObjectDef:
    fields = [
        _name(),
        text("OrganizationType", 40, kind="picklist", **READ_ONLY),
        FieldDef("IsSandbox", "boolean", nillable=False, **READ_ONLY),
        text("InstanceName", 5, **READ_ONLY),
    ]
    return _sobject("Organization", "Organizations", fields, api_writable=False)


def _account() -> SObjectDef:
    fields = [
        text("Name", 255, required=True, nillable=False, name_field=True),
        text("Website", 255, kind="url"),
        text("Phone", 40, kind="phone"),
        text("Industry", 255, kind="picklist"),
        ref("OwnerId", "User", relationship="Owner", nillable=False, defaulted_on_create=True),
    ]
    children = (
        ChildRelationship("Contact", "AccountId", "Contacts"),
        ChildRelationship("Opportunity", "AccountId", "Opportunities"),
        _tasks("WhatId"),
    )
    return _sobject("Account", "Accounts", fields, children)


def _person_fields() -> list[FieldDef]:
    return [
        text("FirstName", 40),
        text("LastName", 80, required=True, nillable=False),
        _name(),
        text("Email", 80, kind="email"),
        text("Phone", 40, kind="phone"),
        text("Title", 128),
        # Salesforce's standard Email Opt Out checkbox on Lead and Contact.
        FieldDef(
            "HasOptedOutOfEmail",
            "boolean",
            "Email Opt Out",
            nillable=False,
            defaulted_on_create=True,
        ),
        ref("OwnerId", "User", relationship="Owner", nillable=False, defaulted_on_create=True),
    ]


def _contact() -> SObjectDef:
    fields = [*_person_fields(), ref("AccountId", "Account")]
    children = (
        _tasks("WhoId"),
        ChildRelationship("OpportunityContactRole", "ContactId", "OpportunityContactRoles"),
    )
    return _sobject("Contact", "Contacts", fields, children)


def _lead() -> SObjectDef:
    fields = [
        *_person_fields(),
        text("Company", 255, required=True, nillable=False),
        FieldDef(
            "Status",
            "picklist",
            length=255,
            nillable=False,
            defaulted_on_create=True,
            picklist=picklist(*LEAD_STATUSES, default=LEAD_STATUSES[0]),
        ),
        FieldDef("IsConverted", "boolean", "Converted", nillable=False, **READ_ONLY),
        FieldDef("ConvertedDate", "date", **READ_ONLY),
        ref("ConvertedContactId", "Contact", **READ_ONLY),
        ref("ConvertedAccountId", "Account", **READ_ONLY),
        ref("ConvertedOpportunityId", "Opportunity", **READ_ONLY),
    ]
    return _sobject("Lead", "Leads", fields, (_tasks("WhoId"),))


def _opportunity() -> SObjectDef:
    fields = [
        text("Name", 120, required=True, nillable=False, name_field=True),
        ref("AccountId", "Account"),
        FieldDef(
            "StageName",
            "picklist",
            "Stage",
            length=255,
            nillable=False,
            required=True,
            picklist=picklist(*OPPORTUNITY_STAGES),
        ),
        FieldDef("CloseDate", "date", nillable=False, required=True),
        FieldDef("Amount", "currency"),
        FieldDef("IsClosed", "boolean", "Closed", nillable=False, **READ_ONLY),
        FieldDef("IsWon", "boolean", "Won", nillable=False, **READ_ONLY),
        ref("OwnerId", "User", relationship="Owner", nillable=False, defaulted_on_create=True),
    ]
    children = (
        ChildRelationship("OpportunityContactRole", "OpportunityId", "OpportunityContactRoles"),
        _tasks("WhatId"),
    )
    return _sobject("Opportunity", "Opportunities", fields, children)


def _opportunity_contact_role() -> SObjectDef:
    fields = [
        ref("OpportunityId", "Opportunity", nillable=False, required=True, updateable=False),
        ref("ContactId", "Contact", nillable=False, required=True),
        FieldDef("Role", "picklist", length=40, picklist=picklist(*CONTACT_ROLES)),
        FieldDef("IsPrimary", "boolean", "Primary", nillable=False, defaulted_on_create=True),
    ]
    return _sobject("OpportunityContactRole", "Opportunity Contact Roles", fields)


def _task_status() -> SObjectDef:
    fields = [
        text("ApiName", 255, **READ_ONLY),
        text("MasterLabel", 255, **READ_ONLY),
        FieldDef("IsClosed", "boolean", "Closed", nillable=False, **READ_ONLY),
        FieldDef("IsDefault", "boolean", "Default", nillable=False, **READ_ONLY),
        FieldDef("SortOrder", "int", **READ_ONLY),
    ]
    return _sobject("TaskStatus", "Task Status", fields, api_writable=False)


def _task_priority() -> SObjectDef:
    fields = [
        text("ApiName", 255, **READ_ONLY),
        text("MasterLabel", 255, **READ_ONLY),
        FieldDef("IsDefault", "boolean", "Default", nillable=False, **READ_ONLY),
        FieldDef("IsHighPriority", "boolean", "High Priority", nillable=False, **READ_ONLY),
        FieldDef("SortOrder", "int", **READ_ONLY),
    ]
    return _sobject("TaskPriority", "Task Priority", fields, api_writable=False)
