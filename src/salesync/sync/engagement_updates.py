"""Writes engagement to Salesforce: the email Task's fields and the Most Recent Activity roll-ups.

Per rep and batch of queued ``engagement_update`` items (one per email, however many opens and
clicks it had): at most one composite call reads what it needs (the describes of the roll-up
objects and which Leads were converted), then every changed Task and roll-up record goes out
through sObject Collections, 200 records per collection and 5 collections per composite call.
So engagement on 1,000 emails costs 2 or 3 calls (docs/engagement.md). A value already written
is never written again (a hash per Task and per email's roll-ups is kept).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.domain import engagement_fields, error_catalog, ids, soql
from salesync.domain.activity_task import DEFAULT_ATTRIBUTE_FIELDS
from salesync.domain.categories import ErrorCategory
from salesync.domain.engagement_fields import EngagementState
from salesync.domain.settings import ROLLUP_SWITCHES, SyncSettings
from salesync.domain.wording import tr
from salesync.runtime import Runtime
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest
from salesync.salesforce.describe import SObjectDescribe
from salesync.salesforce.discovery import OrgProfile, discover_org
from salesync.salesforce.errors import RefreshTokenRevoked, SalesforceError
from salesync.salesforce.results import CollectionItemResult
from salesync.salesforce_access import open_client
from salesync.services import connections as connection_service
from salesync.services import engagement, sync_settings
from salesync.store import connections as connection_store
from salesync.store import diagnostics, outbox
from salesync.store import engagement as engagement_store
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionStatus,
    OutboxItem,
    OutboxStatus,
    Person,
    SalesforceConnection,
    SalesforceLink,
    SentEmail,
    User,
)
from salesync.sync.failures import settle_failure

log = logging.getLogger(__name__)

COLLECTION_SIZE = 200
COLLECTIONS_PER_COMPOSITE = 5
#: An email whose Task is not logged yet is looked at again after this.
WAIT_FOR_TASK = timedelta(seconds=30)
#: Diagnostics code for engagement or roll-up fields left out.
FIELDS_SKIPPED = "ENGAGEMENT_FIELDS_SKIPPED"
_LOG_KINDS = ("log_email",)


@dataclasses.dataclass
class _Email:
    """One queued email: its state and the records its engagement goes to."""

    item_id: int
    email_id: int
    state: EngagementState
    written: dict[str, Any]
    #: Task ids of the email (one per recipient and target).
    task_ids: list[str]
    #: Records the email was about, by object: Lead, Contact, Account, Opportunity ids.
    records: dict[str, set[str]]
    #: The Task is not logged yet but will be.
    waiting: bool = False


@dataclasses.dataclass
class _Batch:
    user: User
    connection: SalesforceConnection
    settings: SyncSettings
    task_map: dict[str, str]
    rollup_map: dict[str, str]
    emails: list[_Email]


@dataclasses.dataclass(frozen=True)
class _Write:
    """One record to update, and which emails' hashes it settles."""

    sobject: str
    record_id: str
    fields: dict[str, object]
    #: (email_id, written key, hash) pairs saved when the write succeeds.
    settles: tuple[tuple[int, str, str], ...]
    #: The outbox items this write belongs to.
    item_ids: tuple[int, ...]


class EngagementUpdateHandler:
    """The outbox handler for ``engagement_update`` items."""

    kinds: tuple[str, ...] = (engagement.ENGAGEMENT_UPDATE,)
    max_batch = 1000

    def __init__(self, runtime: Runtime, *, http: httpx.Client | None = None) -> None:
        self.runtime = runtime
        self._http = http

    def process(self, items: Sequence[OutboxItem]) -> None:
        by_user: dict[int | None, list[int]] = defaultdict(list)
        for item in items:
            by_user[item.user_id].append(item.id)
        for user_id, item_ids in by_user.items():
            self._process_rep(user_id, item_ids)

    def _process_rep(self, user_id: int | None, item_ids: list[int]) -> None:
        batch = self._load(user_id, item_ids)
        if batch is None:
            return
        ready = [e for e in batch.emails if not e.waiting]
        if not ready:
            return
        try:
            with open_client(self.runtime, batch.connection, http=self._http) as client:
                self._write(batch, ready, client)
        except RefreshTokenRevoked as exc:
            connection_service.mark_broken(self.runtime, batch.connection.id, exc.message)
        except SalesforceError as exc:
            self._fail_items([e.item_id for e in ready], exc.error_code, exc.category, exc.message)

    # --- reading ---------------------------------------------------------------------------

    def _load(self, user_id: int | None, item_ids: list[int]) -> _Batch | None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            items = outbox.items_by_id(session, item_ids)
            user = session.get(User, user_id) if user_id is not None else None
            connection = connection_store.for_user(session, user.id) if user else None
            if user is None or connection is None:
                for item in items.values():
                    outbox.mark_done(item, now=now)  # nobody to write as: nothing to update
                return None
            if connection.status is not ConnectionStatus.CONNECTED:
                for item in items.values():
                    outbox.reschedule(item, now=now, at=now, code="NOT_CONNECTED", message=None)
                    item.status = OutboxStatus.PAUSED
                return None
            settings = sync_settings.effective_for(session, user).settings
            team = user.team
            options = engagement.options_of(engagement_store.settings_of(session, team.id, now=now))
            emails = self._emails(session, items, now)
            session.expunge(user)
            session.expunge(connection)
            return _Batch(
                user,
                connection,
                settings,
                {**DEFAULT_ATTRIBUTE_FIELDS, **team.attribute_field_map},
                options.rollup_fields,
                emails,
            )

    def _emails(
        self, session: Session, items: Mapping[int, OutboxItem], now: datetime
    ) -> list[_Email]:
        email_ids = [item.subject_id for item in items.values()]
        rows = engagement_store.engagement_of(session, email_ids)
        emails = {
            e.id: e for e in session.scalars(select(SentEmail).where(SentEmail.id.in_(email_ids)))
        }
        links: dict[int, list[SalesforceLink]] = defaultdict(list)
        for link in session.scalars(
            select(SalesforceLink).where(
                SalesforceLink.local_type == "email",
                SalesforceLink.local_id.in_(email_ids),
                SalesforceLink.deleted_at.is_(None),
            )
        ):
            links[link.local_id].append(link)
        logging_open = set(
            session.scalars(
                select(OutboxItem.subject_id).where(
                    OutboxItem.kind.in_(_LOG_KINDS),
                    OutboxItem.subject_id.in_(email_ids),
                    # A failed logging item waits on Diagnostics: do not wait for it.
                    OutboxItem.status.in_(
                        [OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT, OutboxStatus.PAUSED]
                    ),
                )
            )
        )
        people = _people_of(session, list(emails.values()))
        out: list[_Email] = []
        for item in items.values():
            email, row = emails.get(item.subject_id), rows.get(item.subject_id)
            if email is None or row is None:
                outbox.mark_done(item, now=now)
                continue
            state = EngagementState(
                subject=email.subject,
                sent_at=email.sent_at,
                opens=row.opens,
                last_open_at=row.last_open_at,
                clicks=row.clicks,
                last_click_at=row.last_click_at,
                last_clicked_url=row.last_clicked_url,
                replied_at=row.replied_at,
                email_url=engagement.email_url(self.runtime, email.id),
                template_url=(
                    engagement.template_url(self.runtime, row.template_id)
                    if row.template_id
                    else None
                ),
            )
            waiting = not links[email.id] and email.id in logging_open
            if waiting:
                # The Task is still being logged: come back once it exists.
                outbox.reschedule(item, now=now, at=now + WAIT_FOR_TASK, code=None, message=None)
            out.append(
                _Email(
                    item.id,
                    email.id,
                    state,
                    dict(row.written),
                    [link.sf_id for link in links[email.id]],
                    _records_of(links[email.id], people.get(email.id, [])),
                    waiting,
                )
            )
        return out

    # --- writing ---------------------------------------------------------------------------

    def _write(self, batch: _Batch, ready: list[_Email], client: SalesforceClient) -> None:
        profile = self._profile(batch, client)
        wanted_objects = [o for o in ROLLUP_SWITCHES if getattr(batch.settings, ROLLUP_SWITCHES[o])]
        lead_ids = sorted({i for e in ready for i in e.records.get("Lead", set())})
        described, converted = self._lookups(client, wanted_objects, lead_ids)
        skipped: dict[str, str] = {}
        writes = self._task_writes(batch, ready, profile, skipped)
        writes += self._rollup_writes(batch, ready, described, converted, skipped)
        outcomes = _send(client, writes)
        self._settle(batch, ready, writes, outcomes, skipped)

    def _profile(self, batch: _Batch, client: SalesforceClient) -> OrgProfile:
        cached = batch.connection.org_profile
        if cached:
            return OrgProfile.model_validate(cached)
        team_field = batch.user.team.external_id_field if batch.user.team else None
        profile = discover_org(client, external_id_field=team_field or "Salesync_Activity_Id__c")
        with unit_of_work(self.runtime.sessions) as session:
            row = connection_store.by_id(session, batch.connection.id)
            if row is not None:
                row.org_profile = profile.model_dump(mode="json")
        return profile

    def _lookups(
        self, client: SalesforceClient, objects: Sequence[str], lead_ids: Sequence[str]
    ) -> tuple[dict[str, SObjectDescribe], dict[str, str]]:
        """One composite call: the roll-up objects' describes and converted Leads (MATCH-10)."""
        requests = [
            CompositeSubrequest("GET", f"sobjects/{name}/describe", f"describe{name}")
            for name in objects
        ]
        queries = soql.chunk_in_clause(
            "SELECT Id, ConvertedContactId FROM Lead WHERE IsConverted = true AND Id IN {}",
            lead_ids,
            max_uri_chars=90_000,
        )
        if lead_ids and "Contact" in objects:
            requests += [
                CompositeSubrequest.query(q, f"converted{n}") for n, q in enumerate(queries[:5])
            ]
        if not requests:
            return {}, {}
        described: dict[str, SObjectDescribe] = {}
        converted: dict[str, str] = {}
        for request, answer in zip(requests, client.composite(requests), strict=True):
            if not answer.ok:
                continue  # no access to the object: its roll-ups are skipped and reported
            if request.reference_id.startswith("describe"):
                described[request.reference_id.removeprefix("describe")] = (
                    SObjectDescribe.from_json(answer.body)
                )
            else:
                for row in (answer.body or {}).get("records", []):
                    if row.get("ConvertedContactId"):
                        converted[ids.normalize(str(row["Id"]))] = ids.normalize(
                            str(row["ConvertedContactId"])
                        )
        return described, converted

    def _task_writes(
        self, batch: _Batch, ready: list[_Email], profile: OrgProfile, skipped: dict[str, str]
    ) -> list[_Write]:
        writes: list[_Write] = []
        for email in ready:
            wanted = engagement_fields.task_values(email.state)
            fields: dict[str, object] = {}
            for key, value in wanted.items():
                name = batch.task_map.get(key)
                if not name:
                    continue
                access = profile.task_fields.get(name) or next(
                    (f for n, f in profile.task_fields.items() if n.lower() == name.lower()), None
                )
                if access is None:
                    skipped[f"Task.{name}"] = "missing in the org or hidden from the rep"
                elif not access.updateable:
                    skipped[f"Task.{name}"] = "not editable for the rep (field-level security)"
                else:
                    fields[access.name] = value
            if not fields:
                continue
            digest = engagement_fields.fingerprint(fields)
            for task_id in email.task_ids:
                key = f"task:{task_id}"
                if email.written.get(key) == digest:
                    continue  # written before: each change goes out once
                writes.append(
                    _Write(
                        "Task",
                        task_id,
                        dict(fields),
                        ((email.email_id, key, digest),),
                        (email.item_id,),
                    )
                )
        return writes

    def _rollup_writes(
        self,
        batch: _Batch,
        ready: list[_Email],
        described: Mapping[str, SObjectDescribe],
        converted: Mapping[str, str],
        skipped: dict[str, str],
    ) -> list[_Write]:
        merged: dict[tuple[str, str], dict[str, object]] = {}
        settles: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
        items: dict[tuple[str, str], set[int]] = defaultdict(set)
        for email in ready:
            values = engagement_fields.rollup_values(email.state)
            targets = _resolve_converted(email.records, converted)
            wanted = {
                (sobject, record_id)
                for sobject, record_ids in targets.items()
                if sobject in described
                for record_id in record_ids
            }
            digest = engagement_fields.fingerprint({"v": values, "t": sorted(wanted)})
            if not wanted or email.written.get("rollup") == digest:
                continue
            for target in wanted:
                merged[target] = engagement_fields.newer_rollup(merged.get(target, {}), values)
                settles[target].append((email.email_id, "rollup", digest))
                items[target].add(email.item_id)
        writes: list[_Write] = []
        for (sobject, record_id), values in sorted(merged.items()):
            fields = _rollup_fields(sobject, values, batch.rollup_map, described[sobject], skipped)
            if fields:
                writes.append(
                    _Write(
                        sobject,
                        record_id,
                        fields,
                        tuple(settles[(sobject, record_id)]),
                        tuple(sorted(items[(sobject, record_id)])),
                    )
                )
        return writes

    # --- results ---------------------------------------------------------------------------

    def _settle(
        self,
        batch: _Batch,
        ready: list[_Email],
        writes: list[_Write],
        outcomes: list[CollectionItemResult | SalesforceError],
        skipped: Mapping[str, str],
    ) -> None:
        now = self.runtime.clock.now()
        failed_items: dict[int, tuple[str, ErrorCategory, str, _Write]] = {}
        ok_settles: list[tuple[int, str, str]] = []
        failed_settles: set[tuple[int, str]] = set()
        for write, outcome in zip(writes, outcomes, strict=True):
            if isinstance(outcome, CollectionItemResult) and outcome.ok:
                ok_settles.extend(write.settles)
                continue
            code, category, message = _failure(outcome)
            failed_settles |= {(email_id, key) for email_id, key, _ in write.settles}
            for item_id in write.item_ids:
                failed_items.setdefault(item_id, (code, category, message, write))
        with unit_of_work(self.runtime.sessions) as session:
            rows = engagement_store.engagement_of(session, [e.email_id for e in ready])
            for email_id, key, digest in ok_settles:
                if (email_id, key) in failed_settles or email_id not in rows:
                    continue
                rows[email_id].written = {**rows[email_id].written, key: digest}
            items = outbox.items_by_id(session, [e.item_id for e in ready])
            for email in ready:
                item = items.get(email.item_id)
                if item is None:
                    continue
                if email.item_id in failed_items:
                    code, category, message, write = failed_items[email.item_id]
                    settle_failure(
                        session,
                        item,
                        code=code,
                        category=category,
                        message=f"{write.sobject} {write.record_id}: {message}",
                        now=now,
                        item_type="email",
                        detail={"sobject": write.sobject, "record_id": write.record_id},
                    )
                elif item.status is OutboxStatus.IN_FLIGHT:
                    outbox.mark_done(item, now=now)
            if skipped:
                diagnostics.record(
                    session,
                    team_id=batch.user.team_id,
                    user_id=batch.user.id,
                    item_type="connection",
                    item_id=batch.connection.id,
                    code=FIELDS_SKIPPED,
                    category="setup",
                    message=tr(
                        "Engagement fields left out: {fields}", fields=", ".join(sorted(skipped))
                    ),
                    now=now,
                    detail={"fields": dict(skipped)},
                )

    def _fail_items(
        self, item_ids: list[int], code: str, category: ErrorCategory, message: str
    ) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            for item in outbox.items_by_id(session, item_ids).values():
                settle_failure(
                    session,
                    item,
                    code=code,
                    category=category,
                    message=message,
                    now=now,
                    item_type="email",
                )


def _people_of(session: Session, emails: list[SentEmail]) -> dict[int, list[Person]]:
    person_ids = {r.person_id for e in emails for r in e.recipients if r.person_id}
    people = {
        p.id: p for p in session.scalars(select(Person).where(Person.id.in_(sorted(person_ids))))
    }
    return {
        e.id: [people[r.person_id] for r in e.recipients if r.person_id in people] for e in emails
    }


def _records_of(links: Sequence[SalesforceLink], people: Sequence[Person]) -> dict[str, set[str]]:
    """The Lead, Contact, Account and Opportunity records an email was about."""
    records: dict[str, set[str]] = defaultdict(set)
    for link in links:
        for part in link.target_key.split("|"):
            name, _, value = part.partition(":")
            if name in ("who", "what") and ids.is_valid_id(value):
                sobject = ids.object_type(value)
                if sobject in ROLLUP_SWITCHES:
                    records[sobject].add(ids.normalize(value))
    for person in people:
        for sobject, related in (
            ("Account", person.sf_account_id),
            ("Opportunity", person.sf_opportunity_id),
        ):
            if related and ids.is_valid_id(related):
                records[sobject].add(ids.normalize(related))
        if not links:
            # Not logged (logging off): the roll-ups still go to the person's records.
            own = (("Contact", person.sf_contact_id), ("Lead", person.sf_lead_id))
            for sobject, stored in own:
                if stored and ids.is_valid_id(stored):
                    records[sobject].add(ids.normalize(stored))
    return dict(records)


def _resolve_converted(
    records: Mapping[str, set[str]], converted: Mapping[str, str]
) -> dict[str, set[str]]:
    """A converted Lead's roll-ups go to the Contact it became (MATCH-10)."""
    out = {sobject: set(values) for sobject, values in records.items()}
    for lead_id in list(out.get("Lead", set())):
        contact = converted.get(lead_id)
        if contact is not None:
            out["Lead"].discard(lead_id)
            out.setdefault("Contact", set()).add(contact)
    return out


def _rollup_fields(
    sobject: str,
    values: Mapping[str, object],
    rollup_map: Mapping[str, str],
    described: SObjectDescribe,
    skipped: dict[str, str],
) -> dict[str, object]:
    fields_by_name = {f.name.lower(): f for f in described.fields}
    out: dict[str, object] = {}
    for key, value in values.items():
        name = rollup_map.get(key)
        if not name:
            continue
        found = fields_by_name.get(name.lower())
        if found is None:
            skipped[f"{sobject}.{name}"] = "missing in the org or hidden from the rep"
        elif not found.updateable:
            skipped[f"{sobject}.{name}"] = "not editable for the rep (field-level security)"
        else:
            out[found.name] = value
    return out


def _send(
    client: SalesforceClient, writes: list[_Write]
) -> list[CollectionItemResult | SalesforceError]:
    """Every write through sObject Collections: 200 per collection, 5 per composite call."""
    ordered = sorted(range(len(writes)), key=lambda i: writes[i].sobject)
    results: dict[int, CollectionItemResult | SalesforceError] = {}
    per_call = COLLECTION_SIZE * COLLECTIONS_PER_COMPOSITE
    for start in range(0, len(ordered), per_call):
        chunk = ordered[start : start + per_call]
        requests: list[CompositeSubrequest] = []
        groups: list[list[int]] = []
        for offset in range(0, len(chunk), COLLECTION_SIZE):
            group = chunk[offset : offset + COLLECTION_SIZE]
            records = [
                {
                    "attributes": {"type": writes[i].sobject},
                    "Id": writes[i].record_id,
                    **writes[i].fields,
                }
                for i in group
            ]
            body = {"allOrNone": False, "records": records}
            requests.append(
                CompositeSubrequest("PATCH", "composite/sobjects", f"updates{offset}", body)
            )
            groups.append(group)
        for group, answer in zip(groups, client.composite(requests), strict=True):
            error = answer.error()
            answers = answer.body if isinstance(answer.body, list) else []
            for position, index in enumerate(group):
                if error is not None or position >= len(answers):
                    missing = SalesforceError("no result for this record", error_code="UNKNOWN")
                    results[index] = error or missing
                else:
                    results[index] = CollectionItemResult.from_json(answers[position])
    return [results[i] for i in range(len(writes))]


def _failure(outcome: CollectionItemResult | SalesforceError) -> tuple[str, ErrorCategory, str]:
    if isinstance(outcome, SalesforceError):
        return outcome.error_code, outcome.category, outcome.message
    detail = outcome.real_error
    code = detail.code if detail else "UNKNOWN_EXCEPTION"
    message = detail.message if detail else "Salesforce did not update the record."
    return code, error_catalog.classify(code, 400), message
