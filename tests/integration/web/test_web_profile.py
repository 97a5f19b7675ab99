"""A rep's profile: name, time zone and language, through PATCH /api/v1/me and My Account."""

from __future__ import annotations

import pytest

from salesync.serving import ServerThread
from salesync.store.tables import User
from tests.integration.web.web_support import browser_for, csrf_from, token_client


def test_patch_me_changes_the_profile_and_command_center_follows_at_once(
    server: ServerThread, rep: User
) -> None:
    with token_client(server, rep) as client:
        answer = client.patch(
            "/api/v1/me",
            json={"name": "  Ana   Lopez ", "time_zone": "Pacific/Kiritimati", "language": "de"},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["name"], body["time_zone"], body["language"]) == (
            "Ana Lopez",
            "Pacific/Kiritimati",
            "de",
        )
        assert client.get("/api/v1/me").json()["time_zone"] == "Pacific/Kiritimati"
        days = client.get("/api/v1/command-center/tasks").json()
        assert days["time_zone"] == "Pacific/Kiritimati"
        client.patch("/api/v1/me", json={"time_zone": "Pacific/Pago_Pago"})
        later = client.get("/api/v1/command-center/tasks").json()
    assert later["time_zone"] == "Pacific/Pago_Pago"
    # 25 hours apart: the rep's "today" is another calendar day.
    assert later["first_day"] != days["first_day"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"language": "not a language"}, "language"),
        ({"language": "fr"}, "language"),
        ({"language": "zh-CN"}, "language"),
        ({"name": "   "}, "name"),
        ({"email": "x@example.com"}, "email"),
    ],
)
def test_a_bad_profile_change_is_422_naming_the_field_and_changes_nothing(
    server: ServerThread, rep: User, change: dict[str, str], field: str
) -> None:
    with token_client(server, rep) as client:
        before = client.get("/api/v1/me").json()
        answer = client.patch("/api/v1/me", json=change)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["field"] == field
        assert client.get("/api/v1/me").json() == before


def test_my_account_page_saves_the_profile(server: ServerThread, rep: User) -> None:
    with browser_for(server, rep) as browser:
        page = browser.get("/settings/account")
        assert 'name="time_zone"' in page.text
        form = {
            "csrf_token": csrf_from(page.text),
            "name": "Ana",
            "time_zone": "Europe/Paris",
            "language": "en",
        }
        saved = browser.post("/settings/account/profile", data=form)
        assert saved.status_code == 303
        shown = browser.get(saved.headers["location"])
        assert 'value="Europe/Paris"' in shown.text and "Your profile was saved." in shown.text
        form["time_zone"] = "Nowhere/Atlantis"
        refused = browser.post("/settings/account/profile", data=form)
        assert refused.status_code == 422
        assert "IANA time zone" in refused.text
        assert browser.get("/api/v1/me").json()["time_zone"] == "Europe/Paris"
