"""Pure domain rules of salesync: value types and decisions with no I/O and no clock reads.

Modules (standard library only; every function that needs the time takes ``now``):

- ``categories``: ``ErrorCategory``, how a failure is handled (intermittent, authentication, ...).
- ``ids``: Salesforce 15/18-character ids, checksums, key prefixes.
- ``dates``: time zones, the rep's calendar date, Salesforce date/datetime text.
- ``activity_kinds``: ``ActivityKind`` (email, reply, call) with its Type/TaskSubtype values.
- ``settings``: Sync Settings, team defaults, admin locks, the API/BCC override.
- ``subject_template``: the Activity Detail Customization template (API-6/7).
- ``matching``: which Lead/Contact/Opportunity an activity is logged to, or why not.
- ``org_capabilities``: the org's Task fields, Type picklist and TaskStatus values.
- ``activity_task``: the Task fields of a logged email, reply or call.
- ``reminder_mapping``: reminder task <-> Salesforce Task fields (TASK-2..5).
- ``conflicts``: per-field merge of two-way edits, echo fingerprints.
- ``sync_windows``: first-import window, pushable tasks, delete windows, poll cursors.
- ``retry_policy``: retry, give up, pause or wait for budget after a failure.
- ``budget``: the API budget share and rationing order.
- ``command_center``: due-date filters in the rep's time zone.
- ``error_catalog`` and ``soql``: Salesforce error codes and SOQL building (kept alongside).
"""

from __future__ import annotations
