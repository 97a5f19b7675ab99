"""A rep in Chromium: connect Salesforce through the org's authorize page, then save each of
their Sync Settings cards (Salesforce API, Email to Salesforce (BCC), task sync)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from salesync.web.api.salesforce import settings_public
from tests.fixtures_browser import LiveApp, screenshot, sign_in
from tests.fixtures_sandbox import connect

REP_SANDBOX_USER = "rep1@sandbox.salesync.test"
SYNC_SETTINGS = "/settings/account/salesforce/sync-settings"


def open_from_gear_menu(page: Any, link: str) -> None:
    """Settings (the gear) → a link of the menu, as a rep finds the pages."""
    page.locator("summary", has_text="Settings").click()
    page.get_by_role("link", name=link).first.click()


def test_a_rep_connects_through_the_authorize_page_and_sees_the_health(
    live_app: LiveApp, page: Any
) -> None:
    sign_in(page, live_app, "rep1@salesync.test")
    open_from_gear_menu(page, "Salesforce · Connections")
    expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
    screenshot(page, "settings-connections-not-connected")

    page.get_by_role("link", name="Connect to Salesforce (production)").click()
    page.wait_for_url(re.compile(r"/services/oauth2/authorize"))
    page.get_by_label(re.compile(re.escape(REP_SANDBOX_USER))).check()
    screenshot(page, "sandbox-authorize")
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(live_app.url("/settings/account/salesforce/connections"))
    expect(page.get_by_text(f"Connected to Salesforce as {REP_SANDBOX_USER}.")).to_be_visible()
    health = page.get_by_role("region", name="Your Salesforce connection")
    expect(health.get_by_text("Connected", exact=True)).to_be_visible()
    expect(health.get_by_text(live_app.sandbox.org.org_id)).to_be_visible()
    expect(health.get_by_text(REP_SANDBOX_USER)).to_be_visible()
    checks = page.locator(".sf-check")
    expect(checks.filter(has_text="API access")).to_contain_text("API access works.")
    screenshot(page, "settings-connections")

    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_text(re.compile(r"^Org checked:"))).to_be_visible()

    page.get_by_text("Disconnect…").click()
    page.get_by_role("button", name="Yes, disconnect from Salesforce").click()
    expect(page.get_by_text(re.compile("^Disconnected from Salesforce"))).to_be_visible()
    expect(page.get_by_role("link", name="Connect to Salesforce (production)")).to_be_visible()


def test_a_rep_saves_the_api_card_activates_bcc_and_turns_on_task_sync(
    live_app: LiveApp, page: Any
) -> None:
    connect(live_app.runtime, live_app.sandbox, live_app.rep, "rep1")
    sign_in(page, live_app, "rep1@salesync.test")
    open_from_gear_menu(page, "Salesforce · Sync Settings")

    page.get_by_role("heading", name="Log Email Activity to Salesforce").click()
    api_logging = page.get_by_label("Log email activity to Salesforce through the API")
    log_replies = page.get_by_label("Log replies")
    expect(log_replies).to_be_visible()
    api_logging.uncheck()
    expect(log_replies).to_be_hidden()  # REPLY-2: only with API logging
    api_logging.check()
    expect(log_replies).to_be_visible()
    page.get_by_label("Log calls").uncheck()
    page.get_by_label("All open opportunities").check()
    page.get_by_label("Create a Lead and log to it").check()
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(page.get_by_label("Log calls")).not_to_be_checked()
    expect(page.get_by_label("All open opportunities")).to_be_checked()
    saved = settings_public(live_app.runtime, live_app.rep).values
    assert (saved["log_calls"], saved["opportunity_mode"], saved["no_match_rule"]) == (
        False,
        "all_open",
        "create_lead",
    )
    screenshot(page, "sync-settings-api")

    page.get_by_role("tab", name="Email to Salesforce (BCC)").click()
    page.get_by_role("textbox", name="Email to Salesforce address").fill(
        "emailtosalesforce@rep1.sandbox.example"
    )
    page.get_by_role("button", name="Activate").click()
    bcc_panel = page.get_by_role("tabpanel", name="Email to Salesforce (BCC)")
    expect(bcc_panel.get_by_text("Active", exact=True)).to_be_visible()
    expect(bcc_panel.get_by_text("emailtosalesforce@rep1.sandbox.example")).to_be_visible()
    assert settings_public(live_app.runtime, live_app.rep).values["logging_mode"] == "bcc"
    page.get_by_role("button", name="Send a test message").click()
    expect(page.locator(".sf-check-result")).to_be_visible()
    screenshot(page, "sync-settings-bcc")

    # A reminder the rep made in Salesforce today: the first import brings it in (TASK-7).
    live_app.sandbox.org.create_record(
        "Task",
        {"Subject": "Call back about pricing", "TaskSubtype": "Task"},
        as_user=REP_SANDBOX_USER,
    )
    page.get_by_role("heading", name="Sync Tasks/Reminders to Salesforce Tasks").click()
    task_card = page.locator("#task-sync")
    expect(task_card.get_by_label("Do not sync to Salesforce tasks")).to_be_checked()
    task_card.get_by_label("Two-way sync").check()
    task_card.get_by_role("button", name="Save").click()
    expect(task_card.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(task_card.get_by_label("Two-way sync")).to_be_checked()
    # The worker runs the first import; the card follows it until the summary shows.
    done = task_card.get_by_text("First import done: 1 Salesforce task from the last 24 hours.")
    expect(done).to_be_visible(timeout=20_000)
    screenshot(page, "sync-settings-tasks")
