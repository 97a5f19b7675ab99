"""The in-memory Salesforce org behind the sandbox server, optionally kept in a SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from salesync.sandbox import seed as seeds
from salesync.sandbox.bulk_query import BulkJobBook
from salesync.sandbox.change_events import ChangeEventStream, EventTable
from salesync.sandbox.changes import Change, ChangeLog, DeleteLog
from salesync.sandbox.clock import SandboxClock
from salesync.sandbox.cursors import CursorBook
from salesync.sandbox.dml import Dml, ValidationRule, WriteMode
from salesync.sandbox.e2s_state import EmailToSalesforce
from salesync.sandbox.errors import ApiError
from salesync.sandbox.faults import FaultBook
from salesync.sandbox.ids import IdFactory, normalize_id
from salesync.sandbox.mail_catcher import MailCatcher
from salesync.sandbox.objects import DEFAULT_TASK_TYPES, CustomFieldSpec, standard_objects
from salesync.sandbox.persistence import SqliteStore
from salesync.sandbox.pubsub_hub import PubSubHub
from salesync.sandbox.records import Journal, Record, RecordStore
from salesync.sandbox.schema import PicklistValue, Schema, SObjectDef
from salesync.sandbox.security import UserAccess
from salesync.sandbox.timefmt import stamp
from salesync.sandbox.tokens import AccessToken, TokenBook
from salesync.sandbox.usage import ApiUsage

#: Attributes written to the SQLite meta blob; records and history have their own tables.
_PERSISTED = (
    "org_id",
    "name",
    "seed_name",
    "settings",
    "ids",
    "usage",
    "deletes",
    "admin_user_id",
    "clock",
    "events",
)

#: The org's setup: written in a meta blob of its own, which a data API call's save leaves
#: alone when nothing but data API calls held the org since it was last written (the data
#: API does not change the setup, other than by the additions ``_setup_size`` counts).
_SETUP = ("schema", "access", "tokens", "e2s", "validation_rules")


#: Dead access tokens are forgotten once there are more than this many.
_PRUNE_TOKENS_ABOVE = 1000


class OrgLock:
    """The org's re-entrant lock; it remembers whether anything but a data API call held it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        #: True once anything but ``api_hold`` took the lock (cleared when the setup is saved).
        self.touched = True

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        acquired = self._lock.acquire(blocking, timeout)
        if acquired:
            self._depth += 1
            if self._depth == 1:
                self.touched = True
        return acquired

    def release(self) -> None:
        self._depth -= 1
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    @contextmanager
    def api_hold(self) -> Iterator[None]:
        """Hold the lock for a data API call: it does not count as touching the setup."""
        with self._lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1


@dataclass
class OrgSettings:
    """Knobs of the org that tests and demos change through the control plane."""

    #: Max ids from getUpdated/getDeleted before EXCEEDED_ID_LIMIT (API-FACTS §2.8).
    replication_id_limit: int = 600_000
    #: Access-token lifetime on the sandbox clock (the org's session timeout).
    session_seconds: int = 7200
    #: False models an edition without API access (API_DISABLED_FOR_ORG).
    api_enabled: bool = True
    #: False models an inactive organization (OAuth: "inactive organization").
    active: bool = True
    #: Recycle-bin retention (API-FACTS §6).
    recycle_bin_days: int = 15
    #: The answer to an id-shaped URL segment that names no record of the object: an 18-char
    #: id whose suffix does not fit, or another object's key prefix. API-FACTS §2.13 leaves
    #: it open (404 NOT_FOUND or 400 MALFORMED_ID); NOT_FOUND by default, like a missing id.
    wrong_id_answer: str = "NOT_FOUND"


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None


class Org:
    """A Salesforce org: schema, records, users, OAuth state, limits and logs.

    All state is guarded by ``lock`` (re-entrant); the HTTP layer holds it for a whole request.
    """

    def __init__(
        self, seed: str | None = "empty", *, name: str = "Salesync Sandbox", instance: str = "5g0"
    ) -> None:
        """Build an org and apply ``seed`` (None: no users, no data).

        ``instance`` (3 letters or digits) is part of every id: give two orgs different
        instances when a test needs them to have different org, user and record ids.
        """
        self.lock = OrgLock()
        #: The setup as last written (``_setup_size``); None: not written by this process.
        self._saved_setup: tuple[int, ...] | None = None
        #: Inside :meth:`api_call`: saves leave the SQLite write to the call's own save.
        self._in_api_call = False
        self.clock = SandboxClock()
        self.journal = Journal()
        self.store: SqliteStore | None = None
        self.event_table: EventTable | None = None
        self.faults = FaultBook()
        #: Every message the SMTP listener received (not persisted; see e2s_listener).
        self.mail = MailCatcher()
        #: The Pub/Sub API's settings, open streams and faults (not persisted).
        self.pubsub = PubSubHub()
        #: Bulk API 2.0 query jobs (not persisted).
        self.bulk = BulkJobBook()
        self._init_state(name, instance)
        if seed:
            seeds.apply_seed(self, seed)
        self._start_change_events()

    def _init_state(self, name: str, instance: str) -> None:
        self.name = name
        self.seed_name = ""
        self.settings = OrgSettings()
        self.schema = Schema(standard_objects(DEFAULT_TASK_TYPES))
        self.ids = IdFactory(instance)
        self.records = RecordStore(self.journal)
        self.access: dict[str, UserAccess] = {}
        self.tokens = TokenBook()
        self.usage = ApiUsage()
        self.changes = ChangeLog()
        self.events = ChangeEventStream()
        self.deletes = DeleteLog()
        self.cursors = CursorBook()
        self.validation_rules: list[ValidationRule] = []
        self.admin_user_id = ""
        self.org_id = self.ids.new_id("00D")
        #: Email to Salesforce: the org's switches and each user's address (API-FACTS §4).
        self.e2s = EmailToSalesforce.for_org(self.org_id)
        self._saved_seq = 0
        self._insert_system(
            "Organization",
            {
                "Id": self.org_id,
                "Name": name,
                "OrganizationType": "Developer Edition",
                "IsSandbox": True,
                "InstanceName": "SBX1",
            },
        )

    # persistence

    @classmethod
    def open(cls, path: str | Path, seed: str = "empty", *, instance: str = "5g0") -> Org:
        """Load the org kept in ``path``, or create it there from ``seed``."""
        store = SqliteStore(path)
        loaded = store.load(history_limit=50_000)
        org = cls(seed=None if loaded else seed, instance=instance)
        org.store = store
        org.event_table = EventTable(path)
        if loaded is None:
            org.save(replace_all=True)
            return org
        for attribute, value in loaded.meta.items():
            setattr(org, attribute, value)
        if "e2s" not in loaded.meta:  # a file written before Email to Salesforce existed
            org.e2s = EmailToSalesforce.for_org(org.org_id)
        org.event_table.load(org.events)
        org.records = RecordStore(org.journal)
        for sobject, record in loaded.records:
            org.records.insert(sobject, record)
        org._reindex_all()
        for user in org.records.rows("User"):
            if user["Id"] not in org.e2s.users:
                org.e2s.enrol(user["Id"], str(user["Email"]))
        org.records.dirty.clear()
        org.changes = ChangeLog(listener=org._publish_change_event)
        org.changes.entries.extend(loaded.changes)
        org.changes.next_seq = loaded.changes[-1].seq + 1 if loaded.changes else 1
        org._saved_seq = org.changes.next_seq - 1
        org.journal.clear()
        return org

    def save(self, *, replace_all: bool = False, api_call: bool = False) -> None:
        """Commit the current batch: forget undo actions and write to SQLite when persistent.

        ``api_call``: the save that ends a data API call (:meth:`api_call`); saves of the
        units of work inside it only commit in memory.
        """
        self.journal.clear()
        if self.events.commit(self.clock.now()):
            self.pubsub.notify()
        if self.store is None:
            self.records.dirty.clear()
            return
        if self._in_api_call and not (api_call or replace_all):
            # Committed in memory; the call's own save writes its rows, changes and events
            # once, when it ends (dirty rows and unsaved changes wait for it).
            return
        if self.event_table is not None:  # first: rows past the saved state are dropped on load
            self.event_table.save(self.events, replace_all=replace_all)
        meta = {attribute: getattr(self, attribute) for attribute in _PERSISTED}
        setup_size = self._setup_size()
        setup_unchanged = (
            api_call
            and not replace_all
            and not self.lock.touched
            and self._saved_setup == setup_size
        )
        setup = None if setup_unchanged else {a: getattr(self, a) for a in _SETUP}
        self.store.save(
            meta,
            self.records,
            set(self.records.dirty),
            self.changes.after(self._saved_seq),
            setup=setup,
            replace_all=replace_all,
        )
        self.records.dirty.clear()
        self._saved_seq = self.changes.next_seq - 1
        if setup is not None:
            self._saved_setup = setup_size
            self.lock.touched = False

    def _setup_size(self) -> tuple[int, ...]:
        """What a data API call can change in the setup: users' access entries (``access_of``)
        and OAuth tokens (pruned by ``maintain``)."""
        tokens = self.tokens
        return (len(self.access), len(tokens.access), len(tokens.refresh), len(tokens.codes))

    def reset(self, seed: str | None = None) -> None:
        """Throw all state away and apply ``seed`` (default: the seed last applied)."""
        with self.lock:
            seed_name = seed or self.seed_name or "empty"
            self.journal.clear()
            self.faults = FaultBook()
            self.mail.clear()
            last_replay_id = self.events.last_replay_id
            self._init_state(self.name, self.ids.instance)
            seeds.apply_seed(self, seed_name)
            # Replay ids keep growing, so a subscriber's old id answers REPLAY_ID_EXPIRED.
            self._start_change_events(after=last_replay_id)
            self.save(replace_all=True)

    @contextmanager
    def api_call(self) -> Iterator[None]:
        """Hold the org for one data API call, then save it with one SQLite write.

        Each unit of work inside still commits at once in memory (its undo journal cleared,
        its change events published), but leaves its rows to the call's save: Salesforce
        commits an API call as one transaction, and a composite call of 1,000 creates made
        1,001 writes before.
        """
        with self.lock.api_hold():
            outer = not self._in_api_call
            self._in_api_call = True
            try:
                yield
            finally:
                if outer:
                    self._in_api_call = False
                    self.save(api_call=True)

    @contextmanager
    def batch(self, *, save: bool = True) -> Iterator[None]:
        """Hold the lock for a unit of work; roll it back on error, save it on success."""
        with self.lock:
            savepoint = self.journal.savepoint()
            try:
                yield
            except BaseException:
                self.journal.rollback_to(savepoint)
                raise
            if save:
                self.save()

    # users and permissions

    def add_user(
        self,
        username: str,
        *,
        first_name: str,
        last_name: str,
        email: str,
        active: bool = True,
        access: UserAccess | None = None,
        time_zone: str = "America/Los_Angeles",
    ) -> str:
        """Create a user (users are not writable through the API)."""
        with self.lock:
            user_id = self.ids.new_id("005")
            self._insert_system(
                "User",
                {
                    "Id": user_id,
                    "Username": username,
                    "FirstName": first_name,
                    "LastName": last_name,
                    "Name": f"{first_name} {last_name}".strip(),
                    "Alias": (first_name[:1] + last_name[:4]).lower(),
                    "Email": email,
                    "IsActive": active,
                    "TimeZoneSidKey": time_zone,
                    "UserType": "Standard",
                },
                created_by=user_id,
            )
            self.access[user_id] = access or UserAccess()
            if not self.admin_user_id:
                self.admin_user_id = user_id
            self.e2s.enrol(user_id, email)
            self.publish_e2s_addresses()
            return user_id

    def publish_e2s_addresses(self) -> None:
        """Refresh the User field that exposes Email-to-Salesforce addresses (if exposed)."""
        from salesync.sandbox.email_to_salesforce import publish_addresses

        with self.lock:
            publish_addresses(self)

    def user(self, user_id: str) -> Record | None:
        record = self.records.get(user_id)
        return record if record and self.records.sobject_of(user_id) == "User" else None

    def user_by_username(self, username: str) -> Record | None:
        lowered = username.lower()
        return next(
            (u for u in self.records.rows("User") if str(u["Username"]).lower() == lowered), None
        )

    def user_id(self, username: str) -> str:
        """The id of ``username``; KeyError when there is no such user."""
        found = self.user_by_username(username)
        if found is None:
            raise KeyError(username)
        return str(found["Id"])

    def access_of(self, user_id: str) -> UserAccess:
        return self.access.setdefault(user_id, UserAccess())

    def set_user_active(self, user_id: str, active: bool) -> None:
        with self.lock:
            record = self.user(user_id)
            if record is None:
                raise KeyError(user_id)
            self.records.replace({**record, "IsActive": active})

    # schema

    def sobject(self, name: str) -> SObjectDef | None:
        return self.schema.get(name)

    def add_custom_field(self, spec: CustomFieldSpec) -> None:
        """Declare a custom field; existing rows get its default."""
        with self.lock:
            obj = self.schema.objects[spec.sobject]
            definition = spec.to_field()
            obj.put_field(definition)
            default = False if definition.type == "boolean" else None
            for record in self.records.rows(obj.name):
                record.setdefault(definition.name, default)
                self.records.dirty.add(record["Id"])
            self._reindex(obj)

    def set_task_types(self, values: list[str], default: str | None = None) -> None:
        """Replace the Task Type picklist (org-defined, unrestricted: API-FACTS §1)."""
        with self.lock:
            self.schema.set_picklist("Task", "Type", values, default)

    def set_picklist_table(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Replace the TaskStatus or TaskPriority rows.

        Each row has ApiName and optionally IsDefault and IsClosed (or IsHighPriority).
        """
        with self.lock:
            for record in list(self.records.rows(table)):
                self.records.remove(record["Id"])
            for order, row in enumerate(rows, start=1):
                values = {
                    "Id": self.ids.new_id("01J"),
                    "MasterLabel": row["ApiName"],
                    "SortOrder": order,
                    "IsDefault": False,
                    **row,
                }
                if table == "TaskStatus":
                    values.setdefault("IsClosed", False)
                else:
                    values.setdefault("IsHighPriority", False)
                self._insert_system(table, values)
            self.journal.clear()

    def picklist_rows(self, table: str) -> list[Record]:
        return sorted(self.records.rows(table), key=lambda r: r["SortOrder"])

    def picklist_flags(self, table: str, flag: str) -> dict[str, bool]:
        return {str(r["ApiName"]): bool(r[flag]) for r in self.records.rows(table)}

    def default_picklist_value(self, table: str) -> str | None:
        rows = self.picklist_rows(table)
        default = next((r for r in rows if r["IsDefault"]), rows[0] if rows else None)
        return str(default["ApiName"]) if default else None

    def picklist_values(self, table: str) -> tuple[PicklistValue, ...]:
        return tuple(
            PicklistValue(str(r["ApiName"]), str(r["MasterLabel"]), default=bool(r["IsDefault"]))
            for r in self.picklist_rows(table)
        )

    # records

    def dml(
        self,
        user_id: str | None = None,
        *,
        client: str = "",
        origin: str = "",
        mode: WriteMode = "api",
        now: datetime | None = None,
    ) -> Dml:
        """A writer acting as ``user_id`` (default: the admin)."""
        return Dml(
            self, user_id or self.admin_user_id, client=client, origin=origin, mode=mode, now=now
        )

    def create_record(
        self,
        sobject: str,
        fields: Mapping[str, Any],
        *,
        as_user: str | None = None,
        mode: WriteMode = "ui",
        client: str = "",
    ) -> str:
        """Create a record as ``as_user`` (a username), like an edit made in Salesforce."""
        with self.batch():
            return self.dml(self._as(as_user), client=client, mode=mode).create(
                self._object(sobject), fields
            )

    def update_record(
        self,
        record_id: str,
        fields: Mapping[str, Any],
        *,
        as_user: str | None = None,
        mode: WriteMode = "ui",
        client: str = "",
    ) -> None:
        with self.batch():
            obj = self._object_of(record_id)
            self.dml(self._as(as_user), client=client, mode=mode).update(obj, record_id, fields)

    def delete_record(
        self,
        record_id: str,
        *,
        as_user: str | None = None,
        mode: WriteMode = "ui",
        client: str = "",
    ) -> None:
        with self.batch():
            obj = self._object_of(record_id)
            self.dml(self._as(as_user), client=client, mode=mode).delete(obj, record_id)

    def get_record(self, record_id: str) -> dict[str, Any] | None:
        """A copy of the stored record (all fields, deleted ones too), or None."""
        normalized = normalize_id(record_id)
        with self.lock:
            record = self.records.get(normalized) if normalized else None
            return dict(record) if record else None

    def bump_system_modstamp(self, record_id: str) -> datetime:
        """Move SystemModstamp without LastModifiedDate, as automation does (API-FACTS item 5)."""
        with self.batch():
            obj = self._object_of(record_id)
            record = self.records.get(self._normalized(record_id))
            assert record is not None
            now = stamp(self.clock.now())
            self.records.replace({**record, "SystemModstamp": now})
            self.changes.append(
                self.journal,
                at=now,
                record_id=record["Id"],
                sobject=obj.name,
                change_type="BUMP",
                changed_fields=("SystemModstamp",),
                user_id=self.admin_user_id,
                client="",
                change_origin="",
            )
            return now

    def undelete_record(self, record_id: str, *, as_user: str | None = None) -> None:
        """Restore a record from the Recycle Bin, as a user does in Salesforce."""
        with self.batch():
            obj = self._object_of(record_id)
            record = self.records.get(self._normalized(record_id))
            assert record is not None
            if not record["IsDeleted"]:
                raise ApiError(400, "UNDELETE_FAILED", "Entity is not in the recycle bin")
            now = stamp(self.clock.now())
            self.records.replace({**record, "IsDeleted": False, "SystemModstamp": now})
            self.deletes.undelete(self.journal, record["Id"])
            self.changes.append(
                self.journal,
                at=now,
                record_id=record["Id"],
                sobject=obj.name,
                change_type="UNDELETE",
                changed_fields=("IsDeleted",),
                user_id=self._as(as_user),
                client="",
                change_origin="",
            )

    def inject_gap_event(self, entity: str, change_type: str, record_ids: list[str]) -> int:
        """Publish a gap event (committed at once); returns its replay id."""
        with self.batch():
            obj = self._object(entity)
            ids = [self._well_formed(i) for i in record_ids]
            self.events.publish_gap(self.journal, obj.name, change_type, ids, self.admin_user_id)
        return self.events.last_replay_id

    def convert_lead(self, lead_id: str, *, create_opportunity: bool = False) -> dict[str, str]:
        """Convert a lead: new Contact and Account, tasks move to the contact (MATCH-10)."""
        from salesync.sandbox.conversion import convert_lead

        with self.batch():
            return convert_lead(self, self._normalized(lead_id), create_opportunity)

    # maintenance

    def maintain(self) -> None:
        """Purge the Recycle Bin (15 days) and expired cursors; runs before each request."""
        with self.lock:
            now = self.clock.now()
            cutoff = now - timedelta(days=self.settings.recycle_bin_days)
            for deletion in self.deletes.due_for_purge(cutoff):
                self.purge_deleted(deletion.record_id)
                self.deletes.mark_purged(deletion.deleted_at)
            self.cursors.expire(now)
            self.events.expire(now)
            if len(self.tokens.access) > _PRUNE_TOKENS_ABOVE:
                self.tokens.prune(now)
            self.journal.clear()

    def purge_delete_log(self, before: datetime | None = None) -> int:
        """Empty the Recycle Bin (entries deleted before ``before``, or all): the rows are gone
        for good and getDeleted's earliestDateAvailable moves forward."""
        with self.batch():
            through = before or stamp(self.clock.now())
            purged = self.deletes.due_for_purge(through)
            for deletion in purged:
                self.purge_deleted(deletion.record_id)
            self.deletes.mark_purged(through)
            return len(purged)

    def purge_deleted(self, record_id: str) -> None:
        if self.records.get(record_id) is not None:
            self.records.remove(record_id)
        self.deletes.forget(record_id)

    def earliest_date_available(self) -> datetime:
        """getDeleted's earliestDateAvailable: nothing older than the bin's retention survives."""
        retention_start = self.clock.now() - timedelta(days=self.settings.recycle_bin_days)
        purged = self.deletes.purged_through
        return max(retention_start, purged) if purged else retention_start

    # tokens

    def issue_token(
        self,
        username: str,
        client_id: str = "salesync",
        scope: tuple[str, ...] = ("api", "refresh_token"),
    ) -> IssuedTokens:
        """Mint tokens for ``username`` without an OAuth dance (tests and scripts)."""
        with self.batch():
            user_id = self.user_id(username)
            refresh = (
                self.tokens.new_refresh(user_id, client_id, scope)
                if "refresh_token" in scope
                else None
            )
            access = self.new_access_token(
                user_id, client_id, scope, refresh.token if refresh else None
            )
            return IssuedTokens(access.token, refresh.token if refresh else None)

    def new_access_token(
        self, user_id: str, client_id: str, scope: tuple[str, ...], refresh_token: str | None
    ) -> AccessToken:
        expires = self.clock.now() + timedelta(seconds=self.settings.session_seconds)
        return self.tokens.new_access(
            self.org_id, user_id, client_id, scope, expires, refresh_token
        )

    def authenticate(self, bearer: str) -> str | None:
        """The user id behind a live access token, or None (API-FACTS item 2)."""
        token = self.tokens.access.get(bearer)
        if token is None or not token.valid_at(self.clock.now()) or not self.settings.active:
            return None
        user = self.user(token.user_id)
        return token.user_id if user and user["IsActive"] else None

    # internals

    def _as(self, username: str | None) -> str:
        return self.user_id(username) if username else self.admin_user_id

    def _object(self, name: str) -> SObjectDef:
        obj = self.schema.get(name)
        if obj is None:
            raise KeyError(name)
        return obj

    def _normalized(self, record_id: str) -> str:
        normalized = normalize_id(record_id)
        if normalized is None or self.records.get(normalized) is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return normalized

    @staticmethod
    def _well_formed(record_id: str) -> str:
        normalized = normalize_id(record_id)
        if normalized is None:
            raise ValueError(f"malformed record id {record_id!r}")
        return normalized

    def _start_change_events(self, after: int = 0) -> None:
        """Publish change events from now on: seed data predates the stream."""
        self.events = ChangeEventStream.starting_after(after)
        self.changes.listener = self._publish_change_event

    def _publish_change_event(self, change: Change) -> None:
        record = self.records.get(change.record_id) or {}
        self.events.publish_change(self.journal, change, record, self._object(change.sobject))

    def _object_of(self, record_id: str) -> SObjectDef:
        sobject = self.records.sobject_of(self._normalized(record_id))
        assert sobject is not None
        return self._object(sobject)

    def _insert_system(self, sobject: str, values: Mapping[str, Any], created_by: str = "") -> None:
        obj = self._object(sobject)
        now = stamp(self.clock.now())
        actor = created_by or self.admin_user_id or values["Id"]
        record: Record = dict.fromkeys(obj.fields)
        record.update(
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=actor,
            LastModifiedDate=now,
            LastModifiedById=actor,
            SystemModstamp=now,
        )
        record.update(values)
        self.records.insert(obj.name, record)

    def _reindex(self, obj: SObjectDef) -> None:
        self.records.set_indexed_fields(
            obj.name, [f.name for f in obj.fields.values() if f.indexed]
        )

    def _reindex_all(self) -> None:
        for obj in self.schema.objects.values():
            self._reindex(obj)
