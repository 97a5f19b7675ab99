"""People through the JSON API: CRUD, validation, Salesforce ids, search, paging, visibility."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from salesync.runtime import Runtime
from salesync.services.activities import LOG_CALL
from salesync.serving import ServerThread
from salesync.store.db import unit_of_work
from salesync.store.tables import Call, OutboxItem, OutboxStatus, Person, User
from tests.integration.web.web_support import Team2, browser_for, token_client
from tests.support import FakeClock

# 18-character forms worked out by hand from API-FACTS §2.13: a chunk without capitals
# gives "A", and "00Q00" has its capital at position 2, giving bit 4, "E".
CONTACT_15 = "003000000000001"
CONTACT_18 = "003000000000001AAA"
LEAD_15 = "00Q000000000001"
LEAD_18 = "00Q000000000001EAA"
ACCOUNT_18 = "001000000000001AAA"
OPPORTUNITY_18 = "006000000000001AAA"


def _create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/people", json=fields)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _people_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


def test_create_read_update_delete(server: ServerThread, rep: User, clock: FakeClock) -> None:
    with token_client(server, rep) as client:
        created = _create(
            client,
            first_name=" Grace ",
            last_name="Hopper",
            email="grace@navy.example",
            company="Navy",
            sf_contact_id=CONTACT_15,
            sf_account_id=ACCOUNT_18.lower(),
        )
        assert created["first_name"] == "Grace"
        assert created["owner_id"] == rep.id
        assert created["sf_contact_id"] == CONTACT_18
        assert created["sf_account_id"] == ACCOUNT_18
        assert created["sf_lead_id"] is None
        person_url = f"/api/v1/people/{created['id']}"
        assert client.get(person_url).json() == created

        clock.advance(minutes=5)
        changed = client.patch(person_url, json={"title": "Rear Admiral", "sf_account_id": ""})
        assert changed.status_code == 200
        body = changed.json()
        assert (body["title"], body["sf_account_id"], body["company"]) == (
            "Rear Admiral",
            None,
            "Navy",
        )
        assert body["updated_at"] > body["created_at"]

        assert client.delete(person_url).status_code == 204
        assert client.get(person_url).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"email": "grace@"}, "email", "not a valid email"),
        ({"email": "x@example.com", "sf_lead_id": CONTACT_18}, "sf_lead_id", "Contact id"),
        ({"email": "x@example.com", "sf_contact_id": LEAD_15}, "sf_contact_id", "Lead id"),
        (
            {"email": "x@example.com", "sf_account_id": "001000000000001AAB"},
            "sf_account_id",
            "do not match",
        ),
        (
            {"email": "x@example.com", "sf_opportunity_id": "006-0000000000"},
            "sf_opportunity_id",
            "15 or 18",
        ),
        (
            {"email": "x@example.com", "sf_opportunity_id": "0060000000000001"},
            "sf_opportunity_id",
            "15 or 18",
        ),
        ({"email": "x@example.com", "phone": "1" * 51}, "phone", "longer than 50"),
        (
            {"email": "x@example.com", "first_name": "Line\nbreak"},
            "first_name",
            "control characters",
        ),
        ({"company": "Nameless"}, "email", "email address or a name"),
        ({"email": "x@example.com", "nickname": "Amazing"}, "nickname", "Extra inputs"),
    ],
)
def test_invalid_person_is_422_naming_the_field_and_nothing_is_written(
    server: ServerThread,
    runtime: Runtime,
    rep: User,
    fields: dict[str, str],
    field: str,
    words: str,
) -> None:
    with token_client(server, rep) as client:
        answer = client.post("/api/v1/people", json=fields)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == field
    assert words in problem["message"]
    assert _people_count(runtime) == 0


def test_every_bad_field_is_reported_at_once(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        answer = client.post(
            "/api/v1/people",
            json={"email": "nope", "sf_lead_id": "short", "sf_contact_id": CONTACT_18},
        )
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["detail"]] == ["email", "sf_lead_id"]


def test_update_is_validated_and_changes_nothing_when_refused(
    server: ServerThread, rep: User
) -> None:
    with token_client(server, rep) as client:
        person = _create(client, email="a@example.com", sf_lead_id=LEAD_18)
        url = f"/api/v1/people/{person['id']}"
        refused = client.patch(url, json={"company": "New Co", "sf_lead_id": CONTACT_18})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["field"] == "sf_lead_id"
        emptied = client.patch(url, json={"email": None})
        assert emptied.status_code == 422
        assert client.get(url).json() == person


def test_email_is_unique_in_the_team_whatever_the_case(
    server: ServerThread, admin: User, rep: User
) -> None:
    with token_client(server, rep) as client:
        first = _create(client, email="dup@example.com")
        answer = client.post("/api/v1/people", json={"email": "DUP@example.com"})
        assert answer.status_code == 409
        assert str(first["id"]) in answer.json()["detail"]
        other = _create(client, email="other@example.com")
        moved = client.patch(f"/api/v1/people/{other['id']}", json={"email": "Dup@Example.com"})
        assert moved.status_code == 409
        # Saving a person with its own email again is no conflict.
        assert (
            client.patch(
                f"/api/v1/people/{first['id']}", json={"email": "DUP@example.com"}
            ).status_code
            == 200
        )


def test_search_and_paging(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        for index in range(7):
            _create(client, last_name=f"Person{index}", email=f"p{index}@example.com")
        _create(client, first_name="Ada", last_name="Lovelace", company="Analytical_Engines 100%")
        _create(client, last_name="Contact", sf_contact_id=CONTACT_18)

        page = client.get("/api/v1/people", params={"limit": 3, "offset": 3}).json()
        assert (page["total"], page["limit"], page["offset"]) == (9, 3, 3)
        assert [p["last_name"] for p in page["items"]] == ["Person1", "Person2", "Person3"]

        def found(term: str) -> list[str]:
            return [
                p["last_name"]
                for p in client.get("/api/v1/people", params={"search": term}).json()["items"]
            ]

        assert found("LOVE") == ["Lovelace"]
        assert found("p6@EXAMPLE") == ["Person6"]
        assert found("_engines 100%") == ["Lovelace"]  # LIKE wildcards are literal
        assert found("%") == ["Lovelace"]
        assert found(CONTACT_18.lower()) == ["Contact"]
        assert found("nobody") == []


def test_reps_share_the_teams_people_but_delete_only_their_own(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with token_client(server, admin) as admin_client, token_client(server, rep) as rep_client:
        admins_person = _create(admin_client, email="boss@example.com")
        reps_person = _create(rep_client, email="mine@example.com")
        url = f"/api/v1/people/{admins_person['id']}"

        assert rep_client.get("/api/v1/people").json()["total"] == 2
        assert rep_client.patch(url, json={"title": "CEO"}).status_code == 200
        refused = rep_client.delete(url)
        assert refused.status_code == 403
        assert "owner" in refused.json()["detail"]
        assert rep_client.get(url).json()["title"] == "CEO"

        assert rep_client.delete(f"/api/v1/people/{reps_person['id']}").status_code == 204
        other = _create(rep_client, email="other@example.com")
        assert admin_client.delete(f"/api/v1/people/{other['id']}").status_code == 204
    assert _people_count(runtime) == 1


def test_another_teams_people_do_not_exist_for_a_rep(
    server: ServerThread, runtime: Runtime, rep: User, other_team: Team2
) -> None:
    with token_client(server, other_team.rep) as theirs, token_client(server, rep) as mine:
        hidden = _create(theirs, email="secret@othercorp.example", last_name="Hidden")
        url = f"/api/v1/people/{hidden['id']}"
        assert mine.get(url).status_code == 404
        assert mine.patch(url, json={"title": "Spy"}).status_code == 404
        assert mine.delete(url).status_code == 404
        assert mine.get("/api/v1/people", params={"search": "hidden"}).json()["total"] == 0
        # The same email is free in another team.
        assert (
            mine.post("/api/v1/people", json={"email": "secret@othercorp.example"}).status_code
            == 201
        )
        assert theirs.get(url).json() == hidden


def test_a_person_with_logged_calls_is_not_deleted(
    server: ServerThread, runtime: Runtime, rep: User, clock: FakeClock
) -> None:
    with token_client(server, rep) as client:
        person = _create(client, email="called@example.com")
        with unit_of_work(runtime.sessions) as session:
            session.add(
                Call(
                    team_id=rep.team_id,
                    user_id=rep.id,
                    person_id=person["id"],
                    occurred_at=clock.now(),
                    created_at=clock.now(),
                )
            )
        answer = client.delete(f"/api/v1/people/{person['id']}")
        assert answer.status_code == 409
        assert "1 logged call" in answer.json()["detail"]
    assert _people_count(runtime) == 1


def test_browser_session_uses_the_same_api(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        person = _create(browser, email="from-browser@example.com")
    assert person["owner_id"] == rep.id


def _add_failed_call(runtime: Runtime, rep: User, person_id: int, clock: FakeClock) -> int:
    """A call that could not be logged because its person had no Salesforce id (MATCH-2)."""
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        call = Call(
            team_id=rep.team_id,
            user_id=rep.id,
            person_id=person_id,
            occurred_at=now,
            created_at=now,
        )
        session.add(call)
        session.flush()
        item = OutboxItem(
            team_id=rep.team_id,
            user_id=rep.id,
            kind=LOG_CALL,
            subject_type="call",
            subject_id=call.id,
            status=OutboxStatus.FAILED,
            available_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        session.flush()
        return item.id


def _outbox_status(runtime: Runtime, item_id: int) -> OutboxStatus:
    with runtime.sessions() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        return item.status


def test_a_new_salesforce_id_retries_the_persons_unmatched_activities(
    server: ServerThread, runtime: Runtime, rep: User, clock: FakeClock
) -> None:
    with token_client(server, rep) as client:
        person = _create(client, email="unmatched@example.com")
        item_id = _add_failed_call(runtime, rep, person["id"], clock)
        url = f"/api/v1/people/{person['id']}"
        client.patch(url, json={"title": "VP"})
        assert _outbox_status(runtime, item_id) == OutboxStatus.FAILED
        client.patch(url, json={"sf_contact_id": CONTACT_15})
        assert _outbox_status(runtime, item_id) == OutboxStatus.PENDING


def test_an_import_that_adds_a_salesforce_id_retries_unmatched_activities(
    server: ServerThread, runtime: Runtime, rep: User, clock: FakeClock
) -> None:
    with token_client(server, rep) as client:
        person = _create(client, email="later@example.com")
        item_id = _add_failed_call(runtime, rep, person["id"], clock)
        csv = f"Email,SF Lead ID\nlater@example.com,{LEAD_15}\n".encode()
        answer = client.post("/api/v1/people/import", files={"file": ("p.csv", csv, "text/csv")})
        assert answer.json()["totals"]["updated"] == 1
    assert _outbox_status(runtime, item_id) == OutboxStatus.PENDING
