"""The JSON API's error messages follow the reader's language; fields and statuses never do."""

from __future__ import annotations

from salesync.serving import ServerThread
from salesync.store.tables import User
from tests.integration.web.web_support import anonymous_client, token_client

BAD_ZONE = {"time_zone": "Mars/Olympus"}


def test_the_same_bad_request_answers_in_the_reader_language_with_the_same_field(
    server: ServerThread, rep: User
) -> None:
    with token_client(server, rep) as client:
        english = client.patch("/api/v1/me", json=BAD_ZONE)
        assert client.patch("/api/v1/me", json={"language": "de"}).status_code == 200
        german = client.patch("/api/v1/me", json=BAD_ZONE)
    assert english.status_code == german.status_code == 422
    assert english.json()["detail"] == [
        {"field": "time_zone", "message": "'Mars/Olympus' is not an IANA time zone"}
    ]
    assert german.json()["detail"] == [
        {"field": "time_zone", "message": "'Mars/Olympus' ist keine IANA-Zeitzone"}
    ]


def test_nobody_signed_in_reads_the_browser_language(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        english = client.get("/api/v1/me")
        german = client.get("/api/v1/me", headers={"Accept-Language": "de-CH, en;q=0.5"})
        chinese = client.get("/api/v1/me", headers={"Accept-Language": "zh-TW"})
    assert english.status_code == german.status_code == chinese.status_code == 401
    assert english.json()["detail"] == "sign in first"
    assert german.json()["detail"] == "Bitte melden Sie sich zuerst an"
    assert chinese.json()["detail"] == "請先登入"


def test_a_user_who_chose_japanese_gets_japanese_messages(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        chosen = client.patch("/api/v1/me", json={"language": "ja"})
        assert chosen.status_code == 200, chosen.text
        # Their own choice wins over the browser's.
        answer = client.patch("/api/v1/me", json=BAD_ZONE, headers={"Accept-Language": "de"})
        too_long = client.patch("/api/v1/me", json={"name": "x" * 5000})
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"field": "time_zone", "message": "'Mars/Olympus' は IANA タイムゾーンではありません"}
    ]
    assert too_long.status_code == 422
    problem = too_long.json()["detail"][0]
    assert problem["field"] == "name"
    assert "文字を超えています" in problem["message"]


def test_request_validation_messages_follow_the_language(server: ServerThread, rep: User) -> None:
    with token_client(server, rep) as client:
        english = client.patch("/api/v1/me", json={"time_zone": 5})
        assert client.patch("/api/v1/me", json={"language": "de"}).status_code == 200
        german = client.patch("/api/v1/me", json={"time_zone": 5})
    assert english.status_code == german.status_code == 422
    assert [p["field"] for p in english.json()["detail"]] == [
        p["field"] for p in german.json()["detail"]
    ]
    assert english.json()["detail"][0]["message"] == "Input should be a valid string"
    assert german.json()["detail"][0]["message"] == "Die Eingabe muss ein gültiger Text sein"
