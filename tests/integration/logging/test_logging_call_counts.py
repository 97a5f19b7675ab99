"""DESIGN §5's call-count bar for logging, asserted: 1,000 emails of one rep cost at most 3
API calls once the org is known (lookups, contact roles when opportunities are on, creates)."""

from __future__ import annotations

from collections import Counter

from salesync.runtime import Runtime
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.integration.logging.test_logging_api import send


def test_a_thousand_emails_of_one_rep_cost_at_most_three_calls(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    rep = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, rep, "rep1")
    addresses = [f"prospect{n}@bench.example" for n in range(1001)]
    with sandbox.org.batch():
        for n, address in enumerate(addresses):
            sandbox.org.create_record("Contact", {"LastName": f"P{n}", "Email": address})
    worker = Worker(runtime, [ActivityLoggingHandler(runtime)])
    send(runtime, rep, [addresses[0]])
    worker.drain()  # the first batch learns the org (describe): once per connection
    for address in addresses[1:]:
        send(runtime, rep, [address])
    before = sandbox.api_calls()
    assert worker.run_once() == 1000  # one batch
    calls = sandbox.api_calls() - before
    assert calls <= 3
    assert Counter(t["WhoId"] for t in sandbox.tasks()).most_common(1)[0][1] == 1
    assert len(sandbox.tasks()) == 1001
