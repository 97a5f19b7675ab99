"""What a rep's Salesforce org offers for Tasks: fields, Type picklist, TaskStatus values."""

from __future__ import annotations

import dataclasses
import functools


@dataclasses.dataclass(frozen=True)
class TaskFieldInfo:
    """One Task field as describe shows it to the rep (field-level security applied)."""

    name: str
    createable: bool = True
    updateable: bool = True
    #: Maximum length of a text field; None when not a text field or unknown.
    length: int | None = None


@dataclasses.dataclass(frozen=True)
class PicklistInfo:
    """Active values of a picklist and its default value, if one is selected."""

    values: tuple[str, ...] = ()
    default_value: str | None = None


@dataclasses.dataclass(frozen=True)
class TaskStatusValue:
    """A TaskStatus row: its API name, whether it closes the task, and its sort order."""

    api_name: str
    is_closed: bool
    sort_order: int = 0


@dataclasses.dataclass(frozen=True)
class OrgCapabilities:
    """The Task setup of one org as seen by one rep (describe + TaskStatus query)."""

    task_fields: tuple[TaskFieldInfo, ...] = ()
    type_picklist: PicklistInfo = PicklistInfo()
    task_statuses: tuple[TaskStatusValue, ...] = ()

    def field(self, name: str) -> TaskFieldInfo | None:
        """The visible Task field called ``name`` (API names are case-insensitive)."""
        return self._fields_by_name.get(name.lower())

    @functools.cached_property
    def _fields_by_name(self) -> dict[str, TaskFieldInfo]:
        # Asked about ten times for every Task built: a scan of every field each time was a
        # tenth of a worker's CPU. The first field of a name wins, as the scan did.
        by_name: dict[str, TaskFieldInfo] = {}
        for info in self.task_fields:
            by_name.setdefault(info.name.lower(), info)
        return by_name

    def first_closed_status(self) -> str | None:
        """The first closed TaskStatus in sort order (API-FACTS §4: never hard-code one)."""
        return self._first_closed_status

    @functools.cached_property
    def _first_closed_status(self) -> str | None:
        # Asked for every Task built; the statuses never change within one capabilities value.
        ordered = sorted(self.task_statuses, key=lambda status: status.sort_order)
        return next((status.api_name for status in ordered if status.is_closed), None)
