"""Org discovery for a connection: what the rep's org offers for Tasks, cached on the row.

Run at connect time and whenever an admin asks (the Diagnostics setup check); the logging
engine also rediscovers after a Retry of skipped fields.
"""

from __future__ import annotations

import httpx

from salesync.runtime import Runtime
from salesync.salesforce.discovery import CheckLevel, OrgProfile, discover_org
from salesync.salesforce_access import open_client
from salesync.store import connections as store
from salesync.store.db import unit_of_work


def refresh_org_profile(
    runtime: Runtime, connection_id: int, *, http: httpx.Client | None = None
) -> OrgProfile:
    """Discover the org as the connection's user sees it (one API call) and cache it."""
    with runtime.sessions() as session:
        row = store.by_id(session, connection_id)
        if row is None:
            raise LookupError(f"connection {connection_id} does not exist")
        external_id_field = row.team.external_id_field
        session.expunge(row)
    with open_client(runtime, row, http=http) as client:
        profile = discover_org(client, external_id_field=external_id_field)
    with unit_of_work(runtime.sessions) as session:
        stored = store.by_id(session, connection_id)
        if stored is not None:
            stored.org_profile = profile.model_dump(mode="json")
    return profile


def warnings_of(profile: OrgProfile) -> list[str]:
    """The setup problems a rep should read right after connecting."""
    return [check.text for check in profile.checks if check.level is not CheckLevel.OK]
