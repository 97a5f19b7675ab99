"""Org discovery for a connection: what the rep's org offers for Tasks, cached on the row.

Run at connect time, whenever someone asks (the Diagnostics setup check), by itself when the
cached profile is an hour old, and at once after Salesforce refuses a field (INVALID_FIELD,
INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, field-level security): the logging engine drops
the cached profile then, and the next batch reads the org again (FIELDS-2/3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from salesync.domain.activity_task import TaskConfig, written_task_fields
from salesync.runtime import Runtime
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest, CompositeSubresponse
from salesync.salesforce.discovery import CheckLevel, OrgProfile, discover_org_along
from salesync.salesforce_access import open_client
from salesync.services import sync_settings
from salesync.store import connections as store
from salesync.store.db import unit_of_work
from salesync.store.tables import Team

#: A cached profile older than this is read again from Salesforce before it is used.
PROFILE_MAX_AGE = timedelta(hours=1)
#: Salesforce error codes after which the cached profile is wrong: read the org again.
FIELD_REFUSALS = frozenset(
    {
        "INVALID_FIELD",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    }
)


def task_config_of(team: Team) -> TaskConfig:
    """The team's Task configuration: subject template, attribute field map, External ID."""
    extra: dict[str, Any] = (
        {"attribute_fields": team.attribute_field_map} if team.attribute_field_map else {}
    )
    return TaskConfig(
        template=sync_settings.subject_template_of(team),
        external_id_field=team.external_id_field,
        **extra,
    )


def refresh_org_profile(
    runtime: Runtime, connection_id: int, *, http: httpx.Client | None = None
) -> OrgProfile:
    """Discover the org as the connection's user sees it (one API call) and cache it."""
    with runtime.sessions() as session:
        row = store.by_id(session, connection_id)
        if row is None:
            raise LookupError(f"connection {connection_id} does not exist")
        config = task_config_of(row.team)
        session.expunge(row)
    with open_client(runtime, row, http=http) as client:
        return discover_and_store(runtime, client, connection_id, config)


def discover_and_store(
    runtime: Runtime, client: SalesforceClient, connection_id: int, config: TaskConfig
) -> OrgProfile:
    """Read the org through an open client, with every field logging writes checked."""
    along = discover_along(runtime, client, connection_id, config, ())
    assert along is not None  # discovery alone always fits in one composite call
    return along[0]


def discover_along(
    runtime: Runtime,
    client: SalesforceClient,
    connection_id: int,
    config: TaskConfig,
    subrequests: Sequence[CompositeSubrequest],
) -> tuple[OrgProfile, list[CompositeSubresponse]] | None:
    """Read the org in the same composite call as ``subrequests`` and store the profile:
    one API call for both. Returns the profile and the answers to ``subrequests``.

    A rep's first logging batch of the hour sends its lookups this way, so reading the org
    costs no call of its own. None, with nothing sent, when the two together would break a
    composite call's limits (25 subrequests, 5 queries): the caller then reads the org alone.
    """
    along = discover_org_along(
        client,
        subrequests,
        external_id_field=config.external_id_field,
        written_fields=written_task_fields(config),
        now=runtime.clock.now(),
    )
    if along is not None:
        with unit_of_work(runtime.sessions) as session:
            store.store_org_profile(session, connection_id, along[0].model_dump(mode="json"))
    return along


def fresh_profile(cached: Mapping[str, Any] | None, now: datetime) -> OrgProfile | None:
    """The cached profile while it is less than an hour old; None when it must be read again."""
    if not cached:
        return None
    profile = OrgProfile.model_validate(cached)
    if profile.discovered_at is None or now - profile.discovered_at >= PROFILE_MAX_AGE:
        return None
    return profile


def warnings_of(profile: OrgProfile) -> list[str]:
    """The setup problems a rep should read right after connecting."""
    return [check.text for check in profile.checks if check.level is not CheckLevel.OK]
