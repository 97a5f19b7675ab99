"""Opt-outs to and from Salesforce (UNSUB-2/3).

Push: each new opt-out sets the team's opt-out field (``HasOptedOutOfEmail`` unless the admin
chose another) on the person's Contact and Lead at once, whatever the rep's logging settings.
Pull: once a day at the team's time (default 20:00 America/Los_Angeles) the opt-outs set in
Salesforce on the team's people are read in as opt-outs. A re-subscribe (the field unticked in
Salesforce, or an opt-out removed in salesync) is never synced either way (UNSUB-3).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.domain import error_catalog, ids, opt_out_schedule, soql
from salesync.domain.wording import tr
from salesync.runtime import Runtime
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest
from salesync.salesforce.errors import RefreshTokenRevoked, SalesforceError
from salesync.salesforce.results import CollectionItemResult
from salesync.salesforce_access import open_client
from salesync.services import connections as connection_service
from salesync.services import unsubscribes
from salesync.store import connections as connection_store
from salesync.store import diagnostics, outbox
from salesync.store import engagement as engagement_store
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionStatus,
    EngagementSettings,
    OptOut,
    OutboxItem,
    OutboxStatus,
    Person,
    SalesforceConnection,
    Team,
)
from salesync.sync.failures import settle_failure

log = logging.getLogger(__name__)

COLLECTION_SIZE = 200
#: Diagnostics code naming the people whose Salesforce opt-outs cannot be pulled.
PULL_WITHOUT_IDS = unsubscribes.NO_SALESFORCE_ID
CONVERTED_LEAD = "CANNOT_UPDATE_CONVERTED_LEAD"
#: Addresses listed by name on that Diagnostics entry.
LISTED_ADDRESSES = 20


def _code(outcome: CollectionItemResult | SalesforceError) -> str:
    if isinstance(outcome, SalesforceError):
        return outcome.error_code
    detail = outcome.real_error
    return detail.code if detail else ""


class OptOutPushHandler:
    """The outbox handler for ``opt_out_push`` items."""

    kinds: tuple[str, ...] = (unsubscribes.OPT_OUT_PUSH,)
    max_batch = 1000

    def __init__(self, runtime: Runtime, *, http: httpx.Client | None = None) -> None:
        self.runtime = runtime
        self._http = http

    def process(self, items: Sequence[OutboxItem]) -> None:
        by_team: dict[int, list[int]] = defaultdict(list)
        for item in items:
            by_team[item.team_id].append(item.id)
        for team_id, item_ids in by_team.items():
            self._push(team_id, item_ids)

    def _push(self, team_id: int, item_ids: list[int]) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            items = outbox.items_by_id(session, item_ids)
            connection = _connection_for(session, team_id, [i.user_id for i in items.values()])
            if connection is None:
                for item in items.values():
                    outbox.reschedule(item, now=now, at=now, code="NOT_CONNECTED", message=None)
                    item.status = OutboxStatus.PAUSED
                return
            field = engagement_store.settings_of(session, team_id, now=now).opt_out_field
            records: list[tuple[int, str, str]] = []  # (item id, sObject, record id)
            for item in items.values():
                row = session.get(OptOut, item.subject_id)
                person = session.get(Person, row.person_id) if row and row.person_id else None
                for sobject, value in _person_records(person):
                    records.append((item.id, sobject, value))
                if not _person_records(person):
                    outbox.mark_done(item, now=now)
            session.expunge(connection)
        if not records:
            return
        try:
            with open_client(self.runtime, connection, http=self._http) as client:
                outcomes = _update_flags(client, [(s, r) for _, s, r in records], field)
        except RefreshTokenRevoked as exc:
            connection_service.mark_broken(self.runtime, connection.id, exc.message)
            return
        except SalesforceError as exc:
            outcomes = [exc] * len(records)
        self._settle(records, outcomes)

    def _settle(
        self,
        records: list[tuple[int, str, str]],
        outcomes: Sequence[CollectionItemResult | SalesforceError],
    ) -> None:
        now = self.runtime.clock.now()
        failures: dict[int, tuple[str, str, CollectionItemResult | SalesforceError]] = {}
        contact_done: set[int] = set()
        for (item_id, sobject, record_id), outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, CollectionItemResult) and outcome.ok:
                contact_done |= {item_id} if sobject == "Contact" else set()
            else:
                failures.setdefault(item_id, (sobject, record_id, outcome))
        for item_id in contact_done:
            # A converted Lead cannot be updated, but the Contact it became has the opt-out.
            if item_id in failures and _code(failures[item_id][2]) == CONVERTED_LEAD:
                del failures[item_id]
        with unit_of_work(self.runtime.sessions) as session:
            items = outbox.items_by_id(session, sorted({r[0] for r in records}))
            for item_id, item in items.items():
                if item_id not in failures:
                    outbox.mark_done(item, now=now)
                    continue
                sobject, record_id, outcome = failures[item_id]
                if isinstance(outcome, SalesforceError):
                    code, category, message = outcome.error_code, outcome.category, outcome.message
                else:
                    detail = outcome.real_error
                    code = detail.code if detail else "UNKNOWN_EXCEPTION"
                    message = detail.message if detail else "Salesforce did not save the opt-out"
                    category = error_catalog.classify(code, 400)
                settle_failure(
                    session,
                    item,
                    code=code,
                    category=category,
                    message=tr(
                        "The opt-out did not reach {sobject} {record_id}: {message}",
                        sobject=sobject,
                        record_id=record_id,
                        message=message,
                    ),
                    now=now,
                    detail={"sobject": sobject, "record_id": record_id},
                )


class OptOutPullJob:
    """The daily pull of opt-outs set in Salesforce, for every team when its time comes."""

    name = "opt_out_pull"
    interval_seconds = 60.0

    def __init__(self, runtime: Runtime, *, http: httpx.Client | None = None) -> None:
        self.runtime = runtime
        self._http = http

    def run_once(self) -> None:
        with self.runtime.sessions() as session:
            team_ids = list(session.scalars(select(Team.id).order_by(Team.id)))
        for team_id in team_ids:
            self.pull_team(team_id)

    def pull_team(self, team_id: int) -> int:
        """Pull the team's opt-outs if its daily time has come; returns how many were new."""
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            settings = engagement_store.settings_of(session, team_id, now=now)
            locked = session.get(EngagementSettings, team_id, with_for_update=True)
            assert locked is not None
            due = opt_out_schedule.pull_due(
                now, locked.opt_out_pulled_at, locked.opt_out_pull_time, locked.opt_out_pull_zone
            )
            connection = _connection_for(session, team_id, [])
            if not due or connection is None:
                return 0
            # Claimed by this worker: another one seeing it later finds it done for today.
            locked.opt_out_pulled_at = now
            field = settings.opt_out_field
            people = list(
                session.scalars(
                    select(Person).where(Person.team_id == team_id, Person.email.is_not(None))
                )
            )
            already = engagement_store.opted_out(session, team_id, [p.email or "" for p in people])
            waiting = [p for p in people if (p.email or "").lower() not in already]
            _report_people_without_ids(session, team_id, waiting, now=now)
            by_record = {
                ids.normalize(value): person
                for person in waiting
                for _, value in _person_records(person)
            }
            session.expunge(connection)
        if not by_record:
            return 0
        try:
            with open_client(self.runtime, connection, http=self._http) as client:
                opted = _opted_out_ids(client, field, sorted(by_record))
        except RefreshTokenRevoked as exc:
            connection_service.mark_broken(self.runtime, connection.id, exc.message)
            return 0
        except SalesforceError as exc:
            log.warning("opt-out pull failed", extra={"action": "opt_out_pull_failed"})
            self._report_failure(team_id, exc)
            return 0
        return self._record(team_id, [by_record[i] for i in opted if i in by_record])

    def _record(self, team_id: int, people: list[Person]) -> int:
        now = self.runtime.clock.now()
        added = 0
        with unit_of_work(self.runtime.sessions) as session:
            for person in {p.id: p for p in people}.values():
                row = unsubscribes.opt_out(
                    session,
                    team_id=team_id,
                    address=person.email or "",
                    person=session.get(Person, person.id),
                    source="salesforce",
                    now=now,
                    user_id=None,
                )
                added += row.created_at == now
        return added

    def _report_failure(self, team_id: int, exc: SalesforceError) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            row = session.get(EngagementSettings, team_id)
            if row is not None:
                row.opt_out_pulled_at = None  # try again on the next round
            diagnostics.record(
                session,
                team_id=team_id,
                user_id=None,
                item_type="opt_out_pull",
                item_id=team_id,
                code=exc.error_code or "UNKNOWN_EXCEPTION",
                category=exc.category.value,
                message=tr(
                    "The daily pull of opt-outs from Salesforce failed: {reason}",
                    reason=exc.message,
                ),
                now=now,
            )


def _connection_for(
    session: Session, team_id: int, user_ids: Sequence[int | None]
) -> SalesforceConnection | None:
    """The rep's own connection, else the team's sync connection, else any connected rep's."""
    for user_id in user_ids:
        if user_id is not None:
            own = connection_store.for_user(session, user_id)
            if own is not None and own.status is ConnectionStatus.CONNECTED:
                return own
    team = connection_store.team_sync_connection(session, team_id)
    if team is not None and team.status is ConnectionStatus.CONNECTED:
        return team
    connected = connection_store.connected_for_team(session, team_id)
    return connected[0] if connected else None


def _person_records(person: Person | None) -> list[tuple[str, str]]:
    if person is None:
        return []
    records = []
    for sobject, value in (("Contact", person.sf_contact_id), ("Lead", person.sf_lead_id)):
        if value and ids.is_valid_id(value):
            records.append((sobject, ids.normalize(value)))
    return records


def _update_flags(
    client: SalesforceClient, records: list[tuple[str, str]], field: str
) -> list[CollectionItemResult | SalesforceError]:
    """Tick ``field`` on every record: collections of one type, up to 5 per composite call."""
    order = sorted(range(len(records)), key=lambda i: records[i][0])
    results: dict[int, CollectionItemResult | SalesforceError] = {}
    groups: list[list[int]] = []
    for sobject in ("Contact", "Lead"):
        of_type = [i for i in order if records[i][0] == sobject]
        groups += [
            of_type[n : n + COLLECTION_SIZE] for n in range(0, len(of_type), COLLECTION_SIZE)
        ]
    for start in range(0, len(groups), 5):
        batch = groups[start : start + 5]
        requests = [
            CompositeSubrequest(
                "PATCH",
                "composite/sobjects",
                f"optout{n}",
                {
                    "allOrNone": False,
                    "records": [
                        {"attributes": {"type": records[i][0]}, "Id": records[i][1], field: True}
                        for i in group
                    ],
                },
            )
            for n, group in enumerate(batch)
        ]
        for group, answer in zip(batch, client.composite(requests), strict=True):
            error = answer.error()
            body = answer.body if isinstance(answer.body, list) else []
            for position, index in enumerate(group):
                if error is None and position < len(body):
                    results[index] = CollectionItemResult.from_json(body[position])
                else:
                    results[index] = error or SalesforceError("no result", error_code="UNKNOWN")
    return [results[i] for i in range(len(records))]


def _opted_out_ids(client: SalesforceClient, field: str, record_ids: Sequence[str]) -> list[str]:
    """Ids among ``record_ids`` whose opt-out field is ticked in Salesforce."""
    found: list[str] = []
    for sobject, prefix in (("Contact", "003"), ("Lead", "00Q")):
        of_type = [i for i in record_ids if i.startswith(prefix)]
        template = "SELECT Id FROM {sobject:literal} WHERE {field:literal} = true AND Id IN {}"
        for statement in soql.chunk_in_clause(
            template, of_type, max_uri_chars=16_000, sobject=sobject, field=field
        ):
            found += [ids.normalize(str(row["Id"])) for row in client.query(statement)]
    return found


def _report_people_without_ids(
    session: Session, team_id: int, people: Sequence[Person], *, now: datetime
) -> None:
    """UNSUB-1: opt-outs of people without a Salesforce ID cannot be pulled; say who."""
    missing = [p for p in people if not _person_records(p)]
    if not missing:
        diagnostics.resolve_items(session, "opt_out_pull", [team_id], now=now)
        return
    named = ", ".join(p.email or "" for p in missing[:LISTED_ADDRESSES])
    extra = len(missing) - LISTED_ADDRESSES
    if extra > 0:
        message = tr(
            "{count} people have no Salesforce Lead or Contact ID, so opt-outs set in "
            "Salesforce cannot be pulled for them: {named} and {extra} more.",
            count=len(missing),
            named=named,
            extra=extra,
        )
    else:
        message = tr(
            "{count} people have no Salesforce Lead or Contact ID, so opt-outs set in "
            "Salesforce cannot be pulled for them: {named}.",
            count=len(missing),
            named=named,
        )
    diagnostics.record(
        session,
        team_id=team_id,
        user_id=None,
        item_type="opt_out_pull",
        item_id=team_id,
        code=PULL_WITHOUT_IDS,
        category="unmatched",
        message=message,
        now=now,
        detail={"people": [p.id for p in missing]},
    )
