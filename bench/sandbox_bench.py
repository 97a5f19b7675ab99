"""Sandbox benchmark: a 2,000-row query page and a 200-record collection insert over real HTTP
against an org holding 100,000 Tasks, plus the process's peak RSS.

Run: ``.venv/bin/python bench/sandbox_bench.py [--tasks N] [--runs N]``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import httpx

from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.sandbox.seed import ADMIN_USERNAME
from salesync.serving import serve_in_thread

API = "/services/data/v59.0"
QUERY = "SELECT Id, Subject, Status, Priority, ActivityDate, OwnerId FROM Task"


def populate(org: Org, count: int) -> float:
    """Store ``count`` Tasks through the write path; returns the seconds it took."""
    started = time.perf_counter()
    task = org.schema.objects["Task"]
    statuses = ["Not Started", "In Progress", "Completed"]
    with org.batch():
        dml = org.dml(mode="system")
        for index in range(count):
            due = date(2026, 1, 1) + timedelta(days=index % 365)
            dml.create(
                task,
                {
                    "Subject": f"Follow up #{index}",
                    "Status": statuses[index % 3],
                    "ActivityDate": due.isoformat(),
                    "Description": "Benchmark task body. " * 5,
                },
            )
    return time.perf_counter() - started


def measure(action: Callable[[], None], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


def query_page(client: httpx.Client) -> Callable[[], None]:
    def run() -> None:
        response = client.get(f"{API}/query", params={"q": QUERY})
        response.raise_for_status()
        assert len(response.json()["records"]) == 2000

    return run


def next_page(client: httpx.Client) -> Callable[[], None]:
    first = client.get(f"{API}/query", params={"q": QUERY}).json()

    def run() -> None:
        response = client.get(first["nextRecordsUrl"])
        response.raise_for_status()
        assert len(response.json()["records"]) == 2000

    return run


def collection_insert(client: httpx.Client) -> Callable[[], None]:
    records = [
        {"attributes": {"type": "Task"}, "Subject": f"Email: hello {i}", "Status": "Completed"}
        for i in range(200)
    ]

    def run() -> None:
        response = client.post(f"{API}/composite/sobjects", json={"records": records})
        response.raise_for_status()
        assert all(item["success"] for item in response.json())

    return run


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    org = Org("empty")
    org.usage.daily_cap = 10_000_000
    populate_seconds = populate(org, args.tasks)
    token = org.issue_token(ADMIN_USERNAME).access_token
    with serve_in_thread(create_sandbox_app(org)) as server:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            rows = [
                ("query, first 2,000-row page", measure(query_page(client), args.runs)),
                ("query, next 2,000-row page", measure(next_page(client), args.runs)),
                ("collection insert, 200 Tasks", measure(collection_insert(client), args.runs)),
            ]
    print(f"org: {org.records.count('Task'):,} Tasks (stored in {populate_seconds:.1f} s)")
    print(f"{'operation':<32}{'median ms':>11}{'min ms':>9}{'max ms':>9}{'runs':>6}")
    for name, timings in rows:
        print(
            f"{name:<32}{statistics.median(timings) * 1000:>11.1f}"
            f"{min(timings) * 1000:>9.1f}{max(timings) * 1000:>9.1f}{len(timings):>6}"
        )
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
