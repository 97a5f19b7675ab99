"""No page shows text that bypassed the catalogs.

Every HTML page of the app (its GET routes, enumerated from the app itself) is rendered for
an admin, a rep and a signed-out visitor over a team with people, emails, a call, a task,
a template, Salesforce connections and Diagnostics entries:

* in the pseudo-language ``en-XA``, where every catalog text is in ⟦brackets⟧, no letters
  may stand outside the brackets except data (what the database holds, ids, codes, numbers,
  dates, URLs, the product names);
* in ``ja``, ``zh-Hant`` and ``de``, no text may equal an English catalog id that the
  language translates differently (a lookup that never happened).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from salesync.domain import tracking_tokens
from salesync.domain.languages import PSEUDO_LANGUAGE
from salesync.domain.tracking_tokens import TrackingToken
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import activities, engagement, people, tasks, templates
from salesync.serving import ServerThread
from salesync.store.db import unit_of_work
from salesync.store.tables import SentEmail, User
from tests.integration.web.test_web_work_activity import CONTACT_ID, add_connection
from tests.integration.web.test_web_work_diagnostics import _unmatched_email
from tests.integration.web.web_support import anonymous_client, browser_for
from tests.page_text import Data, Text, english_leftovers, pseudo_leftovers, visible_texts

#: Pages in states the bare routes do not show (the routes themselves are all visited).
MORE_STATES = (
    "/diagnostics?retried=email:{email_id}",
    "/command-center?filter=next_7_days",
    "/command-center?person={person_id}",
    "/activity?kind=call",
    "/people?q=Ada",
    "/no-such-page",
)
_PATH_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class Team:
    """The fixture objects the pages show, and the values of the routes' path parameters."""

    admin: User
    rep: User
    parameters: dict[str, str]


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


@pytest.fixture
def team(runtime: Runtime, admin: User, rep: User, mailer: InMemoryMailer) -> Team:
    add_connection(runtime, rep)
    add_connection(runtime, admin, sf_user_id="005000000000002AAA")
    ada = people.create_person(
        runtime,
        rep,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@acme.test",
            "company": "Analytical Engines",
            "title": "Mathematician",
            "sf_contact_id": CONTACT_ID,
        },
    )
    people.create_person(runtime, admin, {"first_name": "Grace", "email": "grace@navy.test"})
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(person_id=ada.id)], subject="Proposal", body_text="Hi Ada"
    )
    email_id = activities.send_email(runtime, rep, draft, mailer)
    _unmatched_email(runtime, rep, mailer, "nobody@acme.test")
    _unmatched_email(runtime, admin, mailer, "stranger@acme.test")
    now = runtime.clock.now()
    call = activities.CallDraft(person_id=ada.id, occurred_at=now, notes="Talked budgets")
    activities.log_call(runtime, rep, call)
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    tasks.create_task(runtime, rep, {"name": "Follow up with Ada", "due_date": tomorrow})
    tasks.create_task(runtime, rep, {"name": "Overdue check-in", "due_date": "2026-02-01"})
    templates.save_template(runtime, rep, name="Intro", subject="Hello", body="Hi {first_name}")
    with runtime.sessions() as session:
        email = session.get(SentEmail, email_id)
        assert email is not None
        recipient_id = email.recipients[0].id
    unsubscribe = tracking_tokens.sign(
        TrackingToken(tracking_tokens.UNSUBSCRIBE, email_id, recipient_id),
        engagement.tracking_key(runtime),
    )
    parameters = {
        "person_id": str(ada.id),
        "local_type": "email",
        "item_id": str(email_id),
        "email_id": str(email_id),
        "token": unsubscribe,
    }
    return Team(admin, rep, parameters)


def page_paths(app: FastAPI, parameters: dict[str, str]) -> list[str]:
    """The path of every GET route outside the JSON API (whose routes are the ones in the
    OpenAPI schema), its parameters filled."""
    paths: list[str] = []
    for route in iter_route_contexts(app.routes):
        methods = getattr(route, "methods", None) or set()
        if "GET" not in methods or getattr(route, "include_in_schema", True):
            continue
        path: str = route.path
        missing = [name for name in _PATH_PARAMETER.findall(path) if name not in parameters]
        assert not missing, f"{path}: give the test a fixture value for {missing}"
        paths.append(_PATH_PARAMETER.sub(lambda match: parameters[match.group(1)], path))
    return paths


@dataclass(frozen=True)
class Page:
    who: str
    path: str
    html: str = field(repr=False)

    def texts(self) -> list[Text]:
        return visible_texts(self.html)


def rendered_pages(
    runtime: Runtime, server: ServerThread, app: FastAPI, team: Team, language: str
) -> list[Page]:
    """Every HTML page the app answers, for each kind of reader, in ``language`` (the users'
    own choice; the visitor's browser asks for it)."""
    with unit_of_work(runtime.sessions) as session:
        for user in (team.admin, team.rep):
            session.merge(user).language = language
    paths = page_paths(app, team.parameters)
    paths += [state.format(**team.parameters) for state in MORE_STATES]
    pages: list[Page] = []
    for who, client in _clients(server, team):
        client.headers["Accept-Language"] = language
        for path in paths:
            answer = client.get(path)
            if answer.headers.get("content-type", "").startswith("text/html"):
                pages.append(Page(who, path, answer.text))
    return pages


def _clients(server: ServerThread, team: Team) -> Iterator[tuple[str, httpx.Client]]:
    with anonymous_client(server) as visitor:
        yield "visitor", visitor
    for user in (team.rep, team.admin):
        with browser_for(server, user) as browser:
            yield user.role.value, browser


def report(found: list[tuple[Page, Text]]) -> str:
    lines = list(dict.fromkeys(f"{page.who} {page.path}: {text}" for page, text in found))
    return f"{len(lines)} texts not from the catalogs:\n" + "\n".join(lines)


def test_every_page_shows_only_catalog_text_and_data(
    runtime: Runtime, server: ServerThread, app: FastAPI, team: Team
) -> None:
    pages = rendered_pages(runtime, server, app, team, PSEUDO_LANGUAGE)

    shown = {(page.who, page.path.split("?")[0]) for page in pages}
    for path in ("/command-center", "/diagnostics", "/settings/account/salesforce/sync-settings"):
        assert ("rep", path) in shown and ("admin", path) in shown
    assert ("admin", "/settings/admin/salesforce/sync-settings") in shown
    assert ("visitor", "/login") in shown
    with runtime.sessions() as session:
        data = Data.from_database(session)
    found = [(page, text) for page in pages for text in pseudo_leftovers(page.texts(), data)]
    assert not found, report(found)


@pytest.mark.parametrize("language", ["ja", "zh-Hant", "de"])
def test_no_page_shows_an_english_text_the_catalog_translates(
    runtime: Runtime, server: ServerThread, app: FastAPI, team: Team, language: str
) -> None:
    pages = rendered_pages(runtime, server, app, team, language)

    assert pages
    found = [(page, text) for page in pages for text in english_leftovers(page.texts(), language)]
    assert not found, report(found)
