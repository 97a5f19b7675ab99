"""Bulk intake for integrations: calls and emails sent elsewhere, up to 1,000 per request,
each item answered on its own; the good ones are stored and queued, the bad ones change
nothing."""

from __future__ import annotations

from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.services import people
from salesync.serving import ServerThread
from salesync.store.tables import Call, OutboxItem, OutboxStatus, SentEmail, User
from tests.integration.web.test_web_work_activity import add_connection
from tests.integration.web.web_support import token_client

WHEN = "2026-03-02T10:00:00+00:00"


def _rows(runtime: Runtime) -> tuple[list[Call], list[SentEmail], list[OutboxItem]]:
    with runtime.sessions() as session:
        return (
            list(session.scalars(select(Call))),
            list(session.scalars(select(SentEmail))),
            list(session.scalars(select(OutboxItem))),
        )


def test_bulk_calls_store_the_good_items_and_refuse_the_bad_ones_one_by_one(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    add_connection(runtime, rep)
    person = people.create_person(runtime, rep, {"email": "pat@p.example", "last_name": "P"})
    items = [
        {"person_id": person.id, "occurred_at": WHEN, "duration_seconds": 30, "notes": "first"},
        {"person_id": 424242, "occurred_at": WHEN, "duration_seconds": 30},
        {"person_id": person.id, "occurred_at": WHEN},  # no duration: malformed
        {"person_id": person.id, "occurred_at": WHEN, "duration_seconds": 5, "outcome": "Nope"},
        {"person_id": person.id, "occurred_at": WHEN, "duration_seconds": 60, "notes": "last"},
    ]
    with token_client(server, rep) as client:
        answer = client.post("/api/v1/calls/bulk", json={"items": items})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["id"] is not None for r in results] == [True, False, False, False, True]
    assert (results[1]["field"], results[3]["field"]) == ("person_id", "outcome")
    assert results[2]["field"] == "duration_seconds"
    assert (body["stored"], body["refused"]) == (2, 3)
    calls, _, queued = _rows(runtime)
    assert sorted(c.notes for c in calls) == ["first", "last"]
    assert sorted(i.subject_id for i in queued) == sorted(c.id for c in calls)
    assert {(i.kind, i.status) for i in queued} == {("log_call", OutboxStatus.PENDING)}


def test_bulk_emails_sent_elsewhere_are_logged_not_sent_and_a_resend_is_refused(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    add_connection(runtime, rep)
    items = [
        {
            "to": [{"email": f"p{n}@prospect.example"}],
            "cc": [{"email": "cc@prospect.example"}] if n == 0 else [],
            "subject": f"From my phone {n}",
            "body_text": "Hello",
            "sent_at": WHEN,
            "message_id": f"<phone-{n}@rep.example>",
        }
        for n in range(3)
    ]
    items.append({**items[2], "message_id": "<phone-9@rep.example>", "to": [{"email": "x@@y"}]})
    with token_client(server, rep) as client:
        first = client.post("/api/v1/emails/logged", json={"items": items})
        again = client.post("/api/v1/emails/logged", json={"items": items[:1]})
    assert first.status_code == 200, first.text
    assert [r["id"] is not None for r in first.json()["results"]] == [True, True, True, False]
    assert first.json()["results"][3]["field"] == "to[0]"
    assert again.json()["results"][0]["field"] == "message_id"  # recorded already
    _, emails, queued = _rows(runtime)
    assert sorted(e.subject for e in emails) == [f"From my phone {n}" for n in range(3)]
    assert {e.status for e in emails} == {"sent"}
    assert len(queued) == 4  # one per recipient: the first email has two


def test_more_than_a_thousand_items_are_refused_whole(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    item = {"person_id": 1, "occurred_at": WHEN, "duration_seconds": 1}
    with token_client(server, rep) as client:
        answer = client.post("/api/v1/calls/bulk", json={"items": [item] * 1001})
    assert answer.status_code == 422
    assert _rows(runtime) == ([], [], [])
