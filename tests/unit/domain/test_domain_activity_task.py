"""Logged email/reply/call Task fields (DESIGN §3, API-5/6/7, FIELDS-2/3)."""

from __future__ import annotations

import datetime as dt

import pytest

from salesync.domain import ids
from salesync.domain.activity_kinds import ActivityKind
from salesync.domain.activity_task import (
    DESCRIPTION_MAX_LENGTH,
    FALLBACK_CLOSED_STATUS,
    TRUNCATION_MARKER,
    LoggedActivity,
    RepContext,
    TaskConfig,
    build_activity_task,
)
from salesync.domain.matching import LogTarget
from salesync.domain.org_capabilities import (
    OrgCapabilities,
    PicklistInfo,
    TaskFieldInfo,
    TaskStatusValue,
)

REP_ID = ids.to_18("0055g00000REP01")
CONTACT = ids.to_18("0035g00000CON01")
OPP = ids.to_18("0065g00000OPP01")
REP = RepContext(REP_ID, "America/Los_Angeles")
STANDARD = (
    "Subject", "TaskSubtype", "Status", "ActivityDate", "OwnerId", "WhoId", "WhatId",
    "Type", "CallType", "CallDurationInSeconds", "Salesync_Activity_Id__c",
    "mktosales_call_outcome__c", "mktosales_call_reason__c", "MSE_Campaign__c",
)  # fmt: skip
STATUSES = (
    TaskStatusValue("Not Started", False, 1),
    TaskStatusValue("Done", True, 3),
    TaskStatusValue("Completed", True, 4),
    TaskStatusValue("In Progress", False, 2),
)
TYPES = PicklistInfo(("Call", "Email", "Reply", "Meeting"))


def capabilities(
    *, fields: tuple[TaskFieldInfo, ...] | None = None, types: PicklistInfo = TYPES
) -> OrgCapabilities:
    with_lengths = {"Description": 32000, "mktosales_call_outcome__c": 50}
    default_fields = (
        *(TaskFieldInfo(name, length=with_lengths.get(name)) for name in STANDARD),
        TaskFieldInfo("Description", length=32000),
    )
    return OrgCapabilities(fields if fields is not None else default_fields, types, STATUSES)


# 18:30 on 1 March in Los Angeles is already 2 March in UTC.
SENT = dt.datetime(2024, 3, 2, 2, 30, tzinfo=dt.UTC)


def email(kind: ActivityKind = ActivityKind.EMAIL, **overrides: object) -> LoggedActivity:
    values: dict[str, object] = {
        "kind": kind,
        "subject": "Pricing for Q3",
        "sent_at": SENT,
        "body_text": "Hi Pat,\nhere is the pricing.",
        "from_address": "rep@seller.example",
        "to": ("pat@buyer.example", "sam@buyer.example"),
        "cc": ("boss@seller.example",),
        "activity_id": "act-123",
    }
    values.update(overrides)
    return LoggedActivity(**values)  # type: ignore[arg-type]


def test_logged_email_fields() -> None:
    draft = build_activity_task(email(), LogTarget(CONTACT, OPP, "r"), REP, capabilities())
    assert draft.fields["Subject"] == "Email: Pricing for Q3"
    assert draft.fields["TaskSubtype"] == "Email"
    assert draft.fields["Status"] == "Done"  # first closed value in sort order
    assert draft.fields["ActivityDate"] == "2024-03-01"  # the rep's date, not UTC's
    assert draft.fields["OwnerId"] == REP_ID
    assert (draft.fields["WhoId"], draft.fields["WhatId"]) == (CONTACT, OPP)
    assert draft.fields["Type"] == "Email"
    assert draft.fields["Salesync_Activity_Id__c"] == "act-123"
    assert draft.upsert_key == ("Salesync_Activity_Id__c", "act-123")
    assert "CallType" not in draft.fields
    assert draft.skipped_fields == ()


def test_description_has_header_lines_then_the_body() -> None:
    draft = build_activity_task(email(), LogTarget(CONTACT, None, "r"), REP, capabilities())
    assert draft.fields["Description"] == (
        "From: rep@seller.example\n"
        "To: pat@buyer.example, sam@buyer.example\n"
        "Cc: boss@seller.example\n"
        "Date: Fri, 01 Mar 2024 18:30:00 -0800\n"
        "\n"
        "Hi Pat,\nhere is the pricing."
    )


def test_description_leaves_out_empty_headers() -> None:
    activity = email(cc=(), from_address=None)
    description = build_activity_task(
        activity, LogTarget(CONTACT, None, "r"), REP, capabilities()
    ).fields["Description"]
    assert isinstance(description, str)
    assert description.startswith("To: pat@buyer.example, sam@buyer.example\nDate: ")
    assert "Cc:" not in description and "From:" not in description


def test_long_body_is_cut_to_32000_with_a_visible_marker() -> None:
    draft = build_activity_task(
        email(body_text="z" * 40000), LogTarget(CONTACT, None, "r"), REP, capabilities()
    )
    description = draft.fields["Description"]
    assert isinstance(description, str)
    assert len(description) == DESCRIPTION_MAX_LENGTH
    assert description.endswith(TRUNCATION_MARKER)
    assert any("Description was cut" in note for note in draft.notes)


def description_of(activity: LoggedActivity) -> str:
    fields = build_activity_task(
        activity, LogTarget(CONTACT, None, "r"), REP, capabilities()
    ).fields
    description = fields["Description"]
    assert isinstance(description, str)
    return description


def test_body_exactly_at_the_limit_is_not_cut() -> None:
    header_length = len(description_of(email(body_text="")))
    body = "q" * (DESCRIPTION_MAX_LENGTH - header_length)
    description = description_of(email(body_text=body))
    assert len(description) == DESCRIPTION_MAX_LENGTH
    assert description.endswith(body)
    assert len(description_of(email(body_text=body + "q"))) == DESCRIPTION_MAX_LENGTH
    assert description_of(email(body_text=body + "q")).endswith(TRUNCATION_MARKER)


def test_reply_uses_reply_subject_and_type() -> None:
    config = TaskConfig(template="[SIA] {{activity_type}}")
    draft = build_activity_task(
        email(ActivityKind.REPLY), LogTarget(CONTACT, None, "r"), REP, capabilities(), config
    )
    assert draft.fields["Subject"] == "Reply: Pricing for Q3"
    assert draft.fields["Type"] == "Reply"
    assert draft.fields["TaskSubtype"] == "Email"


def test_logged_call_fields_and_attributes() -> None:
    call = email(
        ActivityKind.CALL,
        subject="Follow up",
        call_duration_seconds=125,
        attributes={"call_outcome": "Left voicemail", "call_reason": "Renewal", "unmapped": "x"},
    )
    config = TaskConfig(template="{{activity_type}}: {{call_outcome}} ({{call_reason}})")
    draft = build_activity_task(call, LogTarget(CONTACT, None, "r"), REP, capabilities(), config)
    assert draft.fields["Subject"] == "Call: Left voicemail (Renewal)"
    assert draft.fields["TaskSubtype"] == "Call"
    assert draft.fields["Type"] == "Call"
    assert draft.fields["CallType"] == "Outbound"
    assert draft.fields["CallDurationInSeconds"] == 125
    assert draft.fields["mktosales_call_outcome__c"] == "Left voicemail"
    assert draft.fields["mktosales_call_reason__c"] == "Renewal"
    assert "unmapped" not in draft.fields


def test_attribute_longer_than_its_field_is_cut() -> None:
    call = email(ActivityKind.CALL, attributes={"call_outcome": "o" * 80})
    draft = build_activity_task(call, LogTarget(CONTACT, None, "r"), REP, capabilities())
    assert draft.fields["mktosales_call_outcome__c"] == "o" * 50
    assert any("mktosales_call_outcome__c was cut" in note for note in draft.notes)


def test_attribute_map_is_configurable() -> None:
    call = email(ActivityKind.CALL, attributes={"call_outcome": "Connected"})
    config = TaskConfig(attribute_fields={"call_outcome": "mktosales_call_result__c"})
    fields = (*capabilities().task_fields, TaskFieldInfo("mktosales_call_result__c"))
    draft = build_activity_task(
        call, LogTarget(CONTACT, None, "r"), REP, capabilities(fields=fields), config
    )
    assert draft.fields["mktosales_call_result__c"] == "Connected"
    assert "mktosales_call_outcome__c" not in draft.fields


@pytest.mark.parametrize(
    ("types", "kind", "reason_part"),
    [
        (
            PicklistInfo(("Call", "Email", "Reply"), default_value="Call"),
            ActivityKind.EMAIL,
            "default value",
        ),
        (PicklistInfo(("Call", "Email")), ActivityKind.REPLY, "'Reply' is not a value"),
        (PicklistInfo(("call", "email", "reply")), ActivityKind.EMAIL, "capitalization matters"),
        (PicklistInfo(()), ActivityKind.CALL, "'Call' is not a value"),
    ],
)
def test_type_is_left_out_with_a_reason(
    types: PicklistInfo, kind: ActivityKind, reason_part: str
) -> None:
    draft = build_activity_task(
        email(kind), LogTarget(CONTACT, None, "r"), REP, capabilities(types=types)
    )
    assert "Type" not in draft.fields
    [skipped] = [s for s in draft.skipped_fields if s.name == "Type"]
    assert reason_part in skipped.reason


def test_missing_and_read_only_fields_are_skipped_not_sent() -> None:
    fields = tuple(
        TaskFieldInfo(name, createable=name != "mktosales_call_reason__c")
        for name in STANDARD
        if name != "mktosales_call_outcome__c"
    )
    call = email(ActivityKind.CALL, attributes={"call_outcome": "Connected", "call_reason": "Demo"})
    draft = build_activity_task(
        call, LogTarget(CONTACT, None, "r"), REP, capabilities(fields=fields)
    )
    assert "mktosales_call_outcome__c" not in draft.fields
    assert "mktosales_call_reason__c" not in draft.fields
    reasons = {s.name: s.reason for s in draft.skipped_fields}
    assert "does not exist" in reasons["mktosales_call_outcome__c"]
    assert "Field-level security" in reasons["mktosales_call_reason__c"]
    assert "does not exist" in reasons["Description"]


def test_without_external_id_field_a_note_says_how_retries_work() -> None:
    fields = tuple(TaskFieldInfo(name) for name in STANDARD if name != "Salesync_Activity_Id__c")
    draft = build_activity_task(
        email(), LogTarget(CONTACT, None, "r"), REP, capabilities(fields=fields)
    )
    assert draft.upsert_key is None
    assert any("External ID" in note for note in draft.notes)


def test_external_id_field_name_is_configurable_and_case_insensitive() -> None:
    fields = (*capabilities().task_fields, TaskFieldInfo("acme__activity_key__c"))
    config = TaskConfig(external_id_field="ACME__Activity_Key__c")
    draft = build_activity_task(
        email(), LogTarget(CONTACT, None, "r"), REP, capabilities(fields=fields), config
    )
    assert draft.upsert_key == ("acme__activity_key__c", "act-123")


def test_no_activity_id_means_no_upsert_key_and_no_note() -> None:
    draft = build_activity_task(
        email(activity_id=None), LogTarget(CONTACT, None, "r"), REP, capabilities()
    )
    assert (
        draft.upsert_key is None
        and "Salesync_Activity_Id__c" not in draft.fields
        and draft.notes == ()
    )


def test_unassigned_target_sends_no_who_or_what() -> None:
    draft = build_activity_task(email(), LogTarget(None, None, "r"), REP, capabilities())
    assert "WhoId" not in draft.fields and "WhatId" not in draft.fields


def test_unknown_statuses_fall_back_with_a_note() -> None:
    caps = OrgCapabilities(capabilities().task_fields, TYPES, (TaskStatusValue("Open", False),))
    draft = build_activity_task(email(), LogTarget(CONTACT, None, "r"), REP, caps)
    assert draft.fields["Status"] == FALLBACK_CLOSED_STATUS
    assert any("No closed TaskStatus" in note for note in draft.notes)


def test_template_that_renders_blank_falls_back_to_the_activity_type() -> None:
    config = TaskConfig(template="{{call_reason}}")
    draft = build_activity_task(email(), LogTarget(CONTACT, None, "r"), REP, capabilities(), config)
    assert draft.fields["Subject"] == "Email"


@pytest.mark.parametrize(
    ("time_zone", "date"),
    [
        ("America/Los_Angeles", "2024-03-01"),
        ("UTC", "2024-03-02"),
        ("Pacific/Kiritimati", "2024-03-02"),
    ],
)
def test_activity_date_is_the_send_date_in_the_reps_zone(time_zone: str, date: str) -> None:
    draft = build_activity_task(
        email(), LogTarget(CONTACT, None, "r"), RepContext(REP_ID, time_zone), capabilities()
    )
    assert draft.fields["ActivityDate"] == date


def test_naive_send_time_and_bad_rep_are_refused() -> None:
    with pytest.raises(ValueError):
        email(sent_at=dt.datetime(2024, 3, 1, 12))
    with pytest.raises(ValueError):
        build_activity_task(
            email(), LogTarget(CONTACT, None, "r"), RepContext("nope", "UTC"), capabilities()
        )
    with pytest.raises(ValueError):
        build_activity_task(
            email(), LogTarget(CONTACT, None, "r"), RepContext(REP_ID, "Mars/Base"), capabilities()
        )


def test_draft_fields_are_read_only_but_request_body_is_a_fresh_dict() -> None:
    draft = build_activity_task(email(), LogTarget(CONTACT, None, "r"), REP, capabilities())
    with pytest.raises(TypeError):
        draft.fields["Subject"] = "changed"  # type: ignore[index]
    body = draft.request_body()
    body["Subject"] = "changed"
    assert draft.fields["Subject"] == "Email: Pricing for Q3"


def test_update_body_holds_only_the_fields_the_rep_may_update() -> None:
    """An upsert that matches an existing Task is an update: create-only fields stay out."""
    fields = tuple(
        TaskFieldInfo(
            name,
            updateable=name not in ("TaskSubtype", "CallType"),
            length=32000 if name == "Description" else None,
        )
        for name in (*STANDARD, "Description")
    )
    call = email(ActivityKind.CALL, call_duration_seconds=30)
    draft = build_activity_task(
        call, LogTarget(CONTACT, None, "r"), REP, capabilities(fields=fields)
    )
    assert draft.create_only == {"TaskSubtype", "CallType"}
    assert draft.request_body()["TaskSubtype"] == "Call"
    update = draft.update_body()
    assert "TaskSubtype" not in update and "CallType" not in update
    assert set(update) == set(draft.fields) - {"TaskSubtype", "CallType"}
    assert update["Salesync_Activity_Id__c"] == "act-123"


def test_a_field_that_is_updateable_but_not_createable_is_in_neither_body() -> None:
    fields = tuple(
        TaskFieldInfo(name, createable=name != "WhatId") for name in (*STANDARD, "Description")
    )
    draft = build_activity_task(
        email(), LogTarget(CONTACT, OPP, "r"), REP, capabilities(fields=fields)
    )
    assert "WhatId" not in draft.request_body()
    assert "WhatId" not in draft.update_body()
    assert draft.create_only == frozenset()
