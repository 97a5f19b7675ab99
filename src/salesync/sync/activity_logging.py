"""Logs queued emails, replies and calls to Salesforce as Tasks, a whole batch at a time.

Per rep and batch: one composite call looks up every recipient (Leads/Contacts by email and
id), one query finds contact roles when opportunities are logged, and one composite call
creates every Task through sObject Collections — so 1,000 emails cost 2 or 3 API calls
(DESIGN §5). Creates are upserts on the External ID field when the org has it, so a retry
after a lost answer never makes a second Task; without it, a retry first searches for the
Task it may have created (DESIGN §3 "Exactly-once").

Salesforce's latency, not salesync's CPU, is what a batch mostly waits for: the reps of one
claim are logged side by side, a few at a time per org (far under Salesforce's 25 concurrent
long requests), each over its connection's keep-alive client. Results are written per rep in
a few set-based statements (links, outbox rows, Diagnostics), never one statement per item.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import httpx
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session, joinedload

from salesync.domain import budget, error_catalog, ids
from salesync.domain.activity_kinds import ActivityKind
from salesync.domain.activity_task import (
    LoggedActivity,
    RepContext,
    TaskConfig,
    TaskDraft,
    build_activity_task,
)
from salesync.domain.categories import ErrorCategory
from salesync.domain.matching import (
    CandidateRecord,
    CreateLead,
    LogTarget,
    Matched,
    MatchResult,
    OpportunityRole,
    Recipient,
    SalesforceRefusal,
    Unmatched,
    emails_to_look_up,
    lead_ids_to_look_up,
    lookup_key,
    match_activity,
)
from salesync.domain.object_access import AccessRefused, access_refused
from salesync.domain.org_capabilities import (
    OrgCapabilities,
    PicklistInfo,
    TaskFieldInfo,
    TaskStatusValue,
)
from salesync.domain.settings import SyncSettings, logs_through_api
from salesync.domain.wording import tr
from salesync.runtime import Runtime
from salesync.salesforce.client import SalesforceClient
from salesync.salesforce.composite import CompositeSubrequest
from salesync.salesforce.discovery import OrgProfile
from salesync.salesforce.errors import RefreshTokenRevoked, SalesforceError
from salesync.salesforce.results import CollectionItemResult
from salesync.services import connections as connection_service
from salesync.services import org_setup, sync_settings
from salesync.services.activities import (
    LOG_CALL,
    LOG_EMAIL,
    LOG_REPLY,
    not_connected_reason,
)
from salesync.store import activities as activity_store
from salesync.store import connections as connection_store
from salesync.store import diagnostics, outbox
from salesync.store.db import unit_of_work
from salesync.store.outbox import QueuedItem
from salesync.store.tables import (
    ConnectionStatus,
    OutboxStatus,
    SalesforceConnection,
    SalesforceLink,
    User,
)
from salesync.sync import activity_lookup, budget_gate
from salesync.sync.activity_work import STALE_IDS, WorkItem, load_work
from salesync.sync.clients import ConnectionClients
from salesync.sync.failures import Failure, settle_failures

log = logging.getLogger(__name__)

#: sObject Collections per composite call (API-FACTS §2.5: at most 5) x 200 records each.
COLLECTIONS_PER_COMPOSITE = 5
COLLECTION_SIZE = 200
#: What logging one batch costs at most: lookups, contact roles, creates.
CALLS_PER_BATCH = 3
#: Requests one worker has at one org at once (its reps share them): several workers together
#: stay far under Salesforce's 25 concurrent long-running requests per org (API-FACTS §1).
REQUESTS_AT_ONCE_PER_ORG = 4
#: Reps one worker logs at once across all orgs.
REPS_AT_ONCE = 8
#: Reps one claim takes: enough to keep REPS_AT_ONCE busy, few enough that other workers
#: find reps of their own when fewer than a batch of items is ready.
REPS_PER_CLAIM = 8
#: Batches one worker runs at once: while one waits on Salesforce, the next is read and looked
#: up. Their reps share the REPS_AT_ONCE threads and the per-org limit. Three, not two: two
#: batches of one rep's backlog fell into step (both creates answered together, then both
#: saved and the next two read while Salesforce had nothing to do); a third fills those gaps
#: (10,000 emails, alternating runs: 2.66-2.81 s with two, 2.54-2.67 s with three at 0 ms a
#: call; 3.08-3.36 s and 2.78-2.94 s at 50 ms).
BATCHES_AT_ONCE = 3
#: Salesforce's answers for a WhoId whose record was deleted or merged away.
_GONE_REFERENCE = frozenset({"INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED"})
#: Payload flag: the item already waited once for the org profile to be read again.
_RETRIED_AFTER_REFRESH = "retried_after_refresh"


@dataclass
class _RepBatch:
    """Everything needed to log one rep's items, read in one transaction."""

    user: User
    connection: SalesforceConnection
    settings: SyncSettings
    config: TaskConfig
    work: list[WorkItem]
    #: The claimed items (plain values), by id: what settling needs to know about them.
    items: dict[int, QueuedItem] = field(default_factory=dict)
    #: (local type, local id, target key) of the Tasks earlier attempts already created.
    linked: set[tuple[str, int, str]] = field(default_factory=set)
    #: Why the org's API budget holds this batch back, or None when it may spend calls.
    budget_refusal: str | None = None


@dataclass
class _Planned:
    """One Task to create for one work item and target."""

    work: WorkItem
    target: LogTarget
    draft: TaskDraft


class ActivityLoggingHandler:
    """The outbox handler for ``log_email``, ``log_reply`` and ``log_call`` items."""

    kinds: tuple[str, ...] = (LOG_EMAIL, LOG_REPLY, LOG_CALL)
    max_batch = 1000
    max_users = REPS_PER_CLAIM
    #: A batch mostly waits on Salesforce (for one rep with a backlog, on its 1,000 creates):
    #: the worker claims and starts the next while it does.
    batches_at_once = BATCHES_AT_ONCE
    #: Items are only read and settled by id: the worker hands them over as plain values.
    plain_items = True

    def __init__(
        self,
        runtime: Runtime,
        *,
        http: httpx.Client | None = None,
        max_batch: int | None = None,
    ) -> None:
        self.runtime = runtime
        if max_batch is not None:  # smaller batches (at most 1,000: one composite call)
            self.max_batch = min(max_batch, type(self).max_batch)
        self._clients = ConnectionClients(
            runtime, http=http, requests_per_org=REQUESTS_AT_ONCE_PER_ORG
        )
        self._slots_lock = threading.Lock()
        #: Per connection: held while a batch finds its targets (see ``_log``).
        self._rep_turns: dict[int, threading.Lock] = {}
        #: The threads that log reps side by side, shared by the batches running at once.
        self._reps: ThreadPoolExecutor | None = None
        #: Per connection: the profile read (its discovery time) and the sets of skipped
        #: fields already reported under it.
        self._reported_skips: dict[int, tuple[datetime | None, set[frozenset[str]]]] = {}

    def close(self) -> None:
        """Close the kept HTTP clients and the reps' threads (the worker is stopping)."""
        with self._slots_lock:
            reps, self._reps = self._reps, None
        if reps is not None:
            reps.shutdown()
        self._clients.close()

    def process(self, items: Sequence[QueuedItem]) -> None:
        by_user: dict[int | None, list[QueuedItem]] = defaultdict(list)
        for item in items:
            by_user[item.user_id].append(item)
        batches = self._load(by_user)
        if len(batches) <= 1:
            for batch in batches:
                self._process_rep(batch)
            return
        with self._slots_lock:
            if self._reps is None:
                self._reps = ThreadPoolExecutor(REPS_AT_ONCE, thread_name_prefix="rep")
            pool = self._reps
        # Each rep settles its own items; a crash leaves them to the worker's release.
        for future in [pool.submit(self._process_rep, batch) for batch in batches]:
            future.result()

    # --- one rep -------------------------------------------------------------------------

    def _process_rep(self, batch: _RepBatch) -> None:
        if batch.budget_refusal is not None:
            self._settle_all(batch, "API_BUDGET", ErrorCategory.INTERMITTENT, batch.budget_refusal)
            return
        try:
            self._log(batch, self._clients.get(batch.connection))
        except RefreshTokenRevoked as exc:
            connection_service.mark_broken(self.runtime, batch.connection.id, exc.message)
        except SalesforceError as exc:
            self._settle_all(batch, exc.error_code, exc.category, exc.message, outcome_unknown=True)
        finally:
            # Settling wrote the batch's calls with its results; this writes those of a batch
            # that ended otherwise (a revoked token, a crash), so no call goes uncounted.
            self._clients.flush(batch.connection.id)

    def _load(self, by_user: Mapping[int | None, list[QueuedItem]]) -> list[_RepBatch]:
        """Every rep's batch of the claim, read in one transaction with a statement per kind
        of row (users, connections, settings, activities, links, API usage), not per rep.

        Items whose user is gone fail; those of a rep without a usable connection are held;
        gone activities and those the rep no longer logs are done: all in this transaction.
        Only reps with something to log get a batch.
        """
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            # The team comes with the user (its Task settings are read below).
            user_ids = [u for u in by_user if u is not None]
            users = {
                user.id: user
                for user in session.scalars(
                    select(User).where(User.id.in_(user_ids)).options(joinedload(User.team))
                ).unique()
            }
            message = "the user of this activity no longer exists"
            outbox.settle_many(
                session,
                [
                    outbox.Settled(i.id, OutboxStatus.FAILED, "USER_GONE", message)
                    for user_id, claimed in by_user.items()
                    if user_id not in users
                    for i in claimed
                ],
                now=now,
            )
            connections = connection_store.for_users(session, list(users))
            connected: list[User] = []
            for user in users.values():
                connection = connections.get(user.id)
                if connection is None or connection.status is not ConnectionStatus.CONNECTED:
                    self._hold_unconnected(session, user, by_user[user.id], connection, now)
                else:
                    connected.append(user)
            effective = sync_settings.effective_for_users(session, connected)
            # The worker's claim read these rows a moment ago and leased them to us alone.
            claimed = [item for user in connected for item in by_user[user.id]]
            user_of = {item.id: item.user_id for item in claimed}
            work, gone = load_work(session, claimed)
            wanted: dict[int | None, list[WorkItem]] = defaultdict(list)
            # Gone activities, and those whose logging the rep switched off since: nothing
            # to log, nothing to show.
            done = list(gone)
            for w in work:
                user_id = user_of[w.outbox_id]
                if user_id is not None and _wanted(effective[user_id].settings, w):
                    wanted[user_id].append(w)
                else:
                    done.append(w.outbox_id)
            outbox.mark_done_many(session, done, now=now)
            everything = [w for rep_work in wanted.values() for w in rep_work]
            linked = _linked(session, everything) if everything else set()
            logging = [user for user in connected if wanted[user.id]]
            by_org: dict[tuple[str, int], list[int]] = defaultdict(list)
            for user in logging:
                by_org[(connections[user.id].org_id, user.team.api_budget_share)].append(user.id)
            refusals: dict[int, str | None] = {}
            for (org_id, share), user_ids in by_org.items():
                refusals.update(_budget_refusals(session, org_id, share, user_ids, now))
            batches = []
            for user in logging:
                connection = connections[user.id]
                batches.append(
                    _RepBatch(
                        user,
                        connection,
                        effective[user.id].settings,
                        org_setup.task_config_of(user.team),
                        wanted[user.id],
                        {item.id: item for item in by_user[user.id]},
                        linked,
                        refusals[user.id],
                    )
                )
            # The users, teams and connections outlive this transaction as loaded values. The
            # writes above are statements already sent; the flush keeps it so should one
            # become a pending object.
            session.flush()
            session.expunge_all()
            return batches

    def _hold_unconnected(
        self,
        session: Session,
        user: User,
        items: list[QueuedItem],
        connection: SalesforceConnection | None,
        now: datetime,
    ) -> None:
        """No usable connection: hold the items (paused, visible), drop nothing (CONN-3)."""
        not_connected = connection is None or connection.status is ConnectionStatus.DISCONNECTED
        broken_reason = connection.broken_reason if connection is not None else ""
        broken = f"Salesforce connection broken ({broken_reason}); reconnect."
        texts = {
            item.id: not_connected_reason(item.kind) if not_connected else broken for item in items
        }
        outbox.settle_many(
            session,
            [
                outbox.Settled(item.id, OutboxStatus.PAUSED, "NOT_CONNECTED", texts[item.id], now)
                for item in items
            ],
            now=now,
        )
        diagnostics.record_many(
            session,
            [
                diagnostics.Occurrence(
                    team_id=user.team_id,
                    user_id=user.id,
                    item_type=item.subject_type,
                    item_id=item.subject_id,
                    outbox_id=item.id,
                    code="NOT_CONNECTED",
                    category="authentication",
                    message=texts[item.id],
                )
                for item in items
            ],
            now=now,
        )

    # --- Salesforce work -------------------------------------------------------------------

    def _log(self, batch: _RepBatch, client: SalesforceClient) -> None:
        # One batch of a rep at a time finds its targets (lookups through Leads created):
        # a batch running beside it (a backlog of over 1,000 items) looks up only once the
        # Leads the other created exist, so an address new to Salesforce gets one Lead. The
        # rest (planning, creating the Tasks, saving) overlaps freely.
        with self._rep_turn(batch.connection.id):
            targets = self._targets(batch, client)
        if targets is None:
            return
        profile, lookups, results = targets
        capabilities = capabilities_of(profile)
        upsert = profile.external_id_ready
        rep = RepContext(batch.connection.sf_user_id, batch.user.time_zone)
        planned, unmatched, skipped = self._plan(batch, results, rep, capabilities)
        found = _found_earlier(planned, lookups.existing_tasks)
        to_create = [p for p in planned if p.work.target_key(p.target) not in found]
        outcomes = self._create(client, to_create, upsert, batch.config.external_id_field)
        # FIELDS-2/3: a missing or read-only field is left out and reported, never fatal.
        new_skips = (
            skipped if not self._skips_reported(batch.connection.id, profile, skipped) else {}
        )
        self._settle(batch, planned, found, outcomes, unmatched, new_skips)
        if new_skips:
            self._skips_reported(batch.connection.id, profile, new_skips, remember=True)

    def _targets(
        self, batch: _RepBatch, client: SalesforceClient
    ) -> tuple[OrgProfile, activity_lookup.LookupResult, dict[int, MatchResult]] | None:
        """The org profile, the lookups and each item's match (Leads created as the no-match
        rule asks); None when the rep has no API access (the items are settled then)."""
        profile, lookups = self._profile_and_lookups(batch, client)
        if not profile.api_enabled:
            text = profile.checks[0].text if profile.checks else "API access is disabled."
            self._settle_all(batch, "API_CURRENTLY_DISABLED", ErrorCategory.ACCESS_VALIDATION, text)
            return None
        if lookups is None:
            requests = self._lookup_requests(batch, profile.external_id_ready)
            lookups = activity_lookup.run_lookups(client, requests)
        self._report_refused_lookups(batch, lookups.refused)
        refused = {
            sobject: f"{error.error_code}: {error.message}"
            for sobject, error in lookups.refused.items()
        }
        index = _CandidateIndex(lookups.candidates, refused)
        results = {w.outbox_id: index.match(w, batch.settings, []) for w in batch.work}
        contact_ids = [
            t.who_id
            for r in results.values()
            if isinstance(r, Matched)
            for t in r.targets
            if t.who_id and ids.object_type(t.who_id) == "Contact"
        ]
        if batch.settings.opportunity_mode.value != "off" and contact_ids:
            try:
                roles = activity_lookup.opportunity_roles(client, contact_ids)
            except SalesforceError as exc:
                if exc.category in (ErrorCategory.INTERMITTENT, ErrorCategory.AUTHENTICATION):
                    raise
                # Without the roles, a contact's Task would miss its opportunities: keep those
                # items as an access problem; items logged to Leads go ahead.
                refusal = access_refused(
                    "OpportunityContactRole", f"{exc.error_code}: {exc.message}"
                )
                results = {
                    key: refusal if _logs_to_contact(result) else result
                    for key, result in results.items()
                }
            else:
                results = {w.outbox_id: index.match(w, batch.settings, roles) for w in batch.work}
        created_leads = self._create_leads(batch, client, results)
        for w in batch.work:
            wanted = results[w.outbox_id]
            if isinstance(wanted, CreateLead) and w.outbox_id in created_leads:
                outcome = created_leads[w.outbox_id]
                results[w.outbox_id] = (
                    Matched((LogTarget(outcome, None, "created lead"),))
                    if isinstance(outcome, str)
                    else dataclasses.replace(wanted, refusal=outcome)
                )
        return profile, lookups, results

    def _rep_turn(self, connection_id: int) -> threading.Lock:
        with self._slots_lock:
            turn = self._rep_turns.get(connection_id)
            if turn is None:
                turn = self._rep_turns[connection_id] = threading.Lock()
            return turn

    def _profile_and_lookups(
        self, batch: _RepBatch, client: SalesforceClient
    ) -> tuple[OrgProfile, activity_lookup.LookupResult | None]:
        """The cached profile while under an hour old (lookups still to make); else the org
        read again in the same call as the batch's lookups, or alone when they don't fit."""
        cached = org_setup.fresh_profile(batch.connection.org_profile, self.runtime.clock.now())
        if cached is not None:
            return cached, None
        # Before the profile says whether an External ID field makes creates idempotent,
        # a batch with items whose earlier outcome is unknown also searches for their Tasks:
        # with the field, what it finds is what the upsert would have matched anyway.
        requests = self._lookup_requests(batch, upsert=False)
        connection_id, config = batch.connection.id, batch.config
        along = org_setup.discover_along(self.runtime, client, connection_id, config, requests)
        if along is None:  # the lookups leave no room: the org alone, the lookups after it
            return org_setup.discover_and_store(self.runtime, client, connection_id, config), None
        profile, answers = along
        return profile, activity_lookup.lookups_from(client, answers)

    def _lookup_requests(self, batch: _RepBatch, upsert: bool) -> list[CompositeSubrequest]:
        recipients = [w.recipient for w in batch.work if w.kind.value != "call"]
        emails = emails_to_look_up(recipients)
        lead_ids = lead_ids_to_look_up([w.recipient for w in batch.work])
        unknown = [w for w in batch.work if w.outcome_unknown]
        search = None
        if unknown and not upsert:
            since = min(w.activity.sent_at for w in unknown)
            subjects = [s for s in self._subjects(batch, unknown)]
            search = activity_lookup.task_search_soql(batch.connection.sf_user_id, since, subjects)
        return activity_lookup.lookup_subrequests(
            emails,
            lead_ids,
            leads=batch.settings.log_to_leads,
            contacts=batch.settings.log_to_contacts,
            task_search=search,
        )

    def _subjects(self, batch: _RepBatch, work: Sequence[WorkItem]) -> list[str]:
        placeholder = LogTarget(None, None, "")
        capabilities = OrgCapabilities(task_fields=(TaskFieldInfo("Subject", length=255),))
        rep = RepContext(batch.connection.sf_user_id, batch.user.time_zone)
        subjects = []
        for w in work:
            draft = build_activity_task(w.activity, placeholder, rep, capabilities, batch.config)
            subjects.append(str(draft.fields.get("Subject", "")))
        return subjects

    def _report_refused_lookups(
        self, batch: _RepBatch, refused: Mapping[str, SalesforceError]
    ) -> None:
        if not refused:
            return
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            diagnostics.record_many(
                session,
                [
                    diagnostics.Occurrence(
                        team_id=batch.user.team_id,
                        user_id=batch.user.id,
                        item_type="connection",
                        item_id=batch.connection.id,
                        code=error.error_code,
                        category=error.category.value,
                        message=tr(
                            "Salesforce refused the {object} lookup: {reason}",
                            object=sobject,
                            reason=error.message,
                        ),
                        detail={"object": sobject},
                    )
                    for sobject, error in refused.items()
                ],
                now=now,
            )

    def _create_leads(
        self, batch: _RepBatch, client: SalesforceClient, results: Mapping[int, MatchResult]
    ) -> dict[int, str | SalesforceRefusal]:
        """The no-match rule "create lead": one Lead per address, then log to it.

        Per item: the new Lead's id, or Salesforce's reason for refusing it (a required
        field, a validation or duplicate rule), kept for Diagnostics.
        """
        wanted = [w for w in batch.work if isinstance(results[w.outbox_id], CreateLead)]
        if not wanted:
            return {}
        by_email: dict[str, list[WorkItem]] = defaultdict(list)
        for w in wanted:
            by_email[(w.recipient.email or "").lower()].append(w)
        records = []
        for address, items in by_email.items():
            person = items[0].person
            last = (person.last_name if person else "") or address.split("@")[0]
            company = (person.company if person else "") or "[not provided]"
            records.append(
                {
                    "LastName": last[:80],
                    "Company": company[:255],
                    "Email": address,
                    "FirstName": (person.first_name if person else "")[:40] or None,
                }
            )
        answers = client.create_many("Lead", records)
        created: dict[int, str | SalesforceRefusal] = {}
        for (_, items), answer in zip(by_email.items(), answers, strict=True):
            detail = answer.real_error
            outcome: str | SalesforceRefusal = (
                answer.id
                if answer.ok and answer.id
                else SalesforceRefusal(
                    detail.code if detail else "UNKNOWN_EXCEPTION",
                    detail.message if detail else "Salesforce did not create the Lead.",
                )
            )
            for w in items:
                created[w.outbox_id] = outcome
        return created

    def _plan(
        self,
        batch: _RepBatch,
        results: Mapping[int, MatchResult],
        rep: RepContext,
        capabilities: OrgCapabilities,
    ) -> tuple[list[_Planned], dict[int, MatchResult], dict[str, str]]:
        """The Tasks to create, the items that match nobody, and the Task fields left out."""
        planned: list[_Planned] = []
        unmatched: dict[int, MatchResult] = {}
        skipped: dict[str, str] = {}
        linked = batch.linked
        for w in batch.work:
            result = results[w.outbox_id]
            if not isinstance(result, Matched):
                unmatched[w.outbox_id] = result
                continue
            for target in result.targets:
                if (w.local_type, w.local_id, w.target_key(target)) in linked:
                    continue  # an earlier attempt created this one already
                activity = _with_id(w, target)
                draft = build_activity_task(activity, target, rep, capabilities, batch.config)
                skipped.update({s.name: s.reason for s in draft.skipped_fields})
                planned.append(_Planned(w, target, draft))
        return planned, unmatched, skipped

    def _skips_reported(
        self,
        connection_id: int,
        profile: OrgProfile,
        skipped: Mapping[str, str],
        *,
        remember: bool = False,
    ) -> bool:
        """Whether these skipped fields were reported under this connection's current profile.

        The fields a Task leaves out follow from the org profile, so they are the same for
        every batch until the profile is read again (hourly, or when Salesforce refuses a
        field): one Diagnostics occurrence per connection and profile read, not one per batch.
        """
        if not skipped:
            return True  # nothing to report
        fields = frozenset(skipped)
        with self._slots_lock:
            read_at, reported = self._reported_skips.get(connection_id, (None, set()))
            if read_at != profile.discovered_at:
                reported = set()
            if remember:
                reported.add(fields)
                self._reported_skips[connection_id] = (profile.discovered_at, reported)
            return fields in reported

    def _create(
        self,
        client: SalesforceClient,
        planned: list[_Planned],
        upsert: bool,
        ext_field: str,
    ) -> list[CollectionItemResult | SalesforceError]:
        """Create every planned Task: collections of 200, five per composite call.

        With the External ID field every create is an upsert. An upsert that matches a Task
        an earlier attempt made (its answer was lost) is an update, which Salesforce refuses
        while the body holds create-only fields such as TaskSubtype; those items are sent
        once more with their updateable fields only, and Salesforce answers with the id.
        """
        bodies = [p.draft.request_body() for p in planned]
        outcomes = self._write(client, bodies, upsert, ext_field)
        if not upsert:
            return outcomes
        matched = [i for i, o in enumerate(outcomes) if _matched_existing(planned[i], o)]
        if matched:
            again = self._write(
                client, [planned[i].draft.update_body() for i in matched], True, ext_field
            )
            for index, outcome in zip(matched, again, strict=True):
                outcomes[index] = outcome
        return outcomes

    def _write(
        self,
        client: SalesforceClient,
        bodies: list[dict[str, object]],
        upsert: bool,
        ext_field: str,
    ) -> list[CollectionItemResult | SalesforceError]:
        outcomes: list[CollectionItemResult | SalesforceError] = []
        per_call = COLLECTION_SIZE * COLLECTIONS_PER_COMPOSITE
        for start in range(0, len(bodies), per_call):
            chunk = bodies[start : start + per_call]
            requests = []
            for index in range(0, len(chunk), COLLECTION_SIZE):
                records = [
                    {"attributes": {"type": "Task"}, **body}
                    for body in chunk[index : index + COLLECTION_SIZE]
                ]
                body = {"allOrNone": False, "records": records}
                url = f"composite/sobjects/Task/{ext_field}" if upsert else "composite/sobjects"
                method = "PATCH" if upsert else "POST"
                requests.append(CompositeSubrequest(method, url, f"tasks{index}", body))
            answers = client.composite(requests)
            for request, answer in zip(requests, answers, strict=True):
                size = len(request.body["records"]) if request.body else 0
                error = answer.error()
                if error is not None:
                    outcomes.extend([error] * size)
                    continue
                items = answer.body if isinstance(answer.body, list) else []
                outcomes.extend(CollectionItemResult.from_json(item) for item in items)
        return outcomes

    # --- writing results -------------------------------------------------------------------

    def _settle(
        self,
        batch: _RepBatch,
        planned: list[_Planned],
        found: Mapping[str, str],
        outcomes: list[CollectionItemResult | SalesforceError],
        unmatched: Mapping[int, MatchResult],
        skipped_fields: Mapping[str, str],
    ) -> None:
        """Write the batch's results in a few statements: links, done, failed, Diagnostics
        (the Task fields left out among them, when they are news)."""
        now = self.runtime.clock.now()
        created = [p for p in planned if p.work.target_key(p.target) not in found]
        failures: dict[int, SalesforceError | CollectionItemResult] = {}
        links: list[dict[str, Any]] = []
        failed_plans: dict[int, _Planned] = {}
        for plan, outcome in zip(created, outcomes, strict=True):
            if isinstance(outcome, CollectionItemResult) and outcome.ok and outcome.id:
                links.append(_link_row(batch, plan, outcome.id, now))
            else:
                failures.setdefault(plan.work.outbox_id, outcome)
                failed_plans.setdefault(plan.work.outbox_id, plan)
        for plan in planned:
            key = plan.work.target_key(plan.target)
            if key in found:
                links.append(_link_row(batch, plan, found[key], now))
        done: dict[str, list[int]] = defaultdict(list)
        done_ids: list[int] = []
        failed: list[Failure] = []
        requeued: list[outbox.Settled] = []
        unmatched_settled: list[outbox.Settled] = []
        unmatched_seen: list[diagnostics.Occurrence] = []
        for w in batch.work:
            item = batch.items[w.outbox_id]
            if w.outbox_id in unmatched:
                refusal = _unmatched_refusal(item, unmatched[w.outbox_id])
                if refusal is not None:
                    failed.append(refusal)
                    continue
                code, text = _unmatched_reason(unmatched[w.outbox_id])
                # Kept as failed with its reason; a new Salesforce id on the person requeues it.
                unmatched_settled.append(outbox.Settled(item.id, OutboxStatus.FAILED, code, text))
                unmatched_seen.append(
                    diagnostics.Occurrence(
                        team_id=item.team_id,
                        user_id=item.user_id,
                        item_type=item.subject_type,
                        item_id=item.subject_id,
                        outbox_id=item.id,
                        code=code,
                        category="unmatched",
                        message=text,
                    )
                )
            elif w.outbox_id in failures:
                outcome = failures[w.outbox_id]
                stale = _stale_stored_id(failed_plans[w.outbox_id], outcome)
                settled = (
                    _stale_id_outcome(w, item, stale, now)
                    if stale is not None
                    else _item_error_outcome(item, outcome, now)
                )
                if isinstance(settled, Failure):
                    failed.append(settled)
                else:
                    requeued.append(settled)
            else:
                done_ids.append(item.id)
                done[item.subject_type].append(item.subject_id)
        with unit_of_work(self.runtime.sessions) as session:
            if links:
                session.execute(insert(cast(Table, SalesforceLink.__table__)), links)
            outbox.mark_done_many(session, done_ids, now=now)
            outbox.settle_many(session, [*unmatched_settled, *requeued], now=now)
            if skipped_fields:
                unmatched_seen.append(_skipped_fields_seen(batch, skipped_fields))
            diagnostics.record_many(session, unmatched_seen, now=now)
            settle_failures(session, failed, now=now)
            # The batch's calls, counted with its results: one transaction, not two.
            self._clients.flush(batch.connection.id, session)
            for item_type, subject_ids in done.items():
                diagnostics.resolve_items(session, item_type, subject_ids, now=now)
            if any(_field_refused(outcome) for outcome in failures.values()):
                # A field vanished or lost its edit access: rediscover before the retry so
                # the field is left out instead of failing again (FIELDS-2/3).
                connection_store.store_org_profile(session, batch.connection.id, None)

    def _settle_all(
        self,
        batch: _RepBatch,
        code: str,
        category: ErrorCategory,
        message: str,
        *,
        outcome_unknown: bool = False,
    ) -> None:
        now = self.runtime.clock.now()
        payload: dict[str, object] | None = {"outcome_unknown": True} if outcome_unknown else None
        failures = [
            Failure(batch.items[w.outbox_id], code, category, message, payload) for w in batch.work
        ]
        with unit_of_work(self.runtime.sessions) as session:
            settle_failures(session, failures, now=now)
            self._clients.flush(batch.connection.id, session)


def _skipped_fields_seen(batch: _RepBatch, skipped: Mapping[str, str]) -> diagnostics.Occurrence:
    return diagnostics.Occurrence(
        team_id=batch.user.team_id,
        user_id=batch.user.id,
        item_type="connection",
        item_id=batch.connection.id,
        code="TASK_FIELDS_SKIPPED",
        category="setup",
        message=tr("Some Task fields were left out: {fields}", fields=", ".join(sorted(skipped))),
        detail={"fields": dict(skipped)},
    )


def _linked(session: Session, work: Sequence[WorkItem]) -> set[tuple[str, int, str]]:
    by_type: dict[str, list[int]] = defaultdict(list)
    for w in work:
        by_type[w.local_type].append(w.local_id)
    return {
        (local_type, local_id, key)
        for local_type, local_ids in by_type.items()
        for local_id, key in activity_store.linked_keys(session, local_type, local_ids)
    }


def _budget_refusals(
    session: Session, org_id: str, share: int, user_ids: Sequence[int], now: datetime
) -> dict[int, str | None]:
    """Why the org's API budget holds each rep back (None: the rep may spend its calls).

    The claim's reps of one org spend their calls side by side, before any of them is
    counted: the n-th rep asks for n batches' calls. One check when there is room for all.
    """
    if _budget_refusal(session, org_id, share, CALLS_PER_BATCH * len(user_ids), now) is None:
        return dict.fromkeys(user_ids)
    return {
        user_id: _budget_refusal(session, org_id, share, CALLS_PER_BATCH * n, now)
        for n, user_id in enumerate(user_ids, start=1)
    }


def _budget_refusal(
    session: Session, org_id: str, share: int, calls: int, now: datetime
) -> str | None:
    decision = budget_gate.check(
        session, org_id, share, budget.WorkKind.ACTIVITY_LOGGING, calls=calls, now=now
    )
    return decision.reason if isinstance(decision, budget.Defer) else None


def _unmatched_refusal(item: QueuedItem, result: MatchResult) -> Failure | None:
    """Salesforce refused a lookup or a Lead create: an access or validation problem."""
    if isinstance(result, AccessRefused):
        return Failure(
            item,
            result.code,
            result.category,
            result.reason_text,
            detail={"object": result.sobject, "fix": result.fix},
        )
    if isinstance(result, CreateLead) and result.refusal is not None:
        text = (
            f"Salesforce refused to create a Lead for {result.email}: "
            f"{result.refusal.code}: {result.refusal.message}"
        )
        return Failure(
            item,
            "LEAD_NOT_CREATED",
            ErrorCategory.ACCESS_VALIDATION,
            text,
            detail={
                "salesforce_code": result.refusal.code,
                "salesforce_message": result.refusal.message,
            },
        )
    return None


def _stale_id_outcome(
    w: WorkItem, item: QueuedItem, stale_id: str, now: datetime
) -> Failure | outbox.Settled:
    """The stored Lead/Contact id names a deleted or merged record (MATCH-1/2).

    An email or reply is looked up by its address instead, at once; a call is logged by
    id only, so it waits on Diagnostics until the person has the surviving record's id.
    """
    if w.kind is not ActivityKind.CALL:
        stale = [*item.payload.get(STALE_IDS, []), stale_id]
        return outbox.Settled(
            item.id,
            OutboxStatus.PENDING,
            "STALE_SALESFORCE_ID",
            "",
            now,
            {**item.payload, STALE_IDS: stale},
        )
    sobject = ids.object_type(stale_id) or "record"
    message = (
        f"The {sobject} {stale_id} stored on this person no longer exists in Salesforce: "
        "it was deleted, or merged into another record."
    )
    return Failure(
        item,
        "STALE_SALESFORCE_ID",
        ErrorCategory.ACCESS_VALIDATION,
        message,
        detail={"record_id": stale_id, "object": sobject},
    )


def _item_error_outcome(
    item: QueuedItem, outcome: SalesforceError | CollectionItemResult, now: datetime
) -> Failure | outbox.Settled:
    code, category, message = _item_error(outcome)
    if code in org_setup.FIELD_REFUSALS and not item.payload.get(_RETRIED_AFTER_REFRESH):
        # The cached profile was wrong about a field: the org is read again before the
        # next batch, which leaves the field out, so this item waits for that once.
        return outbox.Settled(
            item.id,
            OutboxStatus.PENDING,
            code,
            message,
            now,
            {**item.payload, _RETRIED_AFTER_REFRESH: True},
        )
    return Failure(item, code, category, message)


def _unmatched_reason(result: MatchResult) -> tuple[str, str]:
    if isinstance(result, Unmatched):
        return result.code.value, result.reason_text
    return "LEAD_NOT_CREATED", "The Lead for this address could not be created."


def _item_error(outcome: SalesforceError | CollectionItemResult) -> tuple[str, ErrorCategory, str]:
    """Code, category and message of one Task Salesforce did not create."""
    if isinstance(outcome, SalesforceError):
        return outcome.error_code, outcome.category, outcome.message
    detail = outcome.real_error
    code = detail.code if detail else "UNKNOWN_EXCEPTION"
    message = detail.message if detail else "Salesforce did not create the Task."
    category = error_catalog.classify(code, 400)
    return code, category, message


class _CandidateIndex:
    """Hands each recipient only the lookup rows about them (a batch holds 1,000s)."""

    def __init__(
        self, candidates: Sequence[CandidateRecord], refused: Mapping[str, str] | None = None
    ) -> None:
        self._refused = dict(refused or {})
        self._by_email: dict[str, list[CandidateRecord]] = defaultdict(list)
        self._by_id: dict[str, CandidateRecord] = {}
        for candidate in candidates:
            if candidate.email:
                self._by_email[lookup_key(candidate.email)].append(candidate)
            self._by_id[candidate.id] = candidate

    def relevant(self, recipient: Recipient) -> list[CandidateRecord]:
        found = list(self._by_email.get(lookup_key(recipient.email or ""), ()))
        for stored in (recipient.lead_id, recipient.contact_id):
            if ids.is_valid_id(stored):
                candidate = self._by_id.get(ids.normalize(stored or ""))
                if candidate is not None and candidate not in found:
                    found.append(candidate)
        return found

    def match(
        self, w: WorkItem, settings: SyncSettings, roles: Sequence[OpportunityRole]
    ) -> MatchResult:
        return match_activity(
            w.kind, w.recipient, self.relevant(w.recipient), roles, settings, self._refused
        )


def _matched_existing(plan: _Planned, outcome: CollectionItemResult | SalesforceError) -> bool:
    """An upsert refused only for create-only fields: it matched a Task that exists."""
    if not isinstance(outcome, CollectionItemResult) or outcome.ok:
        return False
    detail = outcome.real_error
    create_only = {name.lower() for name in plan.draft.create_only}
    return (
        detail is not None
        and detail.code == "INVALID_FIELD_FOR_INSERT_UPDATE"
        and bool(detail.fields)
        and all(name.lower() in create_only for name in detail.fields)
    )


def _logs_to_contact(result: MatchResult) -> bool:
    return isinstance(result, Matched) and any(
        t.who_id and ids.object_type(t.who_id) == "Contact" for t in result.targets
    )


def _stale_stored_id(plan: _Planned, outcome: SalesforceError | CollectionItemResult) -> str | None:
    """The person's stored id, when Salesforce refused the WhoId it gave as gone."""
    if not isinstance(outcome, CollectionItemResult):
        return None
    detail = outcome.real_error
    who = plan.target.who_id
    if detail is None or who is None or detail.code not in _GONE_REFERENCE:
        return None
    if detail.fields and "WhoId" not in detail.fields:
        return None
    recipient = plan.work.recipient
    stored = {
        ids.normalize(i or "")
        for i in (recipient.contact_id, recipient.lead_id)
        if ids.is_valid_id(i)
    }
    return who if ids.normalize(who) in stored else None


def _field_refused(outcome: SalesforceError | CollectionItemResult) -> bool:
    if isinstance(outcome, SalesforceError):
        code = outcome.error_code
    else:
        detail = outcome.real_error
        code = detail.code if detail else ""
    return code in org_setup.FIELD_REFUSALS


def _wanted(settings: SyncSettings, w: WorkItem) -> bool:
    return logs_through_api(settings, w.kind.value)


def _with_id(w: WorkItem, target: LogTarget) -> LoggedActivity:
    return dataclasses.replace(w.activity, activity_id=w.activity_id(target))


def _found_earlier(
    planned: Sequence[_Planned], existing: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Match Tasks found by the search to planned ones by Who, What and Subject."""
    found: dict[str, str] = {}
    remaining = list(existing)
    for plan in planned:
        if not plan.work.outcome_unknown:
            continue
        fields = plan.draft.fields
        for row in remaining:
            if (
                _same(row.get("WhoId"), fields.get("WhoId"))
                and _same(row.get("WhatId"), fields.get("WhatId"))
                and row.get("Subject") == fields.get("Subject")
            ):
                found[plan.work.target_key(plan.target)] = str(row["Id"])
                remaining.remove(row)
                break
    return found


def _same(first: object, second: object) -> bool:
    if not first and not second:
        return True
    return ids.same_id(str(first or ""), str(second or ""))


def _link_row(batch: _RepBatch, plan: _Planned, sf_id: str, now: datetime) -> dict[str, Any]:
    """One salesforce_links row for a Task created (or found) for a planned item."""
    return {
        "local_type": plan.work.local_type,
        "local_id": plan.work.local_id,
        "target_key": plan.work.target_key(plan.target),
        "org_id": batch.connection.org_id,
        "sobject": "Task",
        "sf_id": sf_id,
        "synced_at": now,
    }


def capabilities_of(profile: OrgProfile) -> OrgCapabilities:
    """The org profile's Task facts in the form the pure Task builder takes."""
    return OrgCapabilities(
        task_fields=tuple(
            TaskFieldInfo(f.name, f.createable, f.updateable, f.length or None)
            for f in profile.task_fields.values()
        ),
        type_picklist=PicklistInfo(profile.task_types, profile.task_type_default),
        task_statuses=tuple(
            TaskStatusValue(s.api_name, s.is_closed, s.sort_order) for s in profile.task_statuses
        ),
    )
