"""The page shell: navigation by role, static files, OpenAPI, errors."""

from __future__ import annotations

from salesync.serving import ServerThread
from salesync.store.tables import User
from tests.integration.web.web_support import anonymous_client, browser_for, token_client


def test_landing_page_offers_the_product_areas_and_the_settings_menu(
    server: ServerThread, admin: User
) -> None:
    with browser_for(server, admin) as browser:
        html = browser.get("/").text
    for href in ("/command-center", "/people", "/activity", "/diagnostics"):
        assert f'href="{href}"' in html
    assert '<nav class="mainnav" aria-label="Main">' in html
    assert '<main id="main"' in html
    assert "Settings</summary>" in html
    for href in ("/settings/admin", "/settings/account", "/settings/account/tokens"):
        assert f'href="{href}"' in html


def test_reps_do_not_see_admin_settings(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        html = browser.get("/").text
        settings = browser.get("/settings").text
    assert 'href="/settings/account"' in html
    assert "/settings/admin" not in html
    assert "/settings/admin" not in settings


def test_current_area_is_marked_for_assistive_technology(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        html = browser.get("/people").text
    assert '<a href="/people" aria-current="page">People</a>' in html


def test_pages_carry_protective_headers(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        headers = browser.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_stylesheet_is_served_and_styles_keyboard_focus(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/static/app.css")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in answer.text


def test_openapi_schema_describes_the_json_api_only(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        schema = client.get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/people", "/api/v1/people/import", "/api/v1/tokens", "/api/v1/users"} <= paths
    assert all(path.startswith("/api/v1/") for path in paths)
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    problems = schema["components"]["schemas"]["ProblemsBody"]
    assert "detail" in problems["properties"]


def test_unknown_page_is_an_html_404_and_unknown_api_path_a_json_404(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        page = browser.get("/no-such-page")
        api = browser.get("/api/v1/no-such-thing")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}


def test_request_validation_uses_the_field_message_shape(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        answer = client.get("/api/v1/people", params={"limit": 0})
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == "limit"
    assert problem["message"]


def test_my_account_shows_who_i_am(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        html = browser.get("/settings/account").text
    assert "Rex Rep" in html and "rex@example.com" in html and "<dd>rep</dd>" in html


def test_the_other_areas_routers_are_served(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        connection = client.get("/api/v1/salesforce/connection")
        diagnostics = client.get("/api/v1/diagnostics")
        tasks = client.get("/api/v1/tasks")
    assert connection.status_code == 200 and connection.json()["connected"] is False
    assert diagnostics.status_code == 200
    assert tasks.status_code == 200 and tasks.json() == []


def test_connect_sends_the_browser_to_the_org_sign_in(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        connect = browser.get("/salesforce/connect")
    assert connect.status_code == 303
    assert "/services/oauth2/authorize" in connect.headers["location"]
