"""Prometheus metrics: what the database says at scrape time, and what this process measured.

Database figures (outbox depth, oldest pending item, API use per org, open problems, active
leases) are read when ``/metrics`` is scraped, so every web process reports the same numbers
whichever worker did the work. Timings are process-local histograms filled by the workers
running in this process (``salesync serve`` runs one).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from salesync.runtime import Runtime
from salesync.store.tables import (
    ApiCallCount,
    DiagnosticEntry,
    MailboxAccount,
    OrgApiUsage,
    OutboxItem,
    OutboxStatus,
)

#: Process-wide metrics; each app adds a database collector to its own registry on top.
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)

SYNC_BATCH_SECONDS = Histogram(
    "salesync_sync_batch_seconds",
    "Time a worker spent on one batch of outbox items, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
    registry=PROCESS_REGISTRY,
)
PERIODIC_JOB_SECONDS = Histogram(
    "salesync_periodic_job_seconds",
    "Time one run of a periodic job (e.g. polling Salesforce for task changes) took.",
    ["job"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
    registry=PROCESS_REGISTRY,
)
ERRORS = Counter(
    "salesync_errors",
    "Unexpected errors by class: handler crashes, failed periodic jobs, HTTP 5xx answers.",
    ["error_class"],
    registry=PROCESS_REGISTRY,
)


class DatabaseCollector(Collector):
    """Reads the queue, API use and open problems from the database at each scrape."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.runtime.clock.now()
        with self.runtime.sessions() as session:
            depth = session.execute(
                select(OutboxItem.kind, OutboxItem.status, func.count()).group_by(
                    OutboxItem.kind, OutboxItem.status
                )
            ).all()
            oldest = session.scalar(
                select(func.min(OutboxItem.created_at)).where(
                    OutboxItem.status == OutboxStatus.PENDING
                )
            )
            leases = session.scalar(
                select(func.count()).where(
                    OutboxItem.status == OutboxStatus.IN_FLIGHT,
                    OutboxItem.lease_expires_at > now,
                )
            )
            usage = session.execute(select(OrgApiUsage.org_id, OrgApiUsage.used, OrgApiUsage.max))
            calls = session.execute(
                select(ApiCallCount.org_id, func.sum(ApiCallCount.calls))
                .where(ApiCallCount.hour > now - timedelta(hours=24))
                .group_by(ApiCallCount.org_id)
            ).all()
            problems = session.execute(
                select(DiagnosticEntry.category, func.count())
                .where(DiagnosticEntry.resolved_at.is_(None))
                .group_by(DiagnosticEntry.category)
            ).all()
            usage_rows = usage.all()
            mailboxes = session.execute(
                select(
                    MailboxAccount.id, MailboxAccount.last_sync_at, MailboxAccount.created_at
                ).where(MailboxAccount.enabled.is_(True))
            ).all()

        outbox = GaugeMetricFamily(
            "salesync_outbox_items", "Outbox items by kind and state.", labels=["kind", "state"]
        )
        for kind, status, count in depth:
            outbox.add_metric([kind, OutboxStatus(status).value], count)
        yield outbox
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "salesync_outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox item (0 when none is pending).",
            value=max(age, 0.0),
        )
        yield GaugeMetricFamily(
            "salesync_active_leases",
            "Outbox items a worker holds right now under an unexpired lease.",
            value=leases or 0,
        )
        used = GaugeMetricFamily(
            "salesync_salesforce_api_calls_24h",
            "salesync's own Salesforce API calls in the last 24 hours, per org.",
            labels=["org"],
        )
        for org, total in calls:
            used.add_metric([org], float(total or 0))
        yield used
        remaining = GaugeMetricFamily(
            "salesync_salesforce_api_remaining",
            "The org's remaining daily API allocation, as Salesforce last reported it.",
            labels=["org"],
        )
        for org, org_used, org_max in usage_rows:
            remaining.add_metric([org], float(max(org_max - org_used, 0)))
        yield remaining
        open_problems = GaugeMetricFamily(
            "salesync_open_problems",
            "Unresolved Diagnostics entries, by error category.",
            labels=["category"],
        )
        for category, count in problems:
            open_problems.add_metric([category], count)
        yield open_problems
        lag = GaugeMetricFamily(
            "salesync_mailbox_lag_seconds",
            "Seconds since each enabled mailbox was last read (since it was added, if never).",
            labels=["mailbox"],
        )
        for mailbox_id, last_sync_at, created_at in mailboxes:
            lag.add_metric(
                [str(mailbox_id)], max((now - (last_sync_at or created_at)).total_seconds(), 0.0)
            )
        yield lag


def app_registry(runtime: Runtime) -> CollectorRegistry:
    """The registry ``/metrics`` serves: the process metrics plus this runtime's database."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(runtime))
    registry.register(_ProcessMetrics())
    return registry


class _ProcessMetrics(Collector):
    """Serves the process-wide metrics through an app's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS_REGISTRY.collect()
