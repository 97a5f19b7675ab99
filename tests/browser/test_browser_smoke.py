"""The browser can sign in to the live product (the base every page test builds on)."""

from __future__ import annotations

from typing import Any

from tests.fixtures_browser import LiveApp, screenshot, sign_in


def test_a_rep_signs_in_and_sees_the_navigation(live_app: LiveApp, page: Any) -> None:
    sign_in(page, live_app, "rep1@salesync.test")
    nav = page.get_by_role("navigation")
    for name in ("Command Center", "People", "Diagnostics"):
        assert nav.get_by_role("link", name=name).count() >= 1
    screenshot(page, "home")
