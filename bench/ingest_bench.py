"""Ingest: emails per second through ``POST /api/v1/emails`` in one web process.

The web app runs in its own thread on a real HTTP port (uvicorn), on a SQLite database; SMTP
goes to an in-memory sink, so what is measured is salesync's own work per request: token
check, validation, the email row, its outbox row, the response. A keep-alive client posts
the emails one after another, as an integration would. The bulk endpoint
(``POST /api/v1/emails/logged``, up to 1,000 emails sent elsewhere per request) is measured
beside it.

Usage: python -m bench.ingest_bench [N]   (default 400)
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime

import httpx

from bench.support import bench_runtime
from salesync.clock import SystemClock
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import accounts
from salesync.serving import serve_in_thread
from salesync.store.db import unit_of_work
from salesync.store.tables import ConnectionPurpose, ConnectionStatus, SalesforceConnection, User
from salesync.web.app import create_app


def _rep_with_token(runtime: Runtime) -> tuple[User, str]:
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        user = accounts.add_user(
            session, accounts.NewUser("rep@example.com", "Rep", "long enough password"), now=now
        )
        token = accounts.create_api_token(session, user, "bench", now=now)
        session.add(
            SalesforceConnection(
                team_id=user.team_id,
                user_id=user.id,
                purpose=ConnectionPurpose.USER,
                environment="production",
                login_url="https://login.example",
                instance_url="https://org.example",
                org_id="00D000000000001AAA",
                sf_user_id="005000000000001AAA",
                sf_username="rep@example.com",
                sf_email="rep@example.com",
                access_token_enc=runtime.secret_box.encrypt("token"),
                status=ConnectionStatus.CONNECTED,
                connected_at=now,
                updated_at=now,
            )
        )
    return user, token


def measure(count: int, *, profile: bool = False) -> tuple[float, float]:
    """(emails a second one by one, emails a second through the bulk endpoint)."""
    with tempfile.TemporaryDirectory() as folder:
        with bench_runtime(folder, "https://login.example", SystemClock()) as runtime:
            _, token = _rep_with_token(runtime)
            app = create_app(runtime)
            app.state.mailer_factory = lambda runtime, user: InMemoryMailer()
            headers = {"Authorization": f"Bearer {token}"}
            with (
                serve_in_thread(app) as server,
                httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as http,
            ):

                def send(number: int) -> None:
                    body = {
                        "to": [{"email": f"prospect{number}@example.com"}],
                        "subject": f"Checking in #{number}",
                        "body_text": "Hello, following up on our call.",
                    }
                    http.post("/api/v1/emails", json=body).raise_for_status()

                send(-1)  # warm-up: first-request imports and caches
                profiler = cProfile.Profile() if profile else None
                if profiler:
                    profiler.enable()
                started = time.perf_counter()
                for number in range(count):
                    send(number)
                one_by_one = count / (time.perf_counter() - started)
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
                bulk = _bulk_rate(http, count)
    return one_by_one, bulk


def _bulk_rate(http: httpx.Client, count: int) -> float:
    now = datetime.now(UTC).isoformat()
    items = [
        {
            "to": [{"email": f"elsewhere{number}@example.com"}],
            "subject": f"Sent from the phone #{number}",
            "body_text": "Hello",
            "sent_at": now,
            "message_id": f"<bench-{number}@phone.example>",
        }
        for number in range(count)
    ]
    started = time.perf_counter()
    for start in range(0, count, 1000):
        response = http.post("/api/v1/emails/logged", json={"items": items[start : start + 1000]})
        if response.status_code == 404:
            return float("nan")
        response.raise_for_status()
    return count / (time.perf_counter() - started)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 400
    one, bulk = measure(count, profile="--profile" in sys.argv)
    print(f"POST /api/v1/emails: {one:.0f} emails/s (bar: 200/s); bulk: {bulk:.0f} emails/s")


if __name__ == "__main__":
    main()
