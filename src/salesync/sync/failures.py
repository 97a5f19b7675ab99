"""What happens to an outbox item when Salesforce (or the network) says no.

The decision is the pure retry policy's; this module applies it to the item and writes the
Diagnostics entry a rep or admin reads, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Failure:
    """One item of a batch that did not make it, and why (see :func:`settle_failures`)."""

    item: outbox.QueuedItem
    code: str
    category: ErrorCategory
    message: str
    #: Merged into the item's payload (e.g. ``outcome_unknown``).
    payload: dict[str, object] | None = None
    #: Merged into the Diagnostics entry's detail (the object refused, the record gone…).
    detail: dict[str, object] | None = None


def settle_failures(session: Session, failures: Sequence[Failure], *, now: datetime) -> None:
    """:func:`settle_failure` for a whole batch, written in a few set-based statements."""
    settled: list[outbox.Settled] = []
    occurrences: list[diagnostics.Occurrence] = []
    for failure in failures:
        item = failure.item
        decision = retry_policy.decide_retry(
            failure.category,
            item.attempts + 1,
            item.first_failed_at or now,
            now,
            error_code=failure.code,
            seed=str(item.id),
        )
        entry = error_catalog.lookup(failure.code)
        text = failure.message or entry.message
        own = own_code(failure.code)  # salesync's own reasons carry their own cause and fix
        cause, fix = (own.cause, own.fix) if own is not None else (entry.cause, entry.fix)
        payload = {**item.payload, **failure.payload} if failure.payload else None
        if isinstance(decision, retry_policy.RetryAt):
            status, at = OutboxStatus.PENDING, decision.when
        elif isinstance(decision, retry_policy.WaitForBudget):
            status, at = OutboxStatus.PENDING, decision.until
        elif isinstance(decision, retry_policy.PauseUntilReconnect):
            status, at = OutboxStatus.PAUSED, now
        else:
            status, at = OutboxStatus.FAILED, None
        settled.append(outbox.Settled(item.id, status, failure.code, text, at, payload))
        if isinstance(decision, retry_policy.RetryAt):
            continue
        occurrences.append(
            diagnostics.Occurrence(
                team_id=item.team_id,
                user_id=item.user_id,
                item_type=item.subject_type,
                item_id=item.subject_id,
                outbox_id=item.id,
                code=failure.code,
                category=failure.category.value,
                message=text,
                detail={"cause": cause, "fix": fix, **(failure.detail or {})},
            )
        )
    outbox.settle_many(session, settled, now=now)
    diagnostics.record_many(session, occurrences, now=now)
