"""An admin in Chromium saves the team cards (a lock, the Activity Detail template with its live
preview, the override, the API budget); then the rep sees the lock with the admin's name."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from salesync.web.api.salesforce import settings_public
from tests.fixtures_browser import LiveApp, screenshot, sign_in
from tests.fixtures_sandbox import connect

TEAM_PAGE = "/settings/admin/salesforce/sync-settings"


def open_card(page: Any, title: str) -> Any:
    page.get_by_role("heading", name=title).click()
    return page.locator("details", has=page.get_by_role("heading", name=title))


def expect_saved(card: Any) -> None:
    expect(card.get_by_role("status").filter(has_text="Saved.")).to_be_visible()


def test_an_admin_saves_the_team_cards_and_the_rep_sees_the_lock(
    live_app: LiveApp, page: Any, browser: Any
) -> None:
    connect(live_app.runtime, live_app.sandbox, live_app.admin, "admin")
    sign_in(page, live_app, "admin@salesync.test")
    page.locator("summary", has_text="Settings").click()
    page.get_by_role("link", name="Salesforce · Sync Settings").first.click()
    page.wait_for_url(live_app.url(TEAM_PAGE))

    card = open_card(page, "Log Email Activity to Salesforce")
    card.get_by_label("Log calls").uncheck()
    card.locator('input[name="lock_log_calls"]').check()
    card.get_by_role("button", name="Save").click()
    card = page.locator("#log-email")
    expect_saved(card)
    expect(card.get_by_text("(locked by Admin)")).to_be_visible()

    card = open_card(page, "Activity Detail Customization")
    template = card.get_by_label("Subject template")
    template.fill("[salesync] ")
    card.get_by_role("button", name="{{activity_type}}").click()
    template.press("End")
    template.press_sequentially(" - ")
    card.get_by_role("button", name="{{activity_subject}}").click()
    # The preview comes from the server's render_subject, exactly what Salesforce gets.
    email_preview = card.locator('[data-sample="Email"]')
    expect(email_preview).to_have_text("[salesync] Email - Quick question about your Q3 rollout")
    template.press("End")
    template.press_sequentially(" {{oops}}")
    expect(card.get_by_text("Unknown dynamic fields: oops")).to_be_visible()
    template.press("End")
    for _ in " {{oops}}":
        template.press("Backspace")
    expect(card.get_by_text("Unknown dynamic fields: oops")).to_be_hidden()
    screenshot(page, "sync-settings-template")
    card.get_by_role("button", name="Save", exact=True).click()
    card = page.locator("#activity-detail")
    expect_saved(card)
    expect(card.get_by_label("Subject template")).to_have_value(
        "[salesync] {{activity_type}} - {{activity_subject}}"
    )

    card = open_card(page, "Override all Salesforce sync settings for my team")
    card.get_by_label("Only allow logging via the Salesforce API").check()
    card.get_by_role("button", name="Save Changes").click()
    card = page.locator("#override")
    expect_saved(card)
    expect(card.get_by_label("Only allow logging via the Salesforce API")).to_be_checked()
    assert settings_public(live_app.runtime, live_app.rep).force_mode == "api_only"
    card.get_by_label("No override: each rep chooses").check()
    card.get_by_role("button", name="Save Changes").click()
    expect_saved(page.locator("#override"))
    assert settings_public(live_app.runtime, live_app.rep).force_mode is None

    card = open_card(page, "API budget")
    card.get_by_label("Share of the org's daily API allocation").fill("35")
    card.get_by_role("button", name="Save").click()
    card = page.locator("#budget")
    expect_saved(card)
    expect(card.get_by_label("Share of the org's daily API allocation")).to_have_value("35")

    page.locator("details.sf-card").evaluate_all("cards => cards.forEach(c => { c.open = true; })")
    screenshot(page, "sync-settings-team")

    connect(live_app.runtime, live_app.sandbox, live_app.rep, "rep1")
    page.get_by_role("link", name="Connections", exact=True).click()
    team = page.get_by_role("region", name="Your team's connections")
    expect(team.get_by_role("row", name="Rep1")).to_contain_text("rep1@sandbox.salesync.test")
    screenshot(page, "settings-connections-team")

    rep_context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        rep_page = rep_context.new_page()
        sign_in(rep_page, live_app, "rep1@salesync.test")
        rep_page.goto(live_app.url("/settings/account/salesforce/sync-settings"))
        card = open_card(rep_page, "Log Email Activity to Salesforce")
        expect(card.get_by_label("Log calls")).to_be_disabled()
        expect(card.get_by_label("Log calls")).not_to_be_checked()
        expect(card.get_by_text("Locked by Admin")).to_be_visible()
        expect(card.get_by_label("Log emails")).to_be_enabled()
        rep_page.mouse.move(0, 0)  # no hover styling in the README picture
        screenshot(rep_page, "sync-settings")
    finally:
        rep_context.close()
