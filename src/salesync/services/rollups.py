"""The admin's Most Recent Activity field map, checked against the org before it is saved."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from salesync.domain import engagement_fields
from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.runtime import Runtime
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest
from salesync.salesforce.describe import SObjectDescribe
from salesync.salesforce_access import open_client
from salesync.services import engagement
from salesync.store import connections as connection_store
from salesync.store import engagement as store
from salesync.store.db import unit_of_work
from salesync.store.tables import ConnectionStatus, User

Described = dict[str, dict[str, tuple[str, bool]]]


def describe_rollup_objects(client: SalesforceClient) -> Described:
    """Object -> field -> (type, editable) for the roll-up objects, in one composite call."""
    requests = [
        CompositeSubrequest("GET", f"sobjects/{name}/describe", f"d{name}")
        for name in engagement_fields.ROLLUP_OBJECTS
    ]
    described: Described = {}
    for name, answer in zip(
        engagement_fields.ROLLUP_OBJECTS, client.composite(requests), strict=True
    ):
        if answer.ok:
            sobject = SObjectDescribe.from_json(answer.body)
            described[name] = {f.name: (f.type, f.updateable) for f in sobject.fields}
    return described


def check_against_org(
    runtime: Runtime, admin: User, mapping: Mapping[str, str], *, http: httpx.Client | None = None
) -> dict[str, str]:
    """Problems of ``mapping`` in the org, as the admin's own connection sees it."""
    with runtime.sessions() as session:
        connection = connection_store.for_user(session, admin.id)
        if connection is None or connection.status is not ConnectionStatus.CONNECTED:
            connection = connection_store.team_sync_connection(session, admin.team_id)
        if connection is None or connection.status is not ConnectionStatus.CONNECTED:
            raise InvalidInput(
                tr("connect your Salesforce account first: the fields are checked in your org"),
                field="rollup_fields",
            )
        session.expunge(connection)
    with open_client(runtime, connection, http=http) as client:
        described = describe_rollup_objects(client)
    return engagement_fields.check_rollup_map(mapping, described)


def save_rollup_fields(
    runtime: Runtime,
    admin: User,
    mapping: Mapping[str, str],
    *,
    http: httpx.Client | None = None,
) -> dict[str, str]:
    """Admin: map each roll-up to a field API name; refused unless every object has it.

    An empty name keeps the default. Returns the map in force.
    """
    engagement.require_admin(admin)
    chosen = {
        key: (value.strip() or engagement_fields.DEFAULT_ROLLUP_FIELDS.get(key, ""))
        for key, value in mapping.items()
    }
    full = {**engagement_fields.DEFAULT_ROLLUP_FIELDS, **chosen}
    problems = check_against_org(runtime, admin, full, http=http)
    if problems:
        raise InvalidInput("; ".join(problems.values()), field=next(iter(problems)))
    with unit_of_work(runtime.sessions) as session:
        row = store.settings_of(session, admin.team_id, now=runtime.clock.now())
        row.rollup_fields = {
            key: value
            for key, value in full.items()
            if value != engagement_fields.DEFAULT_ROLLUP_FIELDS.get(key)
        }
        row.updated_at = runtime.clock.now()
    return full
