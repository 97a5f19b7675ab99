"""People pages: the list with Salesforce ids, add and edit forms, delete, paging."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store.tables import Person, User
from tests.integration.web.web_support import Team2, browser_for, token_client


def _form_csrf(browser: httpx.Client) -> dict[str, str]:
    return {"csrf_token": browser.headers.pop("X-CSRF-Token")}


def _emails(runtime: Runtime) -> list[str | None]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Person.email).order_by(Person.id)))


def test_list_shows_people_with_their_salesforce_ids(
    server: ServerThread, admin: User, rep: User, other_team: Team2
) -> None:
    with token_client(server, rep) as client:
        client.post(
            "/api/v1/people",
            json={
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.com",
                "sf_contact_id": "003000000000001",
                "sf_opportunity_id": "006000000000001AAA",
            },
        )
    with token_client(server, other_team.rep) as client:
        client.post("/api/v1/people", json={"email": "hidden@othercorp.example"})
    with browser_for(server, admin) as browser:
        html = browser.get("/people").text
    assert "Ada Lovelace" in html
    assert "<code>003000000000001AAA</code>" in html
    assert "<code>006000000000001AAA</code>" in html
    assert "Rex Rep" in html  # the owner
    assert "hidden@othercorp.example" not in html
    assert "1 person" in html


def test_add_form_creates_a_person_and_says_so(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        csrf = _form_csrf(browser)
        form_page = browser.get("/people/new").text
        assert '<label for="person-sf_lead_id">Salesforce Lead ID</label>' in form_page
        answer = browser.post(
            "/people/new", data=csrf | {"email": "new@example.com", "last_name": "New"}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/people"
        assert "Saved New." in browser.get("/people").text
    assert _emails(runtime) == ["new@example.com"]


def test_add_form_shows_every_problem_next_to_its_field_and_keeps_the_input(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        answer = browser.post(
            "/people/new",
            data=_form_csrf(browser)
            | {"email": "bad", "company": "Kept Co", "sf_account_id": "003000000000001"},
        )
    assert answer.status_code == 422
    html = answer.text
    assert 'id="person-email-error"' in html
    assert 'id="person-sf_account_id-error"' in html and "is a Contact id" in html
    assert re.search(r'id="person-email"[^>]*aria-invalid="true"', html, re.S)
    assert 'value="Kept Co"' in html
    assert _emails(runtime) == []


def test_add_form_reports_an_email_already_in_the_team(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        csrf = _form_csrf(browser)
        browser.post("/people/new", data=csrf | {"email": "dup@example.com"})
        answer = browser.post("/people/new", data=csrf | {"email": "DUP@example.com"})
    assert answer.status_code == 409
    assert "already the email of person" in answer.text
    assert _emails(runtime) == ["dup@example.com"]


def test_edit_form_saves_changes(server: ServerThread, runtime: Runtime, rep: User) -> None:
    with browser_for(server, rep) as browser:
        csrf = _form_csrf(browser)
        browser.post("/people/new", data=csrf | {"email": "ed@example.com", "first_name": "Ed"})
        [person_id] = _ids(runtime)
        page = browser.get(f"/people/{person_id}/edit").text
        assert 'value="ed@example.com"' in page
        answer = browser.post(
            f"/people/{person_id}/edit",
            data=csrf
            | {"email": "ed@example.com", "first_name": "Edward", "sf_lead_id": "00Q000000000001"},
        )
        assert answer.status_code == 303
    with runtime.sessions() as session:
        person = session.get(Person, person_id)
        assert person is not None
        assert (person.first_name, person.sf_lead_id) == ("Edward", "00Q000000000001EAA")


def _ids(runtime: Runtime) -> list[int]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Person.id).order_by(Person.id)))


def test_delete_buttons_only_where_allowed_and_delete_works(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with browser_for(server, admin) as admin_browser, browser_for(server, rep) as rep_browser:
        admin_csrf, rep_csrf = _form_csrf(admin_browser), _form_csrf(rep_browser)
        admin_browser.post("/people/new", data=admin_csrf | {"email": "boss@example.com"})
        rep_browser.post("/people/new", data=rep_csrf | {"email": "mine@example.com"})
        boss_id, mine_id = _ids(runtime)
        rep_page = rep_browser.get("/people").text
        assert f'action="/people/{mine_id}/delete"' in rep_page
        assert f'action="/people/{boss_id}/delete"' not in rep_page
        assert rep_browser.post(f"/people/{boss_id}/delete", data=rep_csrf).status_code == 403
        assert rep_browser.post(f"/people/{mine_id}/delete", data=rep_csrf).status_code == 303
        assert f'action="/people/{boss_id}/delete"' in admin_browser.get("/people").text
    assert _emails(runtime) == ["boss@example.com"]


def test_another_teams_person_pages_are_404(
    server: ServerThread, runtime: Runtime, rep: User, other_team: Team2
) -> None:
    with token_client(server, other_team.rep) as client:
        hidden = client.post("/api/v1/people", json={"email": "hidden@othercorp.example"}).json()
    with browser_for(server, rep) as browser:
        csrf = _form_csrf(browser)
        assert browser.get(f"/people/{hidden['id']}/edit").status_code == 404
        edit = browser.post(f"/people/{hidden['id']}/edit", data=csrf | {"email": "x@example.com"})
        assert edit.status_code == 404
        assert browser.post(f"/people/{hidden['id']}/delete", data=csrf).status_code == 404
    assert _emails(runtime) == ["hidden@othercorp.example"]


def test_list_pages_through_many_people(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        for index in range(30):
            client.post("/api/v1/people", json={"last_name": f"P{index:02d}"})
    with browser_for(server, rep) as browser:
        first = browser.get("/people").text
        second = browser.get("/people", params={"page": 2}).text
    assert "Page 1 of 2" in first and "P24" in first and "P25" not in first
    assert "P25" in second and "P29" in second and "P24" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
