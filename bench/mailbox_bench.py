"""Logging N messages found in a rep's mailbox: IMAP reading, then Salesforce logging.

A local Dovecot holds N messages in the rep's Sent folder, each to a different person the
team knows; the sandbox org holds the matching contacts. The bench prints, separately, the
time the mailbox sync takes to read and record them (IMAP, parsing, the database) and the API
calls and time the logging takes to put them in Salesforce (DESIGN §5: 1,000 emails in at most
3 calls).

Usage: python -m bench.mailbox_bench [N ...]   (default: 1000). Needs dovecot-imapd.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from bench.logging_bench import _org_with_contacts, _served
from bench.support import bench_runtime
from salesync.mailbox import local_dovecot
from salesync.services import mailbox_accounts
from salesync.store.db import unit_of_work
from salesync.store.tables import Person
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.mailbox_sync import MailboxSyncJob
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import add_user, connect

REP = "rep1@salesync.test"


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _message(number: int, to: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = REP, to
    message["Subject"] = f"Checking in #{number}"
    message["Message-ID"] = f"<bench-{number}@salesync.test>"
    message["Date"] = "Mon, 2 Mar 2026 15:00:00 +0000"
    message.set_content("Hello,\n\nDo you have ten minutes this week?\n")
    return message.as_bytes()


def run(count: int) -> tuple[float, int, float, int]:
    """(read seconds, logged, logging seconds, API calls)."""
    org, emails = _org_with_contacts(count)
    served = _served(org)
    sandbox = next(served)
    root = Path(tempfile.mkdtemp(prefix="salesync-bench-mail-"))
    server = local_dovecot.make_dovecot(root)
    server.start()
    try:
        server.add_user(REP, "bench password")
        server.deliver_many(REP, "Sent", [_message(i, a) for i, a in enumerate(emails)])
        with (
            tempfile.TemporaryDirectory() as folder,
            bench_runtime(folder, sandbox.base_url, _Clock()) as runtime,
        ):
            rep = add_user(runtime, REP)
            connect(runtime, sandbox, rep, "rep1")
            now = runtime.clock.now()
            with unit_of_work(runtime.sessions) as session:
                session.add_all(
                    Person(team_id=rep.team_id, owner_id=rep.id, email=a, created_at=now,
                           updated_at=now)
                    for a in emails
                )  # fmt: skip
            admin = add_user(runtime, "admin@salesync.test", admin=True)
            mailbox_accounts.save_team_settings(
                runtime,
                admin,
                mailbox_accounts.TeamMailboxInput(
                    host="127.0.0.1", port=server.imap_port, security="plain",
                    allow_custom_servers=False, internal_domains=(), blocked_domains=(),
                    log_anyone=False,
                ),
            )  # fmt: skip
            mailbox_accounts.save_mailbox(
                runtime,
                rep,
                mailbox_accounts.MailboxInput(username=REP, password="bench password"),
            )
            started = time.perf_counter()
            rounds = MailboxSyncJob(runtime, max_per_round=count).drain()
            read_seconds = time.perf_counter() - started
            logged = sum(r.outcomes["logged"] for r in rounds)
            before = sandbox.api_calls()
            started = time.perf_counter()
            Worker(runtime, [ActivityLoggingHandler(runtime)]).drain()
            log_seconds = time.perf_counter() - started
            calls = sandbox.api_calls() - before
            tasks = Counter(t["WhoId"] for t in sandbox.tasks())
            assert len(tasks) == count and set(tasks.values()) == {1}, "not every message once"
    finally:
        server.stop()
        next(served, None)
    return read_seconds, logged, log_seconds, calls


def main(sizes: list[int]) -> None:
    if not local_dovecot.installed():
        print(local_dovecot.INSTALL_HINT)
        return
    print("Mailbox sync: N messages in the Sent folder, each to a known person")
    print(f"{'messages':>9} {'read (s)':>9} {'logged':>7} {'log (s)':>8} {'API calls':>10}")
    for count in sizes:
        read_seconds, logged, log_seconds, calls = run(count)
        print(f"{count:>9} {read_seconds:>9.2f} {logged:>7} {log_seconds:>8.2f} {calls:>10}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000])
