"""Update fields of an email's logged Task after the fact: replied (REPLY-6), email status.

Items are batched per rep: every Task to change goes in sObject Collections updates of 200
(one API call per 200 Tasks), never one call per reply or bounce. The fields are the team's
attribute field map (spec 1.10 names by default, ``MSE_Replied__c`` and
``MSE_Email_Status__c``); a field the org lacks or the rep may not edit is left out and
reported once (FIELDS-2/3). An email whose Task is not created yet waits for it; an email that
is not being logged has nothing to update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.domain import error_catalog
from salesync.domain.activity_task import DEFAULT_ATTRIBUTE_FIELDS
from salesync.domain.wording import tr
from salesync.runtime import Runtime
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.discovery import OrgProfile, discover_org
from salesync.salesforce.errors import RefreshTokenRevoked, SalesforceError
from salesync.salesforce_access import open_client
from salesync.services import connections as connection_service
from salesync.services.activities import LOG_EMAIL
from salesync.services.mailbox_ingest import UPDATE_EMAIL_TASK
from salesync.store import connections as connection_store
from salesync.store import diagnostics, outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionStatus,
    OutboxItem,
    OutboxStatus,
    SalesforceConnection,
    SalesforceLink,
    User,
)
from salesync.sync.failures import settle_failure

#: How long an update waits for the email's Task to be created before looking again.
WAIT_FOR_TASK = timedelta(seconds=60)


class EmailTaskUpdateHandler:
    """The outbox handler for ``update_email_task`` items."""

    kinds: tuple[str, ...] = (UPDATE_EMAIL_TASK,)
    max_batch = 1000

    def __init__(self, runtime: Runtime, *, http: httpx.Client | None = None) -> None:
        self.runtime = runtime
        self._http = http

    def process(self, items: Sequence[OutboxItem]) -> None:
        by_user: dict[int | None, list[int]] = defaultdict(list)
        for item in items:
            by_user[item.user_id].append(item.id)
        for user_id, ids in by_user.items():
            self._process_rep(user_id, ids)

    def _process_rep(self, user_id: int | None, item_ids: list[int]) -> None:
        plan = self._plan(user_id, item_ids)
        if plan is None:
            return
        connection, field_map, updates = plan
        try:
            with open_client(self.runtime, connection, http=self._http) as client:
                profile = self._profile(connection, client)
                records, skipped = _records(updates, field_map, profile)
                results = client.update_many("Task", records) if records else []
        except RefreshTokenRevoked as exc:
            connection_service.mark_broken(self.runtime, connection.id, exc.message)
            return
        except SalesforceError as exc:
            self._settle_all(item_ids, exc)
            return
        self._settle(connection, updates, records, results, skipped)

    def _plan(
        self, user_id: int | None, item_ids: list[int]
    ) -> (
        tuple[SalesforceConnection, dict[str, str], dict[str, list[tuple[int, dict[str, object]]]]]
        | None
    ):
        """Per Task id, the items and attribute values to write; waits and no-ops settled."""
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            items = outbox.items_by_id(session, item_ids)
            user = session.get(User, user_id) if user_id is not None else None
            connection = connection_store.for_user(session, user_id) if user_id else None
            if (
                user is None
                or connection is None
                or connection.status is not ConnectionStatus.CONNECTED
            ):
                for item in items.values():
                    outbox.reschedule(
                        item, now=now, at=now + WAIT_FOR_TASK, code="NOT_CONNECTED",
                        message=tr("Waiting for a Salesforce connection."),
                    )  # fmt: skip
                return None
            field_map = dict(DEFAULT_ATTRIBUTE_FIELDS)
            field_map.update(user.team.attribute_field_map or {})
            updates: dict[str, list[tuple[int, dict[str, object]]]] = defaultdict(list)
            for item in items.values():
                links = _task_links(session, item.subject_id, connection.org_id)
                if links:
                    for link in links:
                        updates[link.sf_id].append((item.id, dict(item.payload["attributes"])))
                elif _still_logging(session, item.subject_id):
                    outbox.reschedule(
                        item, now=now, at=now + WAIT_FOR_TASK, code="WAITING_FOR_TASK",
                        message=tr("Waiting for the email's Task to be created in Salesforce."),
                    )  # fmt: skip
                else:
                    outbox.mark_done(item, now=now)  # the email is not logged: nothing to update
            session.expunge(connection)
            return (connection, field_map, updates) if updates else None

    def _profile(self, connection: SalesforceConnection, client: SalesforceClient) -> OrgProfile:
        if connection.org_profile:
            return OrgProfile.model_validate(connection.org_profile)
        with self.runtime.sessions() as session:
            team_field = connection_store.by_id(session, connection.id)
            external = team_field.team.external_id_field if team_field else ""
        return discover_org(client, external_id_field=external)

    def _settle(
        self,
        connection: SalesforceConnection,
        updates: dict[str, list[tuple[int, dict[str, object]]]],
        records: list[dict[str, object]],
        results: Sequence[object],
        skipped: dict[str, str],
    ) -> None:
        now = self.runtime.clock.now()
        outcome_by_task = {
            str(record["Id"]): result for record, result in zip(records, results, strict=True)
        }
        with unit_of_work(self.runtime.sessions) as session:
            if skipped:
                diagnostics.record(
                    session,
                    team_id=connection.team_id,
                    user_id=connection.user_id,
                    item_type="connection",
                    item_id=connection.id,
                    code="TASK_FIELDS_SKIPPED",
                    category="setup",
                    message=tr(
                        "Some Task fields were left out: {fields}",
                        fields=", ".join(sorted(skipped)),
                    ),
                    now=now,
                    detail={"fields": skipped},
                )
            items = outbox.items_by_id(
                session, [i for entries in updates.values() for i, _ in entries]
            )
            for task_id, entries in updates.items():
                result = outcome_by_task.get(task_id)
                for item_id, _ in entries:
                    item = items[item_id]
                    if item.status is not OutboxStatus.IN_FLIGHT:
                        continue
                    error = getattr(result, "real_error", None)
                    if result is None or getattr(result, "ok", False):
                        outbox.mark_done(item, now=now)
                    else:
                        code = error.code if error else "UNKNOWN_EXCEPTION"
                        message = error.message if error else "Salesforce did not update the Task."
                        settle_failure(
                            session, item, code=code, category=error_catalog.classify(code, 400),
                            message=message, now=now,
                        )  # fmt: skip

    def _settle_all(self, item_ids: list[int], exc: SalesforceError) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            for item in outbox.items_by_id(session, item_ids).values():
                if item.status is OutboxStatus.IN_FLIGHT:
                    settle_failure(
                        session, item, code=exc.error_code, category=exc.category,
                        message=exc.message, now=now,
                    )  # fmt: skip


def _task_links(session: Session, email_id: int, org_id: str) -> list[SalesforceLink]:
    return list(
        session.scalars(
            select(SalesforceLink).where(
                SalesforceLink.local_type == "email",
                SalesforceLink.local_id == email_id,
                SalesforceLink.org_id == org_id,
                SalesforceLink.deleted_at.is_(None),
            )
        )
    )


def _still_logging(session: Session, email_id: int) -> bool:
    """True while a logging item of the email may still create its Task."""
    waiting = session.scalar(
        select(OutboxItem.id)
        .where(
            OutboxItem.kind == LOG_EMAIL,
            OutboxItem.subject_id == email_id,
            OutboxItem.status.in_(
                [
                    OutboxStatus.PENDING,
                    OutboxStatus.IN_FLIGHT,
                    OutboxStatus.PAUSED,
                    OutboxStatus.FAILED,
                ]
            ),
        )
        .limit(1)
    )
    return waiting is not None


def _records(
    updates: dict[str, list[tuple[int, dict[str, object]]]],
    field_map: dict[str, str],
    profile: OrgProfile,
) -> tuple[list[dict[str, object]], dict[str, str]]:
    """One update record per Task, with only the fields the rep may edit."""
    editable = {name.lower(): f.name for name, f in profile.task_fields.items() if f.updateable}
    records: list[dict[str, object]] = []
    skipped: dict[str, str] = {}
    for task_id, entries in updates.items():
        fields: dict[str, object] = {}
        for _, attributes in entries:
            for key, value in attributes.items():
                name = field_map.get(key)
                if name is None:
                    continue
                actual = editable.get(name.lower())
                if actual is None:
                    skipped[name] = "The field does not exist on Task or the rep may not edit it."
                    continue
                fields[actual] = value
        if fields:
            records.append({"Id": task_id, **fields})
    return records, skipped
