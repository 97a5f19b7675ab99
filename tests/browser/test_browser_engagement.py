"""After the send, in a real browser: the rep sees an open and a click on the email, and once
the person unsubscribes through the email's link, sending to them is refused."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from salesync.services import engagement, people
from salesync.store.db import unit_of_work
from salesync.store.tables import SentEmail
from tests.fixtures_browser import LiveApp, screenshot, sign_in
from tests.fixtures_sandbox import connect

REP = "rep1@salesync.test"
DESKTOP_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def _unique_contact(app: LiveApp) -> dict[str, Any]:
    org = app.sandbox.org
    rows = [dict(r) for r in org.records.rows("Contact") if r.get("Email")]
    counts = Counter(str(r["Email"]).lower() for r in rows)
    counts.update(str(r["Email"]).lower() for r in org.records.rows("Lead") if r.get("Email"))
    return next(r for r in rows if counts[str(r["Email"]).lower()] == 1)


def _send_from_command_center(page: Any, app: LiveApp, to: str, subject: str, offer: str) -> None:
    page.goto(app.url("/command-center"))
    compose = page.locator("#send-email")
    compose.get_by_label("To", exact=True).fill(to)
    compose.get_by_label("Subject").fill(subject)
    compose.get_by_label("Message").fill(f"Here is the offer: {offer}")
    compose.get_by_role("button", name="Send").click()


def test_a_rep_sees_an_open_and_a_click_then_an_unsubscribed_person_is_refused(
    live_app: LiveApp, page: Any, browser: Any
) -> None:
    engagement.save_options(live_app.runtime, live_app.admin, tracking_enabled=True)
    connect(live_app.runtime, live_app.sandbox, live_app.rep, "rep1")
    contact = _unique_contact(live_app)
    values = {"first_name": contact.get("FirstName") or "", "last_name": contact["LastName"]}
    people.create_person(live_app.runtime, live_app.rep, {**values, "email": contact["Email"]})
    sign_in(page, live_app, REP)
    # A page that exists (the recipient's browser has no outside network): our sign-in page.
    offer = live_app.url("/login?from=offer")

    _send_from_command_center(page, live_app, contact["Email"], "The offer", offer)
    expect(page.get_by_role("status").first).to_contain_text("Sent “The offer”")
    [captured] = live_app.mail.wait_for_messages(1)
    message = captured.message
    html = message.get_body(("html",)).get_content()
    pixel = html.split('<img src="')[1].split('"')[0]
    click = message.get_body(("plain",)).get_content().split("Here is the offer: ")[1].split()[0]
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    # The person reads it an hour later (sooner, a click looks like a link scanner's).
    with unit_of_work(live_app.runtime.sessions) as session:
        for email in session.scalars(select(SentEmail)):
            email.sent_at -= dt.timedelta(hours=1)

    # The recipient's own browser: the image loads, then they follow the link.
    # Headless Chromium says so in its user agent (and would count as a machine): the
    # recipient's browser presents itself as a desktop Chrome.
    recipient = browser.new_context(user_agent=DESKTOP_CHROME)
    reader = recipient.new_page()
    reader.set_content(f'<img src="{pixel}" alt="">')
    reader.wait_for_load_state("networkidle")
    reader.goto(click)
    expect(reader).to_have_url(offer)

    page.goto(live_app.url("/command-center#sent-emails"))
    row = page.locator("#sent-emails tr", has_text="The offer")
    expect(row.locator(".eng-opens")).to_contain_text("Opened 1×")
    expect(row.locator(".eng-clicks")).to_contain_text("Clicked 1×")
    expect(row.locator(".eng-link")).to_contain_text(offer)
    page.goto(live_app.url("/activity?kind=email"))
    expect(page.locator(".tl-engagement").first).to_contain_text("Opened 1×")
    screenshot(page, "engagement-open-and-click")

    # The recipient unsubscribes through the email's link (a page, then a button).
    reader.goto(unsubscribe)
    reader.get_by_role("button", name="Unsubscribe").click()
    expect(reader.get_by_role("heading")).to_have_text("Unsubscribed")
    recipient.close()

    _send_from_command_center(page, live_app, contact["Email"], "One more thing", offer)
    problem = page.locator("#send-email")
    expect(problem).to_contain_text("unsubscribed")
    expect(problem).to_contain_text("will not email them again")
    screenshot(page, "engagement-unsubscribed-refused")
    assert len(live_app.mail.messages) == 1
