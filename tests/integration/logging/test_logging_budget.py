"""The reps of one claim share their org's API budget: together they ask for their calls.

A claim's reps are read and checked against the budget together, before any of them has
spent a call; were each checked for one batch's calls alone, every rep of the claim would
pass while the budget had room for one, and the claim would spend past it.
"""

from __future__ import annotations

from sqlalchemy import select, update

from salesync.runtime import Runtime
from salesync.store import connections as connection_store
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus, Team
from salesync.sync.activity_logging import CALLS_PER_BATCH, ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.integration.logging.test_logging_api import contact, send

#: Salesforce's daily allocation in the test, and salesync's share of it (1%): 1,000 calls.
DAILY_MAX = 100_000
SHARE_PERCENT = 1


def test_a_claim_s_reps_of_one_org_spend_no_more_than_the_budget_has_room_for(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    reps = [add_user(runtime, f"rep{n}@salesync.test") for n in (1, 2, 3)]
    for number, rep in enumerate(reps, start=1):
        connect(runtime, sandbox, rep, f"rep{number}")
        send(runtime, rep, [str(contact(sandbox, number)["Email"])])
    now = runtime.clock.now()
    room_for_two = 2 * CALLS_PER_BATCH
    with unit_of_work(runtime.sessions) as session:
        session.execute(update(Team).values(api_budget_share=SHARE_PERCENT))
        org_id = sandbox.org.org_id
        connection_store.record_usage(session, org_id, 10, DAILY_MAX, now=now)
        connection_store.count_calls(session, org_id, 1000 - room_for_two, now=now)

    handler = ActivityLoggingHandler(runtime)
    try:
        assert Worker(runtime, [handler]).run_once() == 3
    finally:
        handler.close()

    with runtime.sessions() as session:
        items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    done = [item for item in items if item.status is OutboxStatus.DONE]
    waiting = [item for item in items if item.status is not OutboxStatus.DONE]
    # Room for two batches' calls: two reps log, the third waits for the budget.
    assert len(done) == 2
    assert [(item.status, item.last_error_code) for item in waiting] == [
        (OutboxStatus.PENDING, "API_BUDGET")
    ]
    assert len(sandbox.tasks()) == 2
