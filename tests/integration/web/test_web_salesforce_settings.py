"""Settings → Salesforce pages over HTTP: Connections, the rep's Sync Settings cards and the
admin's team cards (defaults, locks, template, override, budget)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from salesync.runtime import Runtime
from salesync.services import connections
from salesync.serving import ServerThread
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    SalesforceConnection,
    User,
)
from tests.integration.web.web_support import browser_for, csrf_from

MINE = "/settings/account/salesforce/sync-settings"
TEAM = "/settings/admin/salesforce/sync-settings"
CONNECTIONS = "/settings/account/salesforce/connections"


def post_form(browser: httpx.Client, path: str, data: dict[str, Any]) -> httpx.Response:
    """Post a page form the way the browser does: with the CSRF token of the page."""
    token = csrf_from(browser.get("/settings").text)
    return browser.post(path, data={"csrf_token": token, **data})


def my_settings(browser: httpx.Client) -> dict[str, Any]:
    answer = browser.get("/api/v1/salesforce/settings")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def option_input(html: str, name: str) -> str:
    """The <input> tag of an option's checkbox."""
    match = re.search(rf'<input type="checkbox" id="opt-{name}"[^>]*>', html)
    assert match, f"no checkbox for {name}"
    return match.group(0)


API_CARD_ALL_ON = {
    "api_logging": "on",
    "log_emails": "on",
    "log_replies": "on",
    "log_calls": "on",
    "log_to_leads": "on",
    "log_to_contacts": "on",
    "opportunity_mode": "off",
    "duplicate_rule": "most_activity",
    "no_match_rule": "skip",
}


# -- Connections ---------------------------------------------------------------------------


def test_an_unconnected_rep_is_offered_production_and_sandbox(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        html = browser.get(CONNECTIONS).text
    assert "Not connected" in html
    assert 'href="/salesforce/connect?environment=production&amp;back=account"' in html
    assert 'href="/salesforce/connect?environment=sandbox&amp;back=account"' in html
    assert "Disconnect" not in html
    assert "Team sync connection" not in html


def store_connection(runtime: Runtime, user: User, environment: str = "sandbox") -> int:
    """A connection row as connecting would leave it (no Salesforce needed to show it)."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = SalesforceConnection(
            team_id=user.team_id,
            user_id=user.id,
            purpose=ConnectionPurpose.USER,
            environment=environment,
            login_url="https://test.salesforce.com",
            instance_url="https://acme--dev.sandbox.my.salesforce.com",
            org_id="00D000000000001EAA",
            sf_user_id="005000000000001AAA",
            sf_username="rex@acme.com.dev",
            sf_email="rex@example.com",
            access_token_enc=runtime.secret_box.encrypt("token"),
            refresh_token_enc=None,
            status=ConnectionStatus.CONNECTED,
            org_profile={
                "checks": [{"key": "task_type", "level": "warning", "text": "Add Reply."}]
            },
            connected_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


def test_a_broken_connection_says_why_and_offers_reconnect(
    server: ServerThread, runtime: Runtime, rep: User, admin: User
) -> None:
    connection_id = store_connection(runtime, rep)
    with browser_for(server, rep) as browser:
        healthy = browser.get(CONNECTIONS).text
        connections.mark_broken(
            runtime, connection_id, "invalid_grant: expired access/refresh token"
        )
        broken = browser.get(CONNECTIONS).text
    with browser_for(server, admin) as browser:
        team = browser.get("/settings/admin/salesforce/connections").text
    assert ">Connected</span>" in healthy
    assert "<code>00D000000000001EAA</code>" in healthy
    assert "rex@acme.com.dev" in healthy
    assert "Type picklist" in healthy and "Add Reply." in healthy
    assert "1 to fix" in healthy
    assert "Yes, disconnect from Salesforce" in healthy
    assert ">Needs reconnecting</span>" in broken
    assert "invalid_grant: expired access/refresh token" in broken
    assert 'href="/salesforce/connect?environment=sandbox&amp;back=account">Reconnect</a>' in broken
    assert "Needs reconnecting" in team and "rex@acme.com.dev" in team


def test_connect_sends_the_browser_to_the_sandbox_login_host(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        answer = browser.get("/salesforce/connect?environment=sandbox")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("https://test.salesforce.com/services/oauth2/")


def test_only_an_admin_connects_the_team_sync_connection(
    server: ServerThread, rep: User, admin: User
) -> None:
    with browser_for(server, rep) as browser:
        refused = browser.get("/salesforce/connect?purpose=team_sync&back=admin")
    with browser_for(server, admin) as browser:
        allowed = browser.get("/salesforce/connect?purpose=team_sync&back=admin")
        page = browser.get("/settings/admin/salesforce/connections").text
    assert refused.status_code == 403
    assert allowed.status_code == 303
    assert "Team sync connection" in page
    assert "Your team's connections" in page
    assert "Rex Rep" in page


def test_the_round_trip_returns_to_the_connections_page_it_started_from(
    server: ServerThread, admin: User, rep: User
) -> None:
    denied = "/salesforce/callback?error=access_denied&error_description=end-user+denied"
    with browser_for(server, admin) as browser:
        browser.get("/salesforce/connect?environment=production&back=admin")
        admin_landing = browser.get(denied)
        admin_page = browser.get(admin_landing.headers["location"]).text
    with browser_for(server, rep) as browser:
        browser.get("/salesforce/connect?environment=production&back=admin")
        rep_landing = browser.get(denied)
    assert admin_landing.headers["location"] == "/settings/admin/salesforce/connections"
    assert "Salesforce did not connect: end-user denied." in admin_page
    assert rep_landing.headers["location"] == CONNECTIONS


def test_check_again_and_disconnect_without_a_connection_explain_why_nothing_happened(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        checked = post_form(browser, "/settings/salesforce/connections/check", {})
        after_check = browser.get(CONNECTIONS).text
        gone = post_form(browser, "/settings/salesforce/connections/disconnect", {})
        after_disconnect = browser.get(CONNECTIONS).text
    assert checked.status_code == gone.status_code == 303
    assert checked.headers["location"] == CONNECTIONS
    assert "Connect to Salesforce first" in after_check
    assert "You were not connected to Salesforce." in after_disconnect


def test_a_rep_cannot_reach_the_admin_pages(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        pages = [
            browser.get(path).status_code
            for path in (TEAM, "/settings/admin/salesforce/connections")
        ]
        preview = browser.get("/settings/admin/salesforce/subject-preview?template=x")
    assert pages == [403, 403]
    assert preview.status_code == 403


# -- the rep's Salesforce API card ----------------------------------------------------------


def test_the_api_card_shows_every_option_with_the_product_defaults(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        html = browser.get(MINE).text
    assert "Log Email Activity to Salesforce" in html
    for label in (
        "Salesforce API",
        "Email to Salesforce (BCC)",
        "Log emails",
        "Log replies",
        "Log calls",
        "Log to Leads",
        "Log to Contacts",
    ):
        assert label in html
    for name in ("api_logging", "log_emails", "log_replies", "log_calls"):
        assert "checked" in option_input(html, name.replace("api_logging", "logging_mode"))
    for name, value in (
        ("opportunity_mode", "off"),
        ("duplicate_rule", "most_activity"),
        ("no_match_rule", "skip"),
    ):
        assert f'name="{name}" value="{value}" checked' in html
    for value in ("most_recent_open", "all_open", "oldest", "all", "create_lead", "log_unassigned"):
        assert f'value="{value}"' in html
    assert "Do not sync to Salesforce tasks" in html
    assert 'name="task_sync" value="off" checked' in html
    assert "Activity Detail Customization" not in html  # admins only


def test_a_tab_link_opens_its_card_on_that_tab(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        html = browser.get(f"{MINE}?open=log-email&tab=bcc").text
    assert '<details class="card sf-card" id="log-email" open>' in html
    assert '<div role="tabpanel" id="panel-api" aria-labelledby="tab-api" hidden>' in html
    assert '<div role="tabpanel" id="panel-bcc" aria-labelledby="tab-bcc">' in html
    assert 'id="tab-bcc" href="?open=log-email&amp;tab=bcc#log-email"' in html
    assert '<details class="card sf-card" id="task-sync">' in html


def test_saving_the_api_card_keeps_only_what_changed(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        form = {**API_CARD_ALL_ON, "opportunity_mode": "all_open"}
        del form["log_calls"]
        answer = post_form(browser, f"{MINE}/api", form)
        saved = my_settings(browser)
        html = browser.get(answer.headers["location"]).text
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{MINE}?saved=log-email&tab=api#log-email"
    assert saved["values"]["log_calls"] is False
    assert saved["values"]["opportunity_mode"] == "all_open"
    assert saved["origins"]["log_calls"] == "user"
    # Untouched options keep following the defaults instead of being pinned by the Save.
    assert saved["origins"]["duplicate_rule"] == "product_default"
    assert "Saved." in html
    assert "checked" not in option_input(html, "log_calls")
    assert 'name="opportunity_mode" value="all_open" checked' in html


def test_turning_api_logging_off_hides_log_replies(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        form = {k: v for k, v in API_CARD_ALL_ON.items() if k != "api_logging"}
        post_form(browser, f"{MINE}/api", form)
        saved = my_settings(browser)
        html = browser.get(MINE).text
    assert saved["values"]["logging_mode"] == "off"
    assert re.search(
        r'<div class="sf-option" data-api-only hidden>\s*<div class="sf-option-main">'
        r'\s*<label class="sf-check-label"><input type="checkbox" id="opt-log_replies"',
        html,
    )
    assert "Not logging emails" in html


def test_a_locked_option_shows_who_locked_it_and_cannot_be_changed(
    server: ServerThread, admin: User, rep: User
) -> None:
    with browser_for(server, admin) as browser:
        form = {k: v for k, v in API_CARD_ALL_ON.items() if k != "log_calls"}
        locked = post_form(browser, f"{TEAM}/api", {**form, "lock_log_calls": "on"})
        team_html = browser.get(TEAM).text
    with browser_for(server, rep) as browser:
        html = browser.get(MINE).text
        post_form(browser, f"{MINE}/api", API_CARD_ALL_ON)  # a forged box for the locked option
        saved = my_settings(browser)
    assert locked.status_code == 303
    assert 'name="lock_log_calls" checked' in team_html
    assert "locked by Ada Admin" in team_html
    assert "disabled" in option_input(html, "log_calls")
    assert "Locked by Ada Admin" in html
    assert saved["values"]["log_calls"] is False
    assert saved["locked_by"] == {"log_calls": "Ada Admin"}


def test_team_defaults_reach_reps_who_did_not_choose(
    server: ServerThread, admin: User, rep: User
) -> None:
    with browser_for(server, admin) as browser:
        post_form(browser, f"{TEAM}/api", {**API_CARD_ALL_ON, "duplicate_rule": "oldest"})
    with browser_for(server, rep) as browser:
        saved = my_settings(browser)
        html = browser.get(MINE).text
    assert saved["values"]["duplicate_rule"] == "oldest"
    assert saved["origins"]["duplicate_rule"] == "team_default"
    assert "Team default" in html


def test_the_api_only_override_holds_every_api_option(
    server: ServerThread, admin: User, rep: User
) -> None:
    with browser_for(server, admin) as browser:
        answer = post_form(browser, f"{TEAM}/override", {"force_mode": "api_only"})
        team_html = browser.get(TEAM).text
    with browser_for(server, rep) as browser:
        html = browser.get(MINE).text
    assert answer.headers["location"] == f"{TEAM}?saved=override&tab=api#override"
    assert 'name="force_mode" value="api_only" checked' in team_html
    assert "only Salesforce API logging is allowed" in html
    assert "Set by your admin&#39;s API-only override" in html
    assert "disabled" in option_input(html, "log_emails")


# -- BCC tab --------------------------------------------------------------------------------


def test_activating_bcc_without_an_address_shows_the_steps(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        refused = post_form(browser, f"{MINE}/bcc/activate", {"address": ""})
        saved = my_settings(browser)
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    assert "did not give us your Email to Salesforce address" in refused.text
    assert "My Acceptable Email Addresses" in refused.text
    assert "Email Administration" in refused.text
    assert saved["values"]["logging_mode"] == "api"


def test_bcc_activates_with_an_address_and_deactivates_back_to_api(
    server: ServerThread, rep: User
) -> None:
    address = "emailtosalesforce@rex.example.salesforce.com"
    with browser_for(server, rep) as browser:
        activated = post_form(browser, f"{MINE}/bcc/activate", {"address": address})
        active_html = browser.get(activated.headers["location"]).text
        active = my_settings(browser)
        post_form(browser, f"{MINE}/bcc/deactivate", {})
        after = my_settings(browser)
    assert activated.headers["location"] == f"{MINE}?saved=log-email&tab=bcc#log-email"
    assert active["values"]["logging_mode"] == "bcc"
    assert f"<code>{address}</code>" in active_html
    assert ">Active</span>" in active_html
    assert ">Deactivate</button>" in active_html
    assert "Logging by Email to Salesforce (BCC)" in active_html
    assert after["values"]["logging_mode"] == "api"
    assert after["values"]["bcc_address"] == address


def test_a_bad_bcc_address_is_refused_next_to_the_field(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        refused = post_form(browser, f"{MINE}/bcc/activate", {"address": "not an address"})
    assert refused.status_code == 422
    assert 'id="bcc-address-error"' in refused.text
    assert 'value="not an address"' in refused.text


# -- task sync ------------------------------------------------------------------------------


def test_two_way_task_sync_waits_for_the_connection_to_import(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        answer = post_form(browser, f"{MINE}/tasks", {"task_sync": "two_way"})
        html = browser.get(answer.headers["location"]).text
        progress = browser.get("/settings/salesforce/task-sync-progress").json()
    assert 'name="task_sync" value="two_way" checked' in html
    assert "The first import waits for your Salesforce connection" in html
    assert progress == {"on": True, "connected": False, "importing": True, "summary": ""}


def test_a_locked_task_sync_default_applies_to_the_rep(
    server: ServerThread, admin: User, rep: User
) -> None:
    with browser_for(server, admin) as browser:
        post_form(browser, f"{TEAM}/tasks", {"task_sync": "two_way", "lock_task_sync": "on"})
    with browser_for(server, rep) as browser:
        html = browser.get(MINE).text
        refused = post_form(browser, f"{MINE}/tasks", {"task_sync": "off"})
        progress = browser.get("/settings/salesforce/task-sync-progress").json()
    assert 'name="task_sync" value="two_way" checked disabled' in html
    assert "Locked by Ada Admin" in html
    assert refused.status_code == 422
    assert "locked for your team by Ada Admin" in refused.text
    assert progress["on"] is True


# -- the admin's Activity Detail template, budget ------------------------------------------


def test_the_template_preview_renders_like_salesforce_gets_it(
    server: ServerThread, admin: User
) -> None:
    with browser_for(server, admin) as browser:
        answer = browser.get(
            "/settings/admin/salesforce/subject-preview",
            params={"template": "[Team] {{Activity_type}} - {{activity_subject}} {{nope}}"},
        )
    preview = answer.json()
    email, call = preview["samples"]
    assert email == {
        "label": "Email",
        "subject": "[Team] Email - Quick question about your Q3 rollout {{nope}}",
    }
    assert call["subject"].startswith("[Team] Call - Follow up on pricing")
    assert preview["unknown"] == ["nope"]
    assert preview["uses_subject"] is True


def test_a_template_with_an_unknown_field_is_refused_next_to_the_field(
    server: ServerThread, admin: User
) -> None:
    with browser_for(server, admin) as browser:
        refused = post_form(browser, f"{TEAM}/template", {"subject_template": "{{oops}} hi"})
        saved = post_form(browser, f"{TEAM}/template", {"subject_template": "SS {{activity_type}}"})
        html = browser.get(saved.headers["location"]).text
        options = browser.get("/api/v1/salesforce/admin-options").json()
    assert refused.status_code == 422
    assert 'id="subject-template-error"' in refused.text
    assert "unknown dynamic fields: oops" in refused.text
    assert 'value="{{oops}} hi"' in refused.text
    assert options["subject_template"] == "SS {{activity_type}}"
    assert 'value="SS {{activity_type}}"' in html
    assert "Saved." in html
    assert 'data-sample="Email">SS Email</dd>' in html


@pytest.mark.parametrize("share", ["0", "101", "half"])
def test_a_budget_share_outside_1_to_100_is_refused(
    server: ServerThread, admin: User, share: str
) -> None:
    with browser_for(server, admin) as browser:
        refused = post_form(browser, f"{TEAM}/budget", {"api_budget_share": share})
        options = browser.get("/api/v1/salesforce/admin-options").json()
    assert refused.status_code == 422
    assert 'id="budget-error"' in refused.text
    assert options["api_budget_share"] == 50


def test_the_budget_share_is_saved(server: ServerThread, admin: User) -> None:
    with browser_for(server, admin) as browser:
        post_form(browser, f"{TEAM}/budget", {"api_budget_share": "30"})
        html = browser.get(TEAM).text
        options = browser.get("/api/v1/salesforce/admin-options").json()
    assert options["api_budget_share"] == 30
    assert "30% of the org's daily API calls" in html


def test_settings_forms_need_the_csrf_token(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        del browser.headers["X-CSRF-Token"]
        answer = browser.post(f"{MINE}/tasks", data={"task_sync": "two_way"})
        saved = my_settings(browser)
    assert answer.status_code == 403
    assert saved["values"]["task_sync"] == "off"
