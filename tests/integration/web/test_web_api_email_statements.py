"""``POST /api/v1/emails`` answers from what it stored, without reading the email back, and
costs a fixed, small number of SQL statements (issue 16: the API ingests at least 200 emails
a second per web process).

Statements are counted with an engine event listener (observing, not patching), from the
request's token check to its answer, so that a new query on the hot path cannot slip in
unnoticed: raising the figure must be a decision.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
from fastapi import FastAPI

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import people, sync_settings
from salesync.serving import ServerThread
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from tests.integration.web.test_web_work_activity import add_connection
from tests.integration.web.web_support import token_client
from tests.support import counted_statements

#: One email to one address by a connected rep: the token's user, the email written and
#: committed before SMTP, then "sent" (returning the rep's connection status) and its outbox
#: row committed together.
STATEMENTS_PER_EMAIL = 10


def counted(runtime: Runtime) -> AbstractContextManager[list[str]]:
    return counted_statements(runtime.engine)


def test_sending_one_email_takes_a_fixed_number_of_statements(
    server: ServerThread, app: FastAPI, runtime: Runtime, rep: User
) -> None:
    mailer = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: mailer
    add_connection(runtime, rep)
    body = {"to": [{"email": "pat@prospect.example"}], "subject": "Hi", "body_text": "Hello"}
    with token_client(server, rep) as client:
        assert client.post("/api/v1/emails", json=body).status_code == 201  # warm
        with counted(runtime) as statements:
            answer = client.post("/api/v1/emails", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "sent"
    assert len(mailer.sent) == 2
    assert len(statements) == STATEMENTS_PER_EMAIL, "\n".join(statements)


@pytest.mark.parametrize("case", ["connected", "not_connected", "bcc", "logging_off", "reply"])
def test_the_answer_to_a_send_is_the_email_as_read_back(
    server: ServerThread, app: FastAPI, runtime: Runtime, admin: User, rep: User, case: str
) -> None:
    """The send's answer is built without reading the email again: it must be exactly what
    ``GET /api/v1/emails/{id}`` answers, whatever the rep's connection and logging mode."""
    app.state.mailer_factory = lambda runtime, user: InMemoryMailer()
    if case != "not_connected":
        add_connection(runtime, rep)
    mode = {"bcc": "bcc", "logging_off": "off"}.get(case)
    if mode is not None:
        with unit_of_work(runtime.sessions) as session:
            attached = session.get(User, admin.id)
            assert attached is not None
            sync_settings.save_team_settings(
                session, attached, defaults={"logging_mode": mode}, now=runtime.clock.now()
            )
    person = people.create_person(
        runtime, rep, {"email": "pat@prospect.example", "last_name": "Prospect"}
    )
    body: dict[str, object] = {
        "to": [{"person_id": person.id}, {"email": "sam@prospect.example"}],
        "cc": [{"email": "cc@prospect.example"}],
        "subject": "Hi",
        "body_text": "Hello",
    }
    with token_client(server, rep) as client:
        if case == "reply":
            first = client.post("/api/v1/emails", json=body)
            assert first.status_code == 201, first.text
            body = {**body, "reply_to_email_id": first.json()["id"]}
        answer = client.post("/api/v1/emails", json=body)
        assert answer.status_code == 201, answer.text
        read_back = client.get(f"/api/v1/emails/{answer.json()['id']}")
    assert answer.json() == read_back.json()
    expected = {
        "connected": "pending",
        "not_connected": "pending",
        "bcc": "not_logged",
        "logging_off": "not_logged",
        "reply": "pending",
    }[case]
    assert answer.json()["salesforce"]["state"] == expected
    assert answer.json()["recipients"] == [
        "pat@prospect.example",
        "sam@prospect.example",
        "cc@prospect.example",
    ]
    if case in ("not_connected", "bcc"):
        assert answer.json()["salesforce"]["reasons"], "the Diagnostics reason is shown"
