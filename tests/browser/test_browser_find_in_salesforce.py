"""A rep fills a person's Salesforce ids from the org with one click (MATCH-11)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.fixtures_browser import LiveApp, screenshot, sign_in
from tests.fixtures_sandbox import add_person, connect


def test_find_in_salesforce_fills_the_contact_id(live_app: LiveApp, page: Any) -> None:
    connect(live_app.runtime, live_app.sandbox, live_app.rep, "rep1")
    rows = list(live_app.sandbox.org.records.rows("Contact"))
    emails = Counter(str(r.get("Email") or "").lower() for r in rows)
    emails.update(
        str(r.get("Email") or "").lower() for r in live_app.sandbox.org.records.rows("Lead")
    )
    contact = next(r for r in rows if r.get("Email") and emails[str(r["Email"]).lower()] == 1)
    person = add_person(live_app.runtime, live_app.rep, str(contact["Email"]))
    sign_in(page, live_app, "rep1@salesync.test")
    page.goto(live_app.url(f"/people/{person}"))
    page.get_by_role("button", name="Find in Salesforce").click()
    page.wait_for_url(live_app.url(f"/people/{person}"))
    assert page.get_by_text(f"contact {contact['Id']}").count() >= 1
    link = page.get_by_role("link", name=str(contact["Id"]))
    assert link.get_attribute("href") == f"{live_app.sandbox.base_url}/{contact['Id']}"
    screenshot(page, "person-found-in-salesforce")
