"""Logging N emails: salesync's batched engine vs a naive per-email simple-salesforce script.

Both run against the same kind of sandbox org over real HTTP, one after the other in one
run, and the script prints API calls and wall time for both and their ratio (DESIGN §5:
1,000 emails in at most 3 calls; at least 20 times faster end to end than the naive script).

Each size runs twice: with the sandbox answering at once (a measure of CPU work only) and
with LATENCY_MS added to every API request, a round trip shorter than a real org's
(Salesforce calls typically take 100-300 ms), which is what the API budget saves in practice.

Usage: python -m bench.logging_bench [N ...]   (default: 1000 10000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import requests
import requests.adapters
from simple_salesforce import Salesforce

from bench.support import bench_runtime
from salesync.mail.testing import InMemoryMailer
from salesync.salesforce import oauth
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.sandbox.seed import PASSWORD, username
from salesync.services import activities
from salesync.serving import serve_in_thread
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, connect


def _org_with_contacts(count: int) -> tuple[Org, list[str]]:
    """The demo org plus enough contacts with unique addresses for ``count`` emails."""
    org = Org("demo")
    emails = [f"bench.{i}@prospects.example" for i in range(count)]
    with org.batch():
        for i, address in enumerate(emails):
            org.create_record("Contact", {"LastName": f"Bench{i}", "Email": address})
    return org, emails


def _served(org: Org) -> Iterator[Sandbox]:
    seeded = frozenset(str(row["Id"]) for row in org.records.rows("Task"))
    with serve_in_thread(create_sandbox_app(org)) as server:
        yield Sandbox(org, server.base_url, seeded)


#: Added to every sandbox API request in the second run of each size.
LATENCY_MS = 50
MAX_COUNT_WITH_LATENCY = 2000


def _slow(org: Org, latency_ms: int) -> Org:
    if latency_ms:
        org.faults.add(method="*", path="^/services/data/", latency_ms=latency_ms)
    return org


def run_salesync(count: int, latency_ms: int = 0) -> tuple[int, float]:
    org, emails = _org_with_contacts(count)
    served = _served(org)
    sandbox = next(served)
    with (
        tempfile.TemporaryDirectory() as folder,
        bench_runtime(folder, sandbox.base_url, _Clock()) as clock_runtime,
    ):
        rep = add_user(clock_runtime, "rep1@salesync.test")
        connect(clock_runtime, sandbox, rep, "rep1")
        mailer = InMemoryMailer()
        for address in emails:
            activities.send_email(
                clock_runtime,
                rep,
                activities.EmailDraft(
                    to=[activities.RecipientRef(email=address)],
                    subject="Checking in",
                    body_text="Hello",
                ),
                mailer,
            )
        _slow(org, latency_ms)
        before = sandbox.api_calls()
        started = time.perf_counter()
        Worker(clock_runtime, [ActivityLoggingHandler(clock_runtime)]).drain()
        elapsed = time.perf_counter() - started
        calls = sandbox.api_calls() - before
        logged = Counter(t["WhoId"] for t in sandbox.tasks())
        assert len(logged) == count and set(logged.values()) == {1}, "not every email logged once"
    next(served, None)
    return calls, elapsed


def run_naive(count: int, latency_ms: int = 0) -> tuple[int, float]:
    """What a per-email script does: look the address up, then create one Task."""
    org, emails = _org_with_contacts(count)
    served = _served(org)
    sandbox = next(served)
    # simple-salesforce signs in through SOAP, which the sandbox does not serve; the OAuth
    # password grant gives the same session it would hold.
    with httpx.Client() as http:
        config = oauth.OAuthClientConfig("salesync", "salesync-secret", login_url=sandbox.base_url)
        tokens = oauth.password_login(config, username("rep1"), PASSWORD, http=http)
    session = requests.Session()
    session.mount("https://", _PlainHttp())
    sf = Salesforce(
        instance_url=tokens.instance_url,
        session_id=tokens.access_token,
        session=session,
        version="59.0",
    )
    _slow(org, latency_ms)
    before = sandbox.api_calls()
    started = time.perf_counter()
    for address in emails:
        found = sf.query(f"SELECT Id FROM Contact WHERE Email = '{address}'")
        who = found["records"][0]["Id"]
        sf.Task.create(
            {
                "WhoId": who,
                "Subject": "Email: Checking in",
                "Status": "Completed",
                "TaskSubtype": "Email",
                "Description": "Hello",
            }
        )
    elapsed = time.perf_counter() - started
    calls = sandbox.api_calls() - before
    next(served, None)
    return calls, elapsed


class _PlainHttp(requests.adapters.HTTPAdapter):
    """simple-salesforce always builds https:// URLs; the local sandbox speaks plain HTTP."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        request.url = request.url.replace("https://", "http://", 1)
        return super().send(request, *args, **kwargs)


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def measure_latency(samples: int = 20) -> tuple[float, float]:
    """Seconds from "send" returning to the Task existing in the org, with a live worker."""
    import statistics
    import threading

    org, emails = _org_with_contacts(samples)
    served = _served(org)
    sandbox = next(served)
    delays: list[float] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        bench_runtime(folder, sandbox.base_url, _Clock()) as runtime,
    ):
        rep = add_user(runtime, "rep1@salesync.test")
        connect(runtime, sandbox, rep, "rep1")
        stop = threading.Event()
        worker = Worker(runtime, [ActivityLoggingHandler(runtime)])
        thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
        thread.start()
        mailer = InMemoryMailer()
        for address in emails:
            before = len(sandbox.tasks())
            activities.send_email(
                runtime,
                rep,
                activities.EmailDraft(
                    to=[activities.RecipientRef(email=address)],
                    subject="Quick one",
                    body_text="Hello",
                ),
                mailer,
            )
            sent = time.perf_counter()
            while len(sandbox.tasks()) == before:
                time.sleep(0.005)
            delays.append(time.perf_counter() - sent)
        stop.set()
        thread.join(timeout=10)

    next(served, None)
    delays.sort()
    return statistics.median(delays), delays[max(0, int(len(delays) * 0.95) - 1)]


def main(sizes: list[int]) -> None:
    p50, p95 = measure_latency()
    print(f"lone email, send to Task in the org: p50 {p50:.2f} s, p95 {p95:.2f} s (bar: 2 s)")
    print(
        f"{'emails':>7} {'latency':>8} | {'salesync calls':>14} {'time s':>8} | "
        f"{'naive calls':>11} {'time s':>8} | {'calls ratio':>11} {'speed ratio':>11}"
    )
    for count in sizes:
        # The naive script needs count * 2 * LATENCY_MS of waiting alone: keep that run small.
        for latency in (0, LATENCY_MS) if count <= MAX_COUNT_WITH_LATENCY else (0,):
            ours_calls, ours_time = run_salesync(count, latency)
            naive_calls, naive_time = run_naive(count, latency)
            print(
                f"{count:>7} {latency:>6}ms | {ours_calls:>14} {ours_time:>8.2f} | "
                f"{naive_calls:>11} {naive_time:>8.2f} | "
                f"{naive_calls / max(ours_calls, 1):>10.0f}x {naive_time / ours_time:>10.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 10000])
