"""Time windows of reminder task sync: first import, pushable tasks, deletes, poll cursors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from salesync.domain.dates import require_aware

#: TASK-7: on first enable, Salesforce tasks created or modified this long before now.
FIRST_IMPORT_WINDOW = dt.timedelta(hours=24)
#: TASK-8 and API-FACTS §2.8: Salesforce keeps deletes (getDeleted) for 15 days.
DELETE_WINDOW = dt.timedelta(days=15)
#: API-FACTS "Cursor safety": re-read this much before the cursor (late commits, whole minutes).
DEFAULT_OVERLAP = dt.timedelta(minutes=2)
#: API-FACTS §2.8: getUpdated/getDeleted windows shorter than a minute are refused.
MIN_REPLICATION_SPAN = dt.timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class ReplicationWindow:
    """A getUpdated/getDeleted window in whole UTC minutes (API-FACTS §2.8)."""

    start: dt.datetime
    end: dt.datetime


def first_import_since(now: dt.datetime) -> dt.datetime:
    """Start of the first-enable import window (TASK-7)."""
    return require_aware(now, "now") - FIRST_IMPORT_WINDOW


def in_first_import_window(
    created_date: dt.datetime, last_modified_date: dt.datetime, now: dt.datetime
) -> bool:
    """Tell whether a Salesforce task is imported on first enable: created or modified
    within the 24 hours before ``now`` (TASK-7)."""
    since = first_import_since(now)
    newest = max(require_aware(created_date), require_aware(last_modified_date))
    return newest >= since


def may_push_new_task(task_created_at: dt.datetime, sync_enabled_at: dt.datetime) -> bool:
    """Tell whether a salesync task not yet linked to Salesforce may be pushed: only tasks
    created once sync was (last) enabled are; older ones never are (TASK-6)."""
    return require_aware(task_created_at) >= require_aware(sync_enabled_at)


def reenable_delete_start(now: dt.datetime) -> dt.datetime:
    """On re-enabling after a pause, Salesforce deletes since this time apply (TASK-8)."""
    return require_aware(now, "now") - DELETE_WINDOW


def needs_full_reconcile(cursor: dt.datetime | None, earliest_date_available: dt.datetime) -> bool:
    """Tell whether deletes may have been lost: the delete cursor is older than the oldest
    delete Salesforce still reports, or there is none (API-FACTS §2.8). Then every linked
    task id must be checked."""
    if cursor is None:
        return True
    return require_aware(cursor) < require_aware(earliest_date_available)


def query_from(cursor: dt.datetime, overlap: dt.timedelta = DEFAULT_OVERLAP) -> dt.datetime:
    """Poll ``SystemModstamp >= cursor - overlap`` and dedupe (API-FACTS "Cursor safety")."""
    return require_aware(cursor, "cursor") - overlap


def advance_cursor(
    cursor: dt.datetime, seen_modstamps: Iterable[dt.datetime], run_started_at: dt.datetime
) -> dt.datetime:
    """The next poll cursor: the newest SystemModstamp seen, never past the run's start
    (bookmark rule) and never backwards."""
    seen = [require_aware(stamp) for stamp in seen_modstamps]
    if not seen:
        return cursor
    return max(require_aware(cursor), min(max(seen), require_aware(run_started_at)))


def replication_window(
    cursor: dt.datetime, now: dt.datetime, overlap: dt.timedelta = DEFAULT_OVERLAP
) -> ReplicationWindow | None:
    """The getUpdated/getDeleted window from ``cursor - overlap`` to ``now``, cut to whole
    UTC minutes (Salesforce truncates seconds); None when under a minute (API-FACTS §2.8)."""
    start = _floor_minute(query_from(cursor, overlap))
    end = _floor_minute(require_aware(now, "now"))
    if end - start < MIN_REPLICATION_SPAN:
        return None
    return ReplicationWindow(start, end)


def _floor_minute(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC).replace(second=0, microsecond=0)
