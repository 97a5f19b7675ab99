"""Which language a reader sees: their own choice, their browser's, then their team's."""

from __future__ import annotations

import httpx
import pytest

from salesync.serving import ServerThread
from salesync.store.tables import User
from tests.integration.web.web_support import anonymous_client, browser_for, csrf_from


def _language_of(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    html_lang = page.text.split('<html lang="', 1)[1].split('"', 1)[0]
    assert page.headers["content-language"] == html_lang
    return html_lang


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        (None, "en"),
        ("ja", "ja"),
        ("fr-FR, de-AT;q=0.9, en;q=0.8", "de"),
        ("zh-CN, zh-TW;q=0.5, en;q=0.4", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("en;q=0.1, ja;q=0.9", "ja"),
        ("fr, *;q=0.5", "en"),
        ("ja;q=0, de", "de"),
    ],
)
def test_the_login_page_follows_the_browser(
    server: ServerThread, accept_language: str | None, expected: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    with anonymous_client(server) as client:
        assert _language_of(client.get("/login", headers=headers)) == expected


def test_automatic_follows_the_browser_and_a_chosen_language_wins_over_it(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        assert browser.get("/api/v1/me").json()["language"] == ""
        assert (
            _language_of(browser.get("/settings/account", headers={"Accept-Language": "de"}))
            == "de"
        )
        assert browser.patch("/api/v1/me", json={"language": "ja"}).status_code == 200
        page = browser.get("/settings/account", headers={"Accept-Language": "de"})
        assert _language_of(page) == "ja"
        assert "自動（ブラウザ、次にチーム）" in page.text
        assert '<option value="ja" lang="ja" selected>日本語</option>' in page.text
        assert "<dd>営業担当者</dd>" in page.text  # the role, in the reader's language
        assert browser.patch("/api/v1/me", json={"language": ""}).status_code == 200
        assert _language_of(browser.get("/", headers={"Accept-Language": "zh-TW"})) == "zh-Hant"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("de-AT", "de"), ("zh-TW", "zh-Hant"), ("zh-hant", "zh-Hant"), ("", ""), ("en-XA", "en-XA")],
)
def test_patch_me_stores_the_language_it_can_show(
    server: ServerThread, rep: User, sent: str, stored: str
) -> None:
    with browser_for(server, rep) as browser:
        answer = browser.patch("/api/v1/me", json={"language": sent})
        assert answer.status_code == 200, answer.text
        assert answer.json()["language"] == stored


def test_a_language_salesync_does_not_show_is_422_naming_the_field(
    server: ServerThread, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        answer = browser.patch("/api/v1/me", json={"language": "pt-BR"})
        assert answer.status_code == 422
        problem = answer.json()["detail"][0]
        assert problem["field"] == "language"
        assert "pt-BR" in problem["message"] and "zh-Hant" in problem["message"]


def test_the_team_default_applies_when_the_browser_has_nothing_supported(
    server: ServerThread, admin: User, rep: User
) -> None:
    with browser_for(server, admin) as browser:
        page = browser.get("/settings/admin")
        assert '<option value="en" lang="en" selected>English</option>' in page.text
        form = {"csrf_token": csrf_from(page.text), "default_language": "de"}
        saved = browser.post("/settings/admin/language", data=form)
        assert saved.status_code == 303
        shown = browser.get("/settings/admin")
        assert '<option value="de" lang="de" selected>Deutsch</option>' in shown.text
        assert "Die Sprache des Teams wurde gespeichert." in shown.text
        form["default_language"] = "fr"
        refused = browser.post("/settings/admin/language", data=form)
        assert refused.status_code == 422
        assert "fr" in refused.text
    with browser_for(server, rep) as browser:
        assert _language_of(browser.get("/", headers={"Accept-Language": "fr, pt;q=0.5"})) == "de"
        assert _language_of(browser.get("/settings/account")) == "de"
        assert _language_of(browser.get("/", headers={"Accept-Language": "ja"})) == "ja"
        browser.patch("/api/v1/me", json={"language": "en"})
        assert _language_of(browser.get("/", headers={"Accept-Language": "ja"})) == "en"


def test_only_an_admin_sets_the_team_language(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        token = csrf_from(browser.get("/settings/account").text)
        answer = browser.post(
            "/settings/admin/language", data={"csrf_token": token, "default_language": "ja"}
        )
    assert answer.status_code == 403


def test_the_stylesheet_gives_cjk_pages_cjk_fonts_and_cjk_line_breaks(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        css = client.get("/static/app.css").text
    assert "html:lang(ja)" in css and '"Noto Sans CJK JP"' in css and '"Hiragino Sans"' in css
    assert "html:lang(zh-Hant)" in css and '"Noto Sans CJK TC"' in css and '"PingFang TC"' in css
    assert "line-break: strict" in css and "overflow-wrap: anywhere" in css
    # nothing cuts a longer German or CJK label short
    assert "text-overflow" not in css
