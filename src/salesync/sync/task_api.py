"""What task sync needs from Salesforce, how it opens it, and how it spends the API budget.

:class:`TaskApi` is the small slice of :class:`~salesync.salesforce.client.SalesforceClient`
the task sync calls; the real client satisfies it as is. A failure of a whole call is settled
here for every outbox item it carried, and a revoked sign-in marks the connection broken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from salesync.domain import budget, error_catalog
from salesync.domain.categories import ErrorCategory
from salesync.runtime import Runtime
from salesync.salesforce.errors import RefreshTokenRevoked, SalesforceError
from salesync.salesforce.results import CollectionItemResult, DeletedRecords, Record
from salesync.services import connections
from salesync.store import diagnostics
from salesync.store.tables import OutboxItem, SalesforceConnection, Team
from salesync.sync import budget_gate, clients
from salesync.sync.failures import settle_failure

#: Diagnostics code while the API budget holds task sync back (DESIGN §3 rationing).
BUDGET_CODE = "API_BUDGET_LOW"
#: Failures after which a create may or may not have happened (API-FACTS "Idempotent creates").
UNKNOWN_OUTCOME_CODES = frozenset({error_catalog.NETWORK_TIMEOUT, error_catalog.NETWORK_ERROR})


class TaskApi(Protocol):
    """The Salesforce calls of task sync."""

    def query_all(self, soql: str, *, batch_size: int | None = None) -> Iterator[Record]: ...

    def query_all_large(
        self, soql: str, *, bulk_above: int = ..., booleans: frozenset[str] = ...
    ) -> Iterator[Record]: ...

    def get_deleted(self, sobject: str, start: datetime, end: datetime) -> DeletedRecords: ...

    def create_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[CollectionItemResult]: ...

    def update_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[CollectionItemResult]: ...

    def delete_many(self, record_ids: Sequence[str]) -> list[CollectionItemResult]: ...


#: Opens a :class:`TaskApi` acting as a connection's Salesforce user.
ApiOpener = Callable[[SalesforceConnection], AbstractContextManager[TaskApi]]


def default_opener(runtime: Runtime) -> ApiOpener:
    def open_api(connection: SalesforceConnection) -> AbstractContextManager[TaskApi]:
        return clients.open_client(runtime, connection)

    return open_api


def budget_check(
    session: Session, team: Team, org_id: str, kind: budget.WorkKind, *, calls: int, now: datetime
) -> budget.BudgetDecision:
    """May ``calls`` calls of ``kind`` run now on the org (DESIGN §3: pull yields first)?"""
    return budget_gate.check(session, org_id, team.api_budget_share, kind, calls=calls, now=now)


def record_budget_wait(
    session: Session, team_id: int, user_id: int | None, reason: str, *, now: datetime
) -> None:
    diagnostics.record(
        session,
        team_id=team_id,
        user_id=user_id,
        item_type="task_sync",
        item_id=None,
        code=BUDGET_CODE,
        category="setup",
        message=reason,
        now=now,
    )


def item_error(result: CollectionItemResult) -> tuple[str, ErrorCategory, str]:
    """Code, category and message of a failed collection item."""
    error = result.real_error
    code = error.code if error is not None and error.code else error_catalog.UNKNOWN_CODE
    message = error.message if error is not None else ""
    return code, error_catalog.classify(code), message


def settle_call_failure(
    session: Session,
    items: Sequence[OutboxItem],
    error: SalesforceError,
    *,
    now: datetime,
) -> None:
    """A whole call failed: every item it carried is retried, paused or failed alike."""
    code = error.error_code or error_catalog.UNKNOWN_CODE
    for item in items:
        settle_failure(
            session, item, code=code, category=error.category, message=error.message, now=now
        )


def break_connection_if_revoked(
    runtime: Runtime, connection_id: int, error: SalesforceError
) -> None:
    """A refresh token Salesforce no longer accepts: stop using the connection (CONN-10)."""
    if isinstance(error, RefreshTokenRevoked):
        connections.mark_broken(runtime, connection_id, error.reason.value)
