"""/healthz, /readyz, /metrics and JSON logs with request ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from salesync.logs import configure_logging
from salesync.runtime import Runtime
from salesync.serving import ServerThread, serve_in_thread
from salesync.store import migrate, outbox
from salesync.store.db import create_db_engine, unit_of_work
from salesync.store.tables import (
    ApiCallCount,
    DiagnosticEntry,
    MailboxAccount,
    OrgApiUsage,
    User,
)
from salesync.web.app import create_app
from tests.integration.web.security_support import (
    CountingHasher,
    admin,
    app,
    counted_runtime,
    hasher,
    rep,
    server,
)
from tests.integration.web.web_support import anonymous_client, csrf_from
from tests.support import FakeClock

__all__ = ["admin", "app", "hasher", "rep", "server"]

METRICS_TOKEN = "scrape-me-please-0123456789"


@pytest.fixture
def runtime(
    engine: Engine, tmp_path: Path, clock: FakeClock, hasher: CountingHasher
) -> Iterator[Runtime]:
    yield from counted_runtime(engine, tmp_path, clock, hasher, metrics_token=METRICS_TOKEN)


def test_healthz_answers_while_the_process_is_up(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_its_migrations(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "reachable", "migrations": "at head"}


def test_readyz_is_503_when_migrations_are_behind(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.db"
    old = create_db_engine(f"sqlite:///{path}")
    migrate.upgrade(old, "29b2d177e49b")  # the first revision only
    old.dispose()
    runtime = next(counted_runtime(old, tmp_path, clock, CountingHasher()))
    with serve_in_thread(create_app(runtime)) as running, anonymous_client(running) as client:
        answer = client.get("/readyz")
    runtime.close()
    assert answer.status_code == 503
    assert answer.json()["migrations"] == "behind"


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path, clock: FakeClock) -> None:
    unreachable = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    runtime = next(counted_runtime(unreachable, tmp_path, clock, CountingHasher()))
    with serve_in_thread(create_app(runtime)) as running, anonymous_client(running) as client:
        answer = client.get("/readyz")
    runtime.close()
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "unreachable"}


def _metrics(server: ServerThread, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with anonymous_client(server) as client:
        return client.get("/metrics", headers=headers)


def test_metrics_need_the_token(server: ServerThread) -> None:
    assert _metrics(server, None).status_code == 401
    assert _metrics(server, "wrong").status_code == 401


def test_metrics_are_off_without_a_token(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    runtime = next(counted_runtime(engine, tmp_path, clock, CountingHasher()))
    with serve_in_thread(create_app(runtime)) as running:
        assert _metrics(running, "anything").status_code == 404
    runtime.close()


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_report_the_queue_api_use_and_problems(
    server: ServerThread, runtime: Runtime, clock: FakeClock, rep: User
) -> None:
    start = clock.now()
    with unit_of_work(runtime.sessions) as session:
        for number in range(3):
            outbox.enqueue(
                session,
                team_id=rep.team_id,
                user_id=rep.id,
                kind="log_email",
                subject_type="email",
                subject_id=number + 1,
                now=start,
            )
        outbox.enqueue(
            session,
            team_id=rep.team_id,
            user_id=rep.id,
            kind="push_task",
            subject_type="reminder_task",
            subject_id=1,
            now=start,
            paused=True,
        )
        session.add(
            OrgApiUsage(org_id="00D000000000001AAA", used=1200, max=15000, observed_at=start)
        )
        session.add(ApiCallCount(org_id="00D000000000001AAA", hour=start, calls=42))
        session.add(
            DiagnosticEntry(
                team_id=rep.team_id,
                user_id=rep.id,
                item_type="email",
                item_id=1,
                code="X",
                category="access_validation",
                message="m",
                first_seen_at=start,
                last_seen_at=start,
            )
        )
        session.add(
            MailboxAccount(
                team_id=rep.team_id,
                user_id=rep.id,
                username="rep",
                password_enc="",
                cursors={},
                last_sync_at=start - timedelta(seconds=30),
                next_sync_at=start,
                created_at=start,
                updated_at=start,
            )
        )
    with unit_of_work(runtime.sessions) as session:
        outbox.claim(
            session,
            worker_id="w1",
            now=start,
            lease=timedelta(minutes=5),
            limit=1,
            kinds=("log_email",),
        )
    clock.advance(seconds=90)
    answer = _metrics(server, METRICS_TOKEN)
    assert answer.status_code == 200
    samples = _samples(answer.text)
    assert samples['salesync_outbox_items{kind="log_email",state="pending"}'] == 2
    assert samples['salesync_outbox_items{kind="log_email",state="in_flight"}'] == 1
    assert samples['salesync_outbox_items{kind="push_task",state="paused"}'] == 1
    assert samples["salesync_outbox_oldest_pending_seconds"] == 90
    assert samples["salesync_active_leases"] == 1
    assert samples['salesync_salesforce_api_calls_24h{org="00D000000000001AAA"}'] == 42
    assert samples['salesync_salesforce_api_remaining{org="00D000000000001AAA"}'] == 13800
    assert samples['salesync_open_problems{category="access_validation"}'] == 1
    assert "# TYPE salesync_sync_batch_seconds histogram" in answer.text
    [lag] = [v for k, v in samples.items() if k.startswith("salesync_mailbox_lag_seconds{")]
    assert lag == 120  # read 30 s before the start, 90 s ago


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    yield stream
    logging.getLogger("salesync").removeHandler(handler)


def test_json_logs_carry_the_request_id_and_no_secret(
    server: ServerThread, rep: User, json_log: io.StringIO
) -> None:
    with anonymous_client(server) as client:
        token = csrf_from(client.get("/login").text)
        form = {"email": rep.email, "password": "hunter2-wrong", "csrf_token": token}
        answer = client.post("/login", data=form)
    assert answer.status_code == 401
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    refused = [line for line in lines if line.get("action") == "sign_in_refused"]
    assert len(refused) == 1
    assert refused[0]["request_id"] == answer.headers["X-Request-ID"]
    assert refused[0]["level"] == "warning"
    assert refused[0]["account"] == rep.email
    assert "hunter2" not in json_log.getvalue()


def test_a_secret_passed_to_a_log_line_is_redacted(json_log: io.StringIO) -> None:
    logging.getLogger("salesync.test").warning(
        "connected", extra={"access_token": "00Dxx!secret", "password": "pw", "org": "00D1"}
    )
    line = json.loads(json_log.getvalue().splitlines()[-1])
    assert line["access_token"] == "[redacted]"
    assert line["password"] == "[redacted]"
    assert line["org"] == "00D1"
    assert "secret" not in json_log.getvalue().replace("[redacted]", "")
