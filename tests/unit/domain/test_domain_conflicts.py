"""Per-field merge, tie rule and echo suppression for reminder sync (DESIGN §3)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.conflicts import (
    FieldAction,
    MergeDecision,
    Side,
    decide_merge,
    fingerprint,
    is_echo,
)
from salesync.domain.reminder_mapping import (
    LocalReminder,
    MappingError,
    ReminderPriority,
    ReminderStatus,
)

BASE = LocalReminder(
    name="Call Pat",
    status=ReminderStatus.OPEN,
    priority=ReminderPriority.NORMAL,
    due_date=dt.date(2024, 3, 1),
    details="notes",
)
T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
REMOTE_EDIT = "2024-03-01T12:00:00.000+0000"


def remote(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "Id": "00T5g00000TSK01AAA",
        "Subject": "Call: Call Pat",
        "Status": "Not Started",
        "Priority": "Normal",
        "ActivityDate": "2024-03-01",
        "Description": "notes",
        "LastModifiedDate": REMOTE_EDIT,
        "SystemModstamp": REMOTE_EDIT,
    }
    record.update(changes)
    return record


def merge(
    local: LocalReminder = BASE,
    record: dict[str, object] | None = None,
    edited_at: dict[str, dt.datetime] | None = None,
    last_fingerprint: str | None = "not-this",
) -> MergeDecision:
    decision = decide_merge(BASE, local, edited_at or {}, record or remote(), last_fingerprint)
    assert isinstance(decision, MergeDecision)
    return decision


def test_nothing_changed_means_nothing_to_do() -> None:
    decision = merge()
    assert decision.fields_with(FieldAction.NONE) == (
        "name",
        "status",
        "priority",
        "due_date",
        "details",
    )
    assert decision.conflicts == () and decision.merged == BASE


def test_local_edit_is_pushed() -> None:
    local = dataclasses.replace(BASE, status=ReminderStatus.COMPLETE, name="Call Pat today")
    decision = merge(local)
    assert decision.fields_with(FieldAction.PUSH) == ("name", "status")
    assert decision.merged == local


def test_remote_edit_is_pulled() -> None:
    decision = merge(record=remote(Status="Completed", ActivityDate="2024-03-04", Description=None))
    assert decision.fields_with(FieldAction.PULL) == ("status", "due_date", "details")
    assert decision.merged == dataclasses.replace(
        BASE, status=ReminderStatus.COMPLETE, due_date=dt.date(2024, 3, 4), details=None
    )


@pytest.mark.parametrize(
    "record",
    [
        remote(Subject="Renamed in Salesforce"),  # TASK-5: subject edits never come back
        remote(Status="In Progress"),  # TASK-3
        remote(Priority="Low"),  # TASK-4
    ],
)
def test_unsynced_remote_changes_are_ignored(record: dict[str, object]) -> None:
    decision = merge(record=record)
    assert decision.fields_with(FieldAction.PULL) == ()
    assert decision.merged == BASE


@pytest.mark.parametrize(
    ("local_time", "winner", "action"),
    [
        (T0 + dt.timedelta(seconds=1), Side.SALESYNC, FieldAction.PUSH),
        (T0, Side.SALESFORCE, FieldAction.PULL),  # ties go to Salesforce
        (T0 - dt.timedelta(seconds=1), Side.SALESFORCE, FieldAction.PULL),
        (None, Side.SALESFORCE, FieldAction.PULL),
    ],
)
def test_both_sides_changed_later_edit_wins(
    local_time: dt.datetime | None, winner: Side, action: FieldAction
) -> None:
    local = dataclasses.replace(BASE, details="salesync notes")
    edited_at = {"details": local_time} if local_time else {}
    decision = merge(local, remote(Description="salesforce notes"), edited_at)
    [conflict] = decision.conflicts
    assert (conflict.field, conflict.local_value, conflict.remote_value) == (
        "details",
        "salesync notes",
        "salesforce notes",
    )
    assert conflict.winner is winner and conflict.reason
    assert decision.fields_with(action) == ("details",)
    expected = "salesync notes" if winner is Side.SALESYNC else "salesforce notes"
    assert decision.merged.details == expected


def test_same_change_on_both_sides_is_not_a_conflict() -> None:
    local = dataclasses.replace(BASE, status=ReminderStatus.COMPLETE)
    decision = merge(local, remote(Status="Completed"))
    assert decision.conflicts == () and decision.fields_with(FieldAction.NONE)[1] == "status"


def test_fields_merge_independently() -> None:
    local = dataclasses.replace(BASE, priority=ReminderPriority.HIGH)
    decision = merge(local, remote(ActivityDate="2024-05-05"))
    assert decision.fields_with(FieldAction.PUSH) == ("priority",)
    assert decision.fields_with(FieldAction.PULL) == ("due_date",)
    assert decision.merged == dataclasses.replace(
        BASE, priority=ReminderPriority.HIGH, due_date=dt.date(2024, 5, 5)
    )


def test_our_own_echo_is_not_read_back_as_an_edit() -> None:
    written = remote(Status="Completed")
    local = dataclasses.replace(BASE, details="newer local notes")
    decision = merge(local, written, last_fingerprint=fingerprint(written))
    assert decision.is_echo
    assert decision.fields_with(FieldAction.PULL) == ()
    assert decision.fields_with(FieldAction.PUSH) == ("details",)


def test_automation_that_only_moves_systemmodstamp_is_an_echo() -> None:
    seen = remote()
    later = remote(
        SystemModstamp="2024-03-02T08:00:00.000+0000",
        LastModifiedDate="2024-03-02T08:00:00.000+0000",
    )
    assert is_echo(later, fingerprint(seen))


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (remote(), remote(Id="other", OwnerId="x"), True),
        (
            remote(ActivityDate="2024-03-01"),
            remote(ActivityDate="2024-03-01T00:00:00.000+0000"),
            True,
        ),
        (remote(Description=""), remote(Description=None), True),
        (remote(), remote(Status="Completed"), False),
        (remote(), remote(Subject="Other"), False),
        (remote(Description="a"), remote(Description="A"), False),
    ],
)
def test_fingerprint_covers_only_synced_fields(
    first: dict[str, object], second: dict[str, object], same: bool
) -> None:
    assert (fingerprint(first) == fingerprint(second)) is same


def test_no_stored_fingerprint_is_never_an_echo() -> None:
    assert not is_echo(remote(), None)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (remote(ActivityDate="garbage"), "ActivityDate"),
        (remote(LastModifiedDate=None), "LastModifiedDate"),
        (remote(LastModifiedDate="yesterday"), "LastModifiedDate"),
    ],
)
def test_unmappable_remote_gives_a_mapping_error(record: dict[str, object], field: str) -> None:
    result = decide_merge(BASE, BASE, {}, record, None)
    assert isinstance(result, MappingError) and result.field == field


statuses = st.sampled_from(["Not Started", "Completed", "In Progress"])
local_reminders = st.builds(
    LocalReminder,
    name=st.sampled_from(["Call Pat", "Other"]),
    status=st.sampled_from(list(ReminderStatus)),
    priority=st.sampled_from(list(ReminderPriority)),
    due_date=st.sampled_from([None, dt.date(2024, 3, 1), dt.date(2024, 3, 2)]),
    details=st.sampled_from([None, "notes", "more"]),
)


@given(local_reminders, statuses, st.sampled_from(["Normal", "High", "Low"]), st.integers(-5, 5))
def test_merge_result_always_takes_each_field_from_one_side(
    local: LocalReminder, sf_status: str, sf_priority: str, offset: int
) -> None:
    record = remote(Status=sf_status, Priority=sf_priority)
    edited = {name: T0 + dt.timedelta(seconds=offset) for name in ("status", "priority")}
    decision = decide_merge(BASE, local, edited, record, None)
    assert isinstance(decision, MergeDecision)
    assert decision.merged.name == local.name
    for outcome in decision.outcomes:
        merged_value = getattr(decision.merged, outcome.field)
        if outcome.action is FieldAction.PUSH:
            assert merged_value == getattr(local, outcome.field)
    for conflict in decision.conflicts:
        assert (conflict.winner is Side.SALESYNC) is (offset > 0)
