"""The email form's To field: people found by name or address, as you type and on sending."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import people
from salesync.serving import ServerThread
from salesync.store.tables import User
from tests.integration.web.web_support import anonymous_client, browser_for, csrf_from


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


@pytest.fixture
def rep_browser(server: ServerThread, rep: User) -> Iterator[httpx.Client]:
    with browser_for(server, rep) as browser:
        yield browser


@pytest.fixture
def team_people(runtime: Runtime, rep: User) -> None:
    for first, last, email, company in (
        ("Ada", "Lovelace", "ada@acme.test", "Acme"),
        ("Ada", "Byron", "byron@other.test", "Other"),
        ("Grace", "Hopper", "grace@navy.test", "Navy"),
    ):
        values = {"first_name": first, "last_name": last, "email": email, "company": company}
        people.create_person(runtime, rep, values)


def _send(browser: httpx.Client, to: str, cc: str = "") -> httpx.Response:
    token = csrf_from(browser.get("/command-center").text)
    form = {"to": to, "cc": cc, "subject": "Hello", "body": "Hi", "csrf_token": token}
    return browser.post("/command-center/emails", data=form)


@pytest.mark.usefixtures("team_people")
def test_type_ahead_finds_people_by_name_email_or_company(rep_browser: httpx.Client) -> None:
    def names(term: str) -> list[str]:
        answer = rep_browser.get("/command-center/recipients", params={"q": term})
        assert answer.status_code == 200
        return [person["name"] for person in answer.json()["people"]]

    assert names("ada") == ["Ada Byron", "Ada Lovelace"]
    assert names("navy") == ["Grace Hopper"]
    assert names("grace@") == ["Grace Hopper"]
    assert names("") == []
    found = rep_browser.get("/command-center/recipients", params={"q": "hopper"}).json()
    assert found["people"] == [
        {"name": "Grace Hopper", "email": "grace@navy.test", "company": "Navy"}
    ]


def test_type_ahead_needs_a_signed_in_user(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/command-center/recipients", params={"q": "ada"})
    assert answer.status_code in (303, 401)


@pytest.mark.usefixtures("team_people")
def test_a_name_is_sent_to_that_persons_address(
    rep_browser: httpx.Client, mailer: InMemoryMailer
) -> None:
    sent = _send(rep_browser, "Grace Hopper, Ada Lovelace <ada@acme.test>", cc="byron@other.test")
    assert sent.status_code == 303, sent.text
    assert [m.email.to for m in mailer.sent] == [["grace@navy.test", "ada@acme.test"]]
    assert [m.email.cc for m in mailer.sent] == [["byron@other.test"]]


@pytest.mark.usefixtures("team_people")
def test_an_unknown_or_ambiguous_name_is_refused_in_the_form(
    rep_browser: httpx.Client, mailer: InMemoryMailer
) -> None:
    unknown = _send(rep_browser, "Alan Turing")
    assert unknown.status_code == 422
    assert "Nobody in your people is named “Alan Turing”" in unknown.text
    ambiguous = _send(rep_browser, "Ada")
    assert ambiguous.status_code == 422
    assert "Several people match “Ada”" in ambiguous.text
    assert mailer.sent == []


def test_the_form_says_names_work_and_loads_the_type_ahead(rep_browser: httpx.Client) -> None:
    page = rep_browser.get("/command-center").text
    assert 'placeholder="Name or email address"' in page
    assert 'data-recipients="/command-center/recipients"' in page
    assert rep_browser.get("/static/recipients.js").status_code == 200
