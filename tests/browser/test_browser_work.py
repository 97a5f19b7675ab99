"""The rep's daily pages in a real browser against the live product: an email sent from the
Command Center gets logged, a task completed there is Completed in Salesforce, and an
unmatched email is fixed and retried from Diagnostics."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from playwright.sync_api import expect

from salesync.domain.command_center import DueFilter, date_range
from salesync.domain.settings import TaskSyncMode
from salesync.services import activities, people, task_sync, tasks
from salesync.services.mail_accounts import mailer_for
from tests.fixtures_browser import LiveApp, screenshot, sign_in
from tests.fixtures_sandbox import connect

REP = "rep1@salesync.test"
#: The worker polls every second; give Salesforce round trips a generous margin.
SETTLE_MS = 30_000
T = TypeVar("T")


def _wait_for(what: str, probe: Callable[[], T | None], seconds: float = 30) -> T:
    """Poll ``probe`` until it returns something (the worker runs in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _unique_contact(app: LiveApp, index: int = 0) -> dict[str, Any]:
    """A Contact whose address no other Contact or Lead has, so it matches exactly one."""
    org = app.sandbox.org
    rows = [dict(r) for r in org.records.rows("Contact") if r.get("Email")]
    counts = Counter(str(r["Email"]).lower() for r in rows)
    counts.update(str(r["Email"]).lower() for r in org.records.rows("Lead") if r.get("Email"))
    return [r for r in rows if counts[str(r["Email"]).lower()] == 1][index]


def _person_for(app: LiveApp, contact: dict[str, Any]) -> int:
    values = {
        "first_name": contact.get("FirstName") or "",
        "last_name": contact["LastName"],
        "email": contact["Email"],
    }
    return people.create_person(app.runtime, app.rep, values).id


def test_an_email_from_the_command_center_is_logged_with_a_link(
    live_app: LiveApp, page: Any
) -> None:
    connect(live_app.runtime, live_app.sandbox, live_app.rep, "rep1")
    contact = _unique_contact(live_app)
    _person_for(live_app, contact)
    sign_in(page, live_app, REP)
    page.goto(live_app.url("/command-center"))

    compose = page.locator("#send-email")
    compose.get_by_label("To", exact=True).fill(contact["Email"])
    compose.get_by_label("Subject").fill("Following up on our call")
    compose.get_by_label("Message").fill("Thanks for your time today. The proposal is attached.")
    compose.get_by_role("button", name="Send").click()

    expect(page.get_by_role("status").first).to_contain_text("Sent “Following up on our call”")
    row = page.locator("#sent-emails tr", has_text="Following up on our call")
    # work.js refreshes the pending state in place; no reload.
    expect(row.locator(".sync-state")).to_have_attribute("data-state", "logged", timeout=SETTLE_MS)
    href = row.locator("a.sync-link").get_attribute("href") or ""
    assert href.startswith(f"{live_app.sandbox.base_url}/00T")
    sf_task = live_app.sandbox.org.get_record(href.rsplit("/", 1)[1])
    assert sf_task is not None
    assert sf_task["WhoId"] == contact["Id"]
    assert "Following up on our call" in sf_task["Subject"]


def test_a_task_completed_in_the_command_center_is_completed_in_salesforce(
    live_app: LiveApp, page: Any
) -> None:
    app = live_app
    connect(app.runtime, app.sandbox, app.rep, "rep1")
    task_sync.set_mode(app.runtime, app.rep, TaskSyncMode.TWO_WAY)
    contact = _unique_contact(app, 1)
    person_id = _person_for(app, contact)
    _seed_a_day_of_work(app, person_id, contact["Email"])
    sign_in(page, app, REP)
    page.goto(app.url("/command-center"))

    form = page.locator("#new-task")
    form.get_by_label("Name").fill("Send the pricing sheet")
    form.get_by_label("Priority").select_option("High")
    form.get_by_label("Details").fill("Both plans, annual billing.")
    form.get_by_role("button", name="Add task").click()

    row = page.locator("#tasks .task-row", has_text="Send the pricing sheet")
    expect(row.locator(".sync-state")).to_have_attribute("data-state", "logged", timeout=SETTLE_MS)
    row.get_by_role("button", name="Complete Send the pricing sheet").click()
    expect(page.locator(".task-list.done")).to_contain_text("Send the pricing sheet")

    def completed_in_salesforce() -> dict[str, Any] | None:
        for sf_task in app.sandbox.tasks():
            if "Send the pricing sheet" in str(sf_task.get("Subject")):
                return sf_task if sf_task.get("Status") == "Completed" else None
        return None

    sf_task = _wait_for("the Task to be Completed in Salesforce", completed_in_salesforce)
    assert sf_task["Priority"] == "High"
    assert sf_task["Description"] == "Both plans, annual billing."
    page.goto(app.url("/command-center"))
    expect(page.locator("#sent-emails .sync-state").first).to_have_attribute(
        "data-state", "logged", timeout=SETTLE_MS
    )
    expect(page.locator("#tasks .sync-pending")).to_have_count(0, timeout=SETTLE_MS)
    screenshot(page, "command-center")


def _rep_day(app: LiveApp, offset: int) -> str:
    """The rep's today (in their time zone) plus ``offset`` days, as the forms write it."""
    today = date_range(DueFilter.TODAY, app.rep.time_zone, app.runtime.clock.now()).first
    return (today + dt.timedelta(days=offset)).isoformat()


def _seed_a_day_of_work(app: LiveApp, person_id: int, email: str) -> None:
    """A few tasks and a sent email, so the Command Center looks like a working day."""
    for name, due, priority in (
        ("Call back about the security review", 0, "High"),
        ("Book the onboarding kickoff", 1, "Normal"),
    ):
        values = {
            "name": name,
            "due_date": _rep_day(app, due),
            "priority": priority,
            "person_id": person_id,
        }
        tasks.create_task(app.runtime, app.rep, values)
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(email=email)],
        subject="Next steps after the demo",
        body_text="Here is the recap of today's demo.",
    )
    activities.send_email(app.runtime, app.rep, draft, mailer_for(app.runtime, app.rep))


def test_an_unmatched_email_is_fixed_and_retried_from_diagnostics(
    live_app: LiveApp, page: Any
) -> None:
    app = live_app
    connect(app.runtime, app.sandbox, app.rep, "rep1")
    address = "nora.newlead@prospect.example.com"
    values = {"first_name": "Nora", "last_name": "Newlead", "email": address}
    nora = people.create_person(app.runtime, app.rep, values).id
    sign_in(page, app, REP)
    page.goto(app.url(f"/people/{nora}"))
    page.get_by_role("link", name="Send email").click()
    compose = page.locator("#send-email")
    expect(compose.get_by_label("To", exact=True)).to_have_value(address)
    compose.get_by_label("Subject").fill("Quick question about your rollout")
    compose.get_by_label("Message").fill("Do you have ten minutes this week?")
    compose.get_by_role("button", name="Send").click()
    call = page.locator("#log-call")
    call.get_by_label("Person").select_option(str(nora))
    call.get_by_label("Minutes").fill("3")
    call.get_by_label("Notes").fill("Left a voicemail.")
    call.get_by_role("button", name="Log call").click()
    expect(page.get_by_role("status").first).to_contain_text("Call logged")

    # Nobody in Salesforce has the address, and Nora has no Salesforce id yet.
    group = page.locator(".diag-group", has_text="NO_MATCHING_RECORD")
    no_id = page.locator(".diag-group", has_text="NO_SALESFORCE_ID")
    _reload_until(page, app.url("/diagnostics"), group, no_id)
    expect(group).to_contain_text("No Lead or Contact in Salesforce has this email address")
    expect(group).to_contain_text("Create the Lead or Contact in Salesforce")
    expect(no_id).to_contain_text("Calls are logged by Salesforce ID only")
    screenshot(page, "diagnostics")

    # The fix: the Contact is created in Salesforce, then Retry.
    contact_id = app.sandbox.org.create_record(
        "Contact", {"FirstName": "Nora", "LastName": "Newlead", "Email": address}
    )
    email_link = group.locator("a", has_text="Quick question about your rollout")
    email_anchor = (email_link.get_attribute("href") or "").rsplit("#", 1)[1]
    group.get_by_role("button", name="Retry").click()
    progress = page.locator("#retry-progress")
    expect(progress).to_contain_text("1 logged", timeout=SETTLE_MS)

    # Giving Nora her Contact id on the People page logs the waiting call too.
    page.goto(app.url(f"/people/{nora}/edit"))
    page.get_by_label("Salesforce Contact ID").fill(contact_id)
    page.get_by_role("button", name="Save").click()
    page.goto(app.url(f"/people/{nora}"))
    expect(page.locator(f"#{email_anchor} .sync-state")).to_have_attribute("data-state", "logged")
    call_state = page.locator(".tl-call .sync-state")
    expect(call_state).to_have_attribute("data-state", "logged", timeout=SETTLE_MS)
    contact_link = page.locator(
        "#person-salesforce + dl a, section[aria-labelledby=person-salesforce] a"
    ).first
    assert contact_link.get_attribute("href") == f"{app.sandbox.base_url}/{contact_id}"
    logged = [t for t in app.sandbox.tasks() if t.get("WhoId") == contact_id]
    assert len(logged) == 2  # the email and the call, once each
    screenshot(page, "person-timeline")
    page.goto(app.url("/activity"))
    expect(page.locator(".timeline .sync-state").first).to_be_visible()
    screenshot(page, "activity")


def _reload_until(page: Any, url: str, *locators: Any, seconds: float = 30) -> None:
    """Reload ``url`` until every locator shows (the worker settles the items meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if all(locator.count() for locator in locators) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for locator in locators:
        expect(locator).to_be_visible()
