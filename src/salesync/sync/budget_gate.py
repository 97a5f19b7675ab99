"""Whether Salesforce work may spend API calls now: the org's usage against the admin's share."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from salesync.domain import budget
from salesync.store import connections as store

#: Usage seen longer ago than this is not trusted to refuse work: Salesforce's window is
#: rolling, and without a call nothing would ever tell us the calls came back.
STALE_USAGE = timedelta(minutes=15)


def check(
    session: Session,
    org_id: str,
    share_percent: int,
    kind: budget.WorkKind,
    *,
    calls: int,
    now: datetime,
) -> budget.BudgetDecision:
    usage = store.usage(session, org_id)
    if usage is None or now - usage.observed_at > STALE_USAGE:
        return budget.Allow()  # the next answer's Sforce-Limit-Info tells us where we are
    ours = store.calls_in_last_day(session, org_id, now=now)
    return budget.budget_decision(
        ours, usage.max, share_percent / 100, kind, calls=calls, org_used=usage.used
    )
