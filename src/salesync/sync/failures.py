"""What happens to an outbox item when Salesforce (or the network) says no.

The decision is the pure retry policy's; this module applies it to the item and writes the
Diagnostics entry a rep or admin reads, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from salesync.domain import error_catalog, retry_policy
from salesync.domain.categories import ErrorCategory
from salesync.domain.own_codes import own_code
from salesync.store import diagnostics, outbox
from salesync.store.tables import OutboxItem, OutboxStatus


def settle_failure(
    session: Session,
    item: OutboxItem,
    *,
    code: str,
    category: ErrorCategory,
    message: str,
    now: datetime,
    item_type: str | None = None,
    detail: dict[str, object] | None = None,
) -> retry_policy.RetryDecision:
    """Retry later, wait for budget, pause for reconnect, or fail to Diagnostics."""
    attempts = item.attempts + 1
    first = item.first_failed_at or now
    decision = retry_policy.decide_retry(
        category, attempts, first, now, error_code=code, seed=str(item.id)
    )
    entry = error_catalog.lookup(code)
    text = message or entry.message
    own = own_code(code)  # salesync's own reasons carry their own cause and fix
    cause, fix = (own.cause, own.fix) if own is not None else (entry.cause, entry.fix)
    if isinstance(decision, retry_policy.RetryAt):
        outbox.reschedule(item, now=now, at=decision.when, code=code, message=text)
        return decision
    if isinstance(decision, retry_policy.WaitForBudget):
        outbox.reschedule(item, now=now, at=decision.until, code=code, message=text)
    elif isinstance(decision, retry_policy.PauseUntilReconnect):
        outbox.reschedule(item, now=now, at=now, code=code, message=text)
        item.status = OutboxStatus.PAUSED
    else:
        outbox.mark_failed(item, now=now, code=code, message=text)
    diagnostics.record(
        session,
        team_id=item.team_id,
        user_id=item.user_id,
        item_type=item_type or item.subject_type,
        item_id=item.subject_id,
        outbox_id=item.id,
        code=code,
        category=category.value,
        message=text,
        now=now,
        detail={"cause": cause, "fix": fix, **(detail or {})},
    )
    return decision
