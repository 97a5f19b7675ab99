"""Reminder task <-> Salesforce Task mapping (TASK-2..5, TASK-11, API-5)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain import ids
from salesync.domain.activity_task import DESCRIPTION_MAX_LENGTH, TRUNCATION_MARKER
from salesync.domain.reminder_mapping import (
    LocalReminder,
    MappingError,
    PulledFields,
    ReminderPriority,
    ReminderStatus,
    apply_pull,
    import_reminder,
    is_importable,
    pull_fields,
    push_create_fields,
    push_update_fields,
)
from salesync.domain.subject_template import DEFAULT_TEMPLATE

USER = ids.to_18("0055g00000USR01")
OTHER_USER = ids.to_18("0055g00000USR02")
CONTACT = ids.to_18("0035g00000CON01")
NO_SUBJECT_TEMPLATE = "[SIA] {{activity_type}}"
REMINDER = LocalReminder(
    name="Call Pat back",
    status=ReminderStatus.COMPLETE,
    priority=ReminderPriority.HIGH,
    due_date=dt.date(2024, 3, 1),
    details="Ask about pricing",
    task_type="Call",
)


def test_create_fields() -> None:
    fields = push_create_fields(REMINDER, DEFAULT_TEMPLATE, USER[:15], who_id=CONTACT)
    assert dict(fields) == {
        "Subject": "Call: Call Pat back",
        "TaskSubtype": "Task",
        "OwnerId": USER,
        "Status": "Completed",
        "Priority": "High",
        "ActivityDate": "2024-03-01",
        "Description": "Ask about pricing",
        "WhoId": CONTACT,
    }
    assert "Type" not in fields  # API-5: never on reminders


def test_create_uses_the_template_even_without_activity_subject() -> None:
    fields = push_create_fields(REMINDER, NO_SUBJECT_TEMPLATE, USER)
    assert fields["Subject"] == "[SIA] Call"


def test_create_falls_back_to_the_name_when_the_template_renders_blank() -> None:
    fields = push_create_fields(REMINDER, "{{call_reason}}", USER)
    assert fields["Subject"] == "Call Pat back"


def test_create_leaves_out_empty_optional_fields() -> None:
    fields = push_create_fields(LocalReminder(name="Plain"), DEFAULT_TEMPLATE, USER)
    assert set(fields) == {"Subject", "TaskSubtype", "OwnerId", "Status", "Priority"}
    assert (fields["Status"], fields["Priority"]) == ("Not Started", "Normal")


def test_create_cuts_long_details() -> None:
    reminder = LocalReminder(name="x", details="d" * 33000)
    description = push_create_fields(reminder, DEFAULT_TEMPLATE, USER)["Description"]
    assert isinstance(description, str)
    assert len(description) == DESCRIPTION_MAX_LENGTH and description.endswith(TRUNCATION_MARKER)


@pytest.mark.parametrize(
    ("changed", "template", "expected"),
    [
        ({"status"}, DEFAULT_TEMPLATE, {"Status": "Completed"}),
        (
            {"priority", "due_date"},
            DEFAULT_TEMPLATE,
            {"Priority": "High", "ActivityDate": "2024-03-01"},
        ),
        ({"name"}, DEFAULT_TEMPLATE, {"Subject": "Call: Call Pat back"}),
        ({"name"}, NO_SUBJECT_TEMPLATE, {}),  # TASK-5
        ({"details"}, DEFAULT_TEMPLATE, {"Description": "Ask about pricing"}),
        (set(), DEFAULT_TEMPLATE, {}),
    ],
)
def test_update_sends_only_changed_fields(
    changed: set[str], template: str, expected: dict[str, object]
) -> None:
    assert dict(push_update_fields(REMINDER, changed, template)) == expected


def test_update_clears_with_null() -> None:
    cleared = LocalReminder(name="x", due_date=None, details=None)
    fields = push_update_fields(cleared, {"due_date", "details"}, DEFAULT_TEMPLATE)
    assert dict(fields) == {"ActivityDate": None, "Description": None}


def test_update_refuses_fields_that_do_not_sync() -> None:
    with pytest.raises(ValueError):
        push_update_fields(REMINDER, {"task_type"}, DEFAULT_TEMPLATE)


@pytest.mark.parametrize(
    ("sf_status", "expected"),
    [
        ("Not Started", ReminderStatus.OPEN),
        ("Completed", ReminderStatus.COMPLETE),
        ("In Progress", None),
        ("Deferred", None),
        ("completed", None),
        (None, None),
    ],
)
def test_pulled_status(sf_status: str | None, expected: ReminderStatus | None) -> None:
    pulled = pull_fields({"Status": sf_status})
    assert isinstance(pulled, PulledFields) and pulled.status == expected


@pytest.mark.parametrize(
    ("sf_priority", "expected"),
    [
        ("High", ReminderPriority.HIGH),
        ("Normal", ReminderPriority.NORMAL),
        ("Low", None),
        ("Urgent", None),
    ],
)
def test_pulled_priority(sf_priority: str, expected: ReminderPriority | None) -> None:
    pulled = pull_fields({"Priority": sf_priority})
    assert isinstance(pulled, PulledFields) and pulled.priority == expected


@pytest.mark.parametrize(
    ("activity_date", "expected"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2019-09-26T16:30:00.000+0000", dt.date(2019, 9, 26)),
        (None, None),
    ],
)
def test_pulled_due_date(activity_date: str | None, expected: dt.date | None) -> None:
    pulled = pull_fields({"ActivityDate": activity_date})
    assert isinstance(pulled, PulledFields) and pulled.due_date == expected


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"ActivityDate": "next tuesday"}, "ActivityDate"),
        ({"ActivityDate": "2024-02-30"}, "ActivityDate"),
        ({"ActivityDate": "2024-02-01 10:00"}, "ActivityDate"),
        ({"ActivityDate": 20240201}, "ActivityDate"),
        ({"Subject": 12}, "Subject"),
        ({"Status": ["Completed"]}, "Status"),
        ({"Description": {"x": 1}}, "Description"),
    ],
)
def test_unmappable_values_give_a_mapping_error(record: dict[str, object], field: str) -> None:
    result = pull_fields({"Subject": "ok", "Status": "Completed", **record})
    assert isinstance(result, MappingError)
    assert result.field == field and result.reason


def test_import_takes_the_subject_as_name_and_defaults_unsynced_values() -> None:
    record = {
        "Subject": " Renewal call ",
        "Status": "In Progress",
        "Priority": "Low",
        "ActivityDate": "2024-03-05",
        "Description": "",
    }
    assert import_reminder(record) == LocalReminder(
        name="Renewal call",
        status=ReminderStatus.OPEN,
        priority=ReminderPriority.NORMAL,
        due_date=dt.date(2024, 3, 5),
        details=None,
    )


def test_import_of_garbage_is_a_mapping_error_not_a_reminder() -> None:
    assert isinstance(import_reminder({"Subject": "x", "ActivityDate": "soon"}), MappingError)


def test_apply_pull_keeps_name_and_unsynced_values() -> None:
    pulled = pull_fields(
        {"Subject": "Renamed in Salesforce", "Status": "Waiting on someone else", "Priority": "Low",
         "ActivityDate": "2024-04-01", "Description": "New notes"}
    )  # fmt: skip
    assert isinstance(pulled, PulledFields)
    assert apply_pull(REMINDER, pulled) == LocalReminder(
        name="Call Pat back",
        status=ReminderStatus.COMPLETE,
        priority=ReminderPriority.HIGH,
        due_date=dt.date(2024, 4, 1),
        details="New notes",
        task_type="Call",
    )


def test_apply_pull_takes_synced_status_and_priority() -> None:
    pulled = pull_fields({"Status": "Not Started", "Priority": "Normal"})
    assert isinstance(pulled, PulledFields)
    result = apply_pull(REMINDER, pulled)
    assert (result.status, result.priority, result.due_date) == (
        ReminderStatus.OPEN,
        ReminderPriority.NORMAL,
        None,
    )


@pytest.mark.parametrize(
    ("record", "importable"),
    [
        ({"OwnerId": USER, "TaskSubtype": "Task"}, True),
        ({"OwnerId": USER[:15], "TaskSubtype": None}, True),
        ({"OwnerId": USER.lower()}, True),
        ({"OwnerId": OTHER_USER, "TaskSubtype": "Task"}, False),
        ({"OwnerId": USER, "TaskSubtype": "Email"}, False),
        ({"OwnerId": USER, "TaskSubtype": "Call"}, False),
        ({"OwnerId": USER, "TaskSubtype": "Task", "IsRecurrence": True}, False),
        ({"OwnerId": USER, "TaskSubtype": "Task", "IsRecurrence": False}, True),
        ({"OwnerId": USER, "TaskSubtype": "Task", "IsDeleted": True}, False),
        ({"TaskSubtype": "Task"}, False),
    ],
)
def test_is_importable(record: dict[str, object], importable: bool) -> None:
    assert is_importable(record, USER) is importable


reminders = st.builds(
    LocalReminder,
    name=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=80,
    ),
    status=st.sampled_from(list(ReminderStatus)),
    priority=st.sampled_from(list(ReminderPriority)),
    due_date=st.none() | st.dates(),
    details=st.none() | st.text(min_size=1, max_size=200),
)


@given(reminders)
def test_push_then_pull_round_trips(reminder: LocalReminder) -> None:
    pushed = push_create_fields(reminder, "{{activity_subject}}", USER)
    imported = import_reminder(pushed)
    assert isinstance(imported, LocalReminder)
    assert imported.status == reminder.status
    assert imported.priority == reminder.priority
    assert imported.due_date == reminder.due_date
    assert imported.details == reminder.details
