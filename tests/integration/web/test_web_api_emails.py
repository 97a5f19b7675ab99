"""Sending email and logging calls through the JSON API: bad input is a clear 4xx and changes
nothing; an SMTP refusal is reported and the email is kept as failed, not logged."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import people
from salesync.serving import ServerThread
from salesync.store.tables import Call, OutboxItem, SentEmail, User
from tests.integration.web.test_web_work_activity import add_connection
from tests.integration.web.web_support import token_client


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer(refuse=["bounce@refused.example"])
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


def _counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.sessions() as session:
        return (
            len(session.scalars(select(SentEmail)).all()),
            len(session.scalars(select(Call)).all()),
            len(session.scalars(select(OutboxItem)).all()),
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": [], "subject": "Hi", "body_text": "x"}, "to"),
        ({"to": [{"person_id": 999999}], "subject": "Hi", "body_text": "x"}, "to[0]"),
        ({"to": [{"email": "not-an-address"}], "subject": "Hi", "body_text": "x"}, "to[0]"),
        (
            {
                "to": [{"email": "a@b.example"}],
                "cc": [{"email": "x@@y"}],
                "subject": "Hi",
                "body_text": "x",
            },
            "cc[0]",
        ),
        (
            {
                "to": [{"email": "a@b.example"}],
                "subject": "Hi\r\nBcc: spy@evil.example",
                "body_text": "x",
            },
            "subject",
        ),
        (
            {"to": [{"email": "a@b.example"}], "subject": "Hi", "body_text": "x" * 1_000_001},
            "body_text",
        ),
    ],
)
def test_bad_email_input_is_422_with_the_field_and_nothing_sent_or_stored(
    server: ServerThread,
    runtime: Runtime,
    rep: User,
    mailer: InMemoryMailer,
    body: dict[str, object],
    field: str,
) -> None:
    with token_client(server, rep) as client:
        answer = client.post("/api/v1/emails", json=body)
    assert answer.status_code == 422, answer.text
    fields = [problem.get("field") or "" for problem in answer.json()["detail"]]
    assert any(str(f).startswith(field) or field in str(f) for f in fields), fields
    assert mailer.sent == []
    assert _counts(runtime) == (0, 0, 0)


def test_smtp_refusal_is_reported_and_the_email_is_kept_as_failed_not_logged(
    server: ServerThread, runtime: Runtime, rep: User, mailer: InMemoryMailer
) -> None:
    add_connection(runtime, rep)
    with token_client(server, rep) as client:
        answer = client.post(
            "/api/v1/emails",
            json={"to": [{"email": "bounce@refused.example"}], "subject": "Hi", "body_text": "x"},
        )
        listed = client.get("/api/v1/emails").json()
    assert answer.status_code == 502, answer.text
    assert "was not sent" in answer.json()["detail"]
    assert [(e["status"], e["salesforce"]["state"]) for e in listed] == [("failed", "not_logged")]
    assert _counts(runtime)[2] == 0  # no outbox row: a failed email is never logged as sent


def test_a_sent_email_is_queued_per_recipient_and_a_call_needs_a_known_person(
    server: ServerThread, runtime: Runtime, rep: User, mailer: InMemoryMailer
) -> None:
    add_connection(runtime, rep)
    person = people.create_person(
        runtime, rep, {"email": "pat@prospect.example", "last_name": "Prospect"}
    )
    with token_client(server, rep) as client:
        sent = client.post(
            "/api/v1/emails",
            json={
                "to": [{"person_id": person.id}],
                "cc": [{"email": "cc@prospect.example"}],
                "subject": "Hello",
                "body_text": "x",
            },
        )
        unknown_call = client.post(
            "/api/v1/calls",
            json={
                "person_id": 424242,
                "occurred_at": "2026-03-02T10:00:00+00:00",
                "duration_seconds": 30,
            },
        )
        bad_outcome = client.post(
            "/api/v1/calls",
            json={
                "person_id": person.id,
                "occurred_at": "2026-03-02T10:00:00+00:00",
                "duration_seconds": 30,
                "outcome": "Nonsense",
            },
        )
    assert sent.status_code == 201, sent.text
    assert sent.json()["salesforce"]["state"] == "pending"
    assert len(mailer.sent) == 1
    assert unknown_call.status_code == 422 and bad_outcome.status_code == 422
    assert _counts(runtime) == (1, 0, 2)  # one email, no call, one outbox row per recipient
