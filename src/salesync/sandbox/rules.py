"""Object write rules: Task derivations (API-FACTS §1 and item 4) and simple derived fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from salesync.sandbox.errors import ApiError
from salesync.sandbox.objects import CLOSED_STAGES
from salesync.sandbox.records import Record, RecordStore


@dataclass(frozen=True)
class WriteContext:
    """What a rule may read while a record is being written."""

    records: RecordStore
    now: datetime
    #: TaskStatus ApiName -> IsClosed, and TaskPriority ApiName -> IsHighPriority.
    closed_statuses: Mapping[str, bool]
    high_priorities: Mapping[str, bool]


Rule = Callable[[WriteContext, Record | None, Record, set[str]], None]


def task_rule(ctx: WriteContext, old: Record | None, new: Record, changed: set[str]) -> None:
    """Derive IsClosed, CompletedDateTime, IsHighPriority, AccountId and Who/What counts."""
    if old is None or "Status" in changed:
        # IsClosed is stored at write time from TaskStatus, so re-classifying a status later
        # leaves existing rows alone (API-FACTS §1 CompletedDateTime).
        closed = bool(ctx.closed_statuses.get(new["Status"], False))
        new["IsClosed"] = closed
        # Insert: set when closed. Update to a new closed status: reset to now; to an open
        # status: NULL; status unchanged: untouched (API-FACTS §1).
        new["CompletedDateTime"] = ctx.now if closed else None
    if old is None or "Priority" in changed:
        new["IsHighPriority"] = bool(ctx.high_priorities.get(new["Priority"], False))
    if old is None or changed & {"WhoId", "WhatId"}:
        _check_who_what(ctx.records, new)
        new["AccountId"] = _derived_account(ctx.records, new)
        new["WhoCount"] = 1 if new.get("WhoId") else 0
        new["WhatCount"] = 1 if new.get("WhatId") else 0


def _check_who_what(records: RecordStore, task: Record) -> None:
    who_id = task.get("WhoId")
    who = records.get(who_id) if who_id else None
    if who is not None and records.sobject_of(who_id or "") == "Lead":
        if who.get("IsConverted"):
            # msia-rules MATCH-10 / 1.13: the documented code and message for a converted lead.
            raise ApiError(
                400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", ["WhoId"]
            )
        if task.get("WhatId"):
            # Task object reference: when WhoId is a lead, WhatId must be empty.
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Related To ID: a task whose Name ID is a lead can't be related to another record",
                ["WhatId"],
            )


def _derived_account(records: RecordStore, task: Record) -> str | None:
    """API-FACTS §1 AccountId: the What's account, else the Contact's account, else null."""
    what_id = task.get("WhatId")
    if what_id:
        what_type = records.sobject_of(what_id)
        if what_type == "Account":
            return str(what_id)
        what = records.get(what_id)
        if what is not None and what.get("AccountId"):
            return str(what["AccountId"])
    who_id = task.get("WhoId")
    if who_id and records.sobject_of(who_id) == "Contact":
        who = records.get(who_id)
        return who.get("AccountId") if who else None
    return None


def person_name_rule(ctx: WriteContext, old: Record | None, new: Record, changed: set[str]) -> None:
    """Name is FirstName + LastName on Contact, Lead and User."""
    new["Name"] = " ".join(part for part in (new.get("FirstName"), new.get("LastName")) if part)


def lead_rule(ctx: WriteContext, old: Record | None, new: Record, changed: set[str]) -> None:
    person_name_rule(ctx, old, new, changed)
    new.setdefault("IsConverted", False)
    if new["IsConverted"] is None:
        new["IsConverted"] = False


def opportunity_rule(ctx: WriteContext, old: Record | None, new: Record, changed: set[str]) -> None:
    """IsClosed / IsWon follow the stage."""
    stage = new.get("StageName")
    new["IsClosed"] = stage in CLOSED_STAGES
    new["IsWon"] = CLOSED_STAGES.get(stage or "", False)


RULES: dict[str, Rule] = {
    "Task": task_rule,
    "Contact": person_name_rule,
    "Lead": lead_rule,
    "User": person_name_rule,
    "Opportunity": opportunity_rule,
}


def rule_for(sobject: str) -> Rule | None:
    return RULES.get(sobject)
