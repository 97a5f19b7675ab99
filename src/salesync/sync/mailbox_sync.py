"""The mailbox sync job: lease due mailboxes, read new mail per folder, hand it to the ingest.

Mailboxes are work items with leases (``store.mailboxes.claim``), so any number of workers
share them and a dead worker's mailboxes move on when its lease ends. Per folder a UID cursor
(folder, UIDVALIDITY, last UID) is committed with each chunk; when UIDVALIDITY changes the
folder is read again from the look-back window and the handled-message keys keep anything
from being logged twice. The first connection reads back ``lookback_days`` (7 by default), at
most ``max_per_round`` messages a round, so a full mailbox reaches Salesforce in batches.

A server that cannot be reached or refuses the login marks the mailbox broken, with the
server's answer, on Diagnostics; the next attempt resumes from the cursor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from typing import Any

from salesync.domain.mailbox_rules import FolderRole
from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.mailbox.client import (
    FETCH_CHUNK,
    MailboxConnector,
    MailboxSession,
    inbox_folder,
    sent_folder,
)
from salesync.mailbox.errors import MailboxAuthFailed, MailboxError
from salesync.mailbox.imap import ImapConnector
from salesync.runtime import Runtime
from salesync.services import mailbox_accounts
from salesync.services.mailbox_ingest import Cursor, LeaseLost, ingest_chunk
from salesync.store import diagnostics
from salesync.store import mailboxes as store
from salesync.store.db import unit_of_work
from salesync.store.tables import MailboxAccount
from salesync.sync.mailbox_idle import IdleWatcher, Watch
from salesync.sync.worker import default_worker_id

log = logging.getLogger(__name__)

#: Long enough for a round of a large mailbox; a dead worker's mailboxes return after it.
DEFAULT_LEASE = dt.timedelta(minutes=5)
#: Messages read per folder and round; the rest follow in the next rounds at once.
MAX_PER_ROUND = 1000
#: Mailboxes one worker takes per round.
CLAIM_LIMIT = 5
#: A refused login is not retried at once: servers lock accounts that keep failing.
AUTH_RETRY = dt.timedelta(minutes=30)


@dataclasses.dataclass
class MailboxRound:
    """What one sync of one mailbox did (for logs, tests and the bench)."""

    mailbox_id: int
    outcomes: Counter[str] = dataclasses.field(default_factory=Counter)
    error: str | None = None
    more: bool = False


class MailboxSyncJob:
    """The periodic job that syncs due mailboxes; runs every second, each mailbox when due."""

    name = "mailbox_sync"
    interval_seconds = 1.0

    def __init__(
        self,
        runtime: Runtime,
        *,
        connector: MailboxConnector | None = None,
        worker_id: str | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
        max_per_round: int = MAX_PER_ROUND,
        idle: IdleWatcher | None = None,
    ) -> None:
        self.runtime = runtime
        self.connector: MailboxConnector = connector or ImapConnector()
        self.worker_id = worker_id or default_worker_id()
        self.lease = lease
        self.max_per_round = max_per_round
        #: Watches the Inbox of synced mailboxes whose server offers IDLE (None: poll only).
        self.idle = idle

    def run_once(self) -> None:
        self.sync_due()

    def sync_due(self) -> list[MailboxRound]:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            ids = store.claim(
                session, worker_id=self.worker_id, now=now, lease=self.lease, limit=CLAIM_LIMIT
            )
        return [self.sync_mailbox(mailbox_id) for mailbox_id in ids]

    def drain(self, max_rounds: int = 100) -> list[MailboxRound]:
        """Sync until no mailbox is due (tests, the bench)."""
        rounds: list[MailboxRound] = []
        for _ in range(max_rounds):
            done = self.sync_due()
            if not done:
                break
            rounds.extend(done)
        return rounds

    def sync_mailbox(self, mailbox_id: int) -> MailboxRound:
        """Sync one leased mailbox, then release it with its next due time."""
        result = MailboxRound(mailbox_id)
        with self.runtime.sessions() as session:
            row = session.get(MailboxAccount, mailbox_id)
            if row is None:
                return result
            try:
                address = mailbox_accounts.address_of(session, row)
                auth = mailbox_accounts.credentials_of(self.runtime, row)
            except (ValueError, InvalidInput) as exc:
                self._broken(mailbox_id, "MAILBOX_SETUP", str(exc), AUTH_RETRY)
                result.error = str(exc)
                return result
            team = mailbox_accounts.team_settings_of(session, row.team_id)
            poll = dt.timedelta(seconds=team.poll_seconds)
            lookback = dt.timedelta(days=team.lookback_days)
            overrides = {FolderRole.SENT: row.sent_folder, FolderRole.INBOX: row.inbox_folder}
            cursors: dict[str, Any] = dict(row.cursors)
        try:
            with self.connector.open(address, auth) as mailbox:
                capabilities = mailbox.capabilities
                folders = self._folders(mailbox, overrides)
                for role, folder in folders.items():
                    more = self._sync_folder(mailbox, mailbox_id, role, folder, cursors, lookback)
                    result.outcomes.update(more[1])
                    result.more = result.more or more[0]
        except LeaseLost:
            log.info("mailbox taken over", extra={"action": "mailbox_lease_lost"})
            return result
        except MailboxError as exc:
            retry = AUTH_RETRY if isinstance(exc, MailboxAuthFailed) else poll
            self._broken(mailbox_id, exc.code, exc.message, retry)
            result.error = exc.message
            return result
        except Exception:
            self._release(mailbox_id, self.runtime.clock.now() + poll)
            raise
        self._healthy(mailbox_id, result.more, poll)
        if self.idle is not None and "IDLE" in capabilities:
            self.idle.watch(Watch(mailbox_id, address, auth, folders[FolderRole.INBOX]))
        return result

    def _folders(
        self, mailbox: MailboxSession, overrides: dict[FolderRole, str | None]
    ) -> dict[FolderRole, str]:
        listed = mailbox.folders() if not all(overrides.values()) else []
        sent = overrides[FolderRole.SENT] or sent_folder(listed)
        found = {FolderRole.INBOX: overrides[FolderRole.INBOX] or inbox_folder(listed)}
        if sent is not None:
            found[FolderRole.SENT] = sent
        return dict(sorted(found.items(), key=lambda kv: kv[0] != FolderRole.SENT))

    def _sync_folder(
        self,
        mailbox: MailboxSession,
        mailbox_id: int,
        role: FolderRole,
        folder: str,
        cursors: dict[str, Any],
        lookback: dt.timedelta,
    ) -> tuple[bool, Counter[str]]:
        counts: Counter[str] = Counter()
        state = mailbox.examine(folder)
        cursor = cursors.get(role.value) or {}
        fresh = cursor.get("folder") != folder or cursor.get("uid_validity") != state.uid_validity
        last_uid = 0 if fresh else int(cursor.get("last_uid", 0))
        since_text = None if fresh else cursor.get("since")
        if fresh:
            # First reading, another folder, or UIDVALIDITY changed: the UIDs we knew are
            # meaningless, so read the look-back window again (keys stop any second log).
            since_text = (self.runtime.clock.now() - lookback).date().isoformat()
            counts["folder_reset" if cursor else "folder_first_read"] += 1
        since = dt.date.fromisoformat(since_text) if since_text else None
        uids = mailbox.uids_after(last_uid, since=since)
        taken = uids[: self.max_per_round]
        more = len(uids) > len(taken)
        for start in range(0, len(taken), FETCH_CHUNK):
            chunk = taken[start : start + FETCH_CHUNK]
            messages = mailbox.fetch(chunk)
            done = start + FETCH_CHUNK >= len(taken)
            end_uid = chunk[-1]
            if done and not more and state.uid_next:
                # The look-back is over: older mail with higher UIDs is not read later.
                end_uid = max(end_uid, state.uid_next - 1)
            report = ingest_chunk(
                self.runtime,
                mailbox_id=mailbox_id,
                worker_id=self.worker_id,
                role=role,
                messages=messages,
                cursor=Cursor(folder, state.uid_validity, end_uid),
                # The look-back filter stays until its last chunk is committed.
                since=since_text if more or not done else None,
            )
            counts.update(report.outcomes)
        if not taken and (fresh or since_text):
            end = max(last_uid, (state.uid_next or 1) - 1)
            ingest_chunk(
                self.runtime,
                mailbox_id=mailbox_id,
                worker_id=self.worker_id,
                role=role,
                messages=[],
                cursor=Cursor(folder, state.uid_validity, end),
                since=None,
            )
        return more, counts

    def _healthy(self, mailbox_id: int, more: bool, poll: dt.timedelta) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            row = session.get(MailboxAccount, mailbox_id)
            if row is None:
                return
            if row.status != "ok":  # broken, or new credentials saved since it broke
                diagnostics.resolve_item(session, mailbox_accounts.ITEM_TYPE, mailbox_id, now=now)
            row.status, row.broken_reason, row.last_sync_at = "ok", None, now
            store.release(
                session, mailbox_id, self.worker_id, next_sync_at=now if more else now + poll
            )

    def _broken(self, mailbox_id: int, code: str, message: str, retry: dt.timedelta) -> None:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.sessions) as session:
            row = session.get(MailboxAccount, mailbox_id)
            if row is None:
                return
            row.status, row.broken_reason = "broken", message[:2000]
            diagnostics.record(
                session,
                team_id=row.team_id,
                user_id=row.user_id,
                item_type=mailbox_accounts.ITEM_TYPE,
                item_id=mailbox_id,
                code=code,
                category="authentication" if code == "MAILBOX_AUTH_FAILED" else "intermittent",
                message=tr("Your mailbox cannot be read: {reason}", reason=message),
                now=now,
            )
            store.release(session, mailbox_id, self.worker_id, next_sync_at=now + retry)
        log.warning(
            "mailbox broken",
            extra={"action": "mailbox_broken", "mailbox": mailbox_id, "code": code},
        )

    def _release(self, mailbox_id: int, at: dt.datetime) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            store.release(session, mailbox_id, self.worker_id, next_sync_at=at)
