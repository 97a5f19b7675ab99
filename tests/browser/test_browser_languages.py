"""Sync Settings (the rep's and the team's), Command Center and Diagnostics in Chromium, in
each of salesync's languages: the reader's language is set through ``PATCH /api/v1/me``,
each page says so in ``<html lang>``, shows no text outside its language's catalog (nor an
English id the catalog translates), clips no label, and is saved as a full-page screenshot.

With ``SALESYNC_SAVE_SCREENSHOTS=1`` the screenshots go to ``docs/screenshots/<page>-<language>
.png`` (the README shows one); otherwise to the test's temporary folder, so a test run never
changes the working tree.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from salesync.domain.languages import LANGUAGES
from salesync.services import activities, people, tasks
from salesync.services.mail_accounts import mailer_for
from salesync.store import engagement as engagement_store
from salesync.store.db import unit_of_work
from salesync.store.tables import DiagnosticEntry, SalesforceConnection, User
from tests.fixtures_browser import LiveApp, sign_in
from tests.fixtures_sandbox import connect
from tests.page_text import Data, english_leftovers, foreign_words, parse_page

DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
SAVE_SCREENSHOTS = os.environ.get("SALESYNC_SAVE_SCREENSHOTS") == "1"
#: The pages, as <page name>: (who reads it, path).
PAGES = {
    "sync-settings": ("rep", "/settings/account/salesforce/sync-settings"),
    "team-sync-settings": ("admin", "/settings/admin/salesforce/sync-settings"),
    "command-center": ("rep", "/command-center"),
    "diagnostics": ("rep", "/diagnostics"),
}
#: Labels that must fit their box: a clipped translation hides part of the word.
LABELS = "nav a, button, summary, h1, h2, h3, th, label, .pill"
_CLIPPED = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).display !== "inline")
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => `${el.tagName.toLowerCase()} “${el.innerText.trim()}” ` +
               `(${el.scrollWidth} px of text in ${el.clientWidth} px)`)"""
SETTLE_SECONDS = 30


def _wait_for_entries(app: LiveApp, codes: set[str]) -> None:
    """The worker tries the rep's items and files what failed in Diagnostics."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with app.runtime.sessions() as session:
            found = {entry.code for entry in session.query(DiagnosticEntry)}
        if codes <= found:
            return
        time.sleep(0.25)
    raise AssertionError(f"Diagnostics never showed {codes}")


def _team_engagement_settings(app: LiveApp) -> None:
    """The team's engagement row exists before the test's writes: the worker creates it on its
    first round too, and two first uses at once collide on its key."""
    for _attempt in range(3):
        try:
            with unit_of_work(app.runtime.sessions) as session:
                engagement_store.settings_of(session, app.rep.team_id, now=app.runtime.clock.now())
            return
        except IntegrityError:
            time.sleep(0.2)  # the worker made it meanwhile: read it on the next attempt


@pytest.fixture
def working_day(live_app: LiveApp) -> LiveApp:
    """Connected users, people, tasks, a logged email, and two Diagnostics entries."""
    app = live_app
    _team_engagement_settings(app)
    connect(app.runtime, app.sandbox, app.rep, "rep1")
    connect(app.runtime, app.sandbox, app.admin, "admin")
    nora = people.create_person(
        app.runtime,
        app.rep,
        {"first_name": "Nora", "last_name": "Newlead", "email": "nora@prospect.example.com"},
    ).id
    today = app.runtime.clock.now().date().isoformat()
    for name, priority in (("Call back about the security review", "High"), ("Book", "Normal")):
        values = {"name": name, "due_date": today, "priority": priority, "person_id": nora}
        tasks.create_task(app.runtime, app.rep, values)
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(person_id=nora)],
        subject="Quick question about your rollout",
        body_text="Do you have ten minutes this week?",
    )
    activities.send_email(app.runtime, app.rep, draft, mailer_for(app.runtime, app.rep))
    call = activities.CallDraft(person_id=nora, occurred_at=app.runtime.clock.now(), notes="Hi")
    activities.log_call(app.runtime, app.rep, call)
    # Nobody in Salesforce has Nora's address, and she has no Salesforce id.
    _wait_for_entries(app, {"NO_MATCHING_RECORD", "NO_SALESFORCE_ID"})
    return app


def set_language(page: Any, app: LiveApp, language: str) -> None:
    """The reader's own choice, as scripts and the My Account form make it."""
    page.goto(app.url("/settings/account"))
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    answer = page.request.patch(
        app.url("/api/v1/me"), data={"language": language}, headers={"X-CSRF-Token": token}
    )
    assert answer.ok, answer.text()


def sandbox_data(app: LiveApp) -> list[str]:
    """What the org itself says about the connected users and itself: shown as it is."""
    org = app.sandbox.org
    with app.runtime.sessions() as session:
        connected = {row.sf_username for row in session.query(SalesforceConnection)}
    values = [str(row["Name"]) for row in org.records.rows("Organization")]
    for row in org.records.rows("User"):
        if row.get("Username") in connected:
            values += [str(row[field]) for field in ("Name", "Username", "Email") if row.get(field)]
    return values


def page_data(app: LiveApp) -> Data:
    with app.runtime.sessions() as session:
        return Data.from_database(session, *sandbox_data(app))


@pytest.fixture
def reader(browser: Any) -> Iterator[Any]:
    """A second browser window, for the admin."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot_path(name: str, tmp_path: Path) -> Path:
    if SAVE_SCREENSHOTS:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS / f"{name}.png"
    return tmp_path / f"{name}.png"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_pages_read_entirely_in_the_readers_language(
    working_day: LiveApp, page: Any, reader: Any, language: str, tmp_path: Path
) -> None:
    app = working_day
    readers: dict[str, tuple[Any, User]] = {"rep": (page, app.rep), "admin": (reader, app.admin)}
    for window, user in readers.values():
        sign_in(window, app, user.email)
        set_language(window, app, language)
    problems: list[str] = []
    for name, (who, path) in PAGES.items():
        window = readers[who][0]
        window.goto(app.url(path))
        window.wait_for_load_state("networkidle")
        # Open the cards (Sync Settings keeps them folded), so every label is measured and seen.
        window.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
        texts, lang = parse_page(window.content())
        if lang != language:
            problems.append(f"{name}: <html lang={lang!r}>, not {language!r}")
        data = page_data(app)
        problems += [f"{name}: untranslated: {text}" for text in english_leftovers(texts, language)]
        problems += [
            f"{name}: not in the {language} catalog: {text} ({words})"
            for text, words in foreign_words(texts, language, data)
        ]
        problems += [f"{name}: clipped: {label}" for label in window.evaluate(_CLIPPED, LABELS)]
        window.screenshot(path=str(screenshot_path(f"{name}-{language}", tmp_path)), full_page=True)
    assert not problems, "\n".join(dict.fromkeys(problems))
