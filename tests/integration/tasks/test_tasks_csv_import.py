"""Reminder tasks from a CSV file, through the API and the Command Center: all rows or none."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from salesync.serving import serve_in_thread
from salesync.store.tables import User
from salesync.web.app import create_app
from tests.fixtures_sandbox import add_person
from tests.integration.tasks.test_tasks_api import Api
from tests.integration.tasks.test_tasks_support import make_world
from tests.integration.web.web_support import csrf_from, sign_in


@pytest.fixture
def api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    for world in make_world(engine, tmp_path):
        with serve_in_thread(create_app(world.runtime)) as server:
            yield Api(world, server.base_url)


GOOD = (
    "Email,Subject,Due date,Priority,Type,Notes\n"
    'lee@acme.test,Send contract,2026-03-06,High,Call,"pricing, then legal"\n'
    ",Plan the quarter,,,,\n"
)


def _upload(client: httpx.Client, content: str | bytes) -> httpx.Response:
    raw = content.encode() if isinstance(content, str) else content
    return client.post("/tasks/import", files={"file": ("tasks.csv", raw, "text/csv")})


def test_a_file_creates_its_tasks_with_the_api_s_defaults_and_they_sync(api: Api) -> None:
    world = api.world
    rep = world.rep("ana@example.com", "ana")
    person_id = add_person(world.runtime, rep, "Lee@Acme.test")
    with api.client(rep) as client:
        answer = _upload(client, b"\xef\xbb\xbf" + GOOD.encode())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["created"] == 2
    first, second = body["items"]
    assert (first["name"], first["person_id"], first["due_date"]) == (
        "Send contract",
        person_id,
        "2026-03-06",
    )
    assert (first["priority"], first["task_type"], first["details"]) == (
        "High",
        "Call",
        "pricing, then legal",
    )
    assert (second["person_id"], second["due_date"], second["priority"]) == (None, None, "Normal")
    assert (second["task_type"], second["status"], second["assignee_id"]) == (
        "Custom",
        "Open",
        rep.id,
    )
    world.drain()
    subjects = sorted(task["Subject"] for task in world.sf_tasks_of("ana"))
    assert len(subjects) == 2 and any("Send contract" in s for s in subjects)


def test_any_bad_row_imports_nothing_and_every_problem_names_its_row(api: Api) -> None:
    world = api.world
    rep = world.user("ana@example.com")
    add_person(world.runtime, rep, "lee@acme.test")
    bad = (
        "Email,Subject,Due date,Priority,Type,Notes\n"
        "lee@acme.test,Fine row,2026-03-06,High,Email,\n"  # row 2: fine
        "nobody@acme.test,Unknown person,tomorrow,Low,Fax,\n"  # row 3: four problems
        "\n"  # row 4: blank, skipped
        ",,,,,notes only\n"  # row 5: no subject
        "lee\x00@acme.test,Bad address,,,,\n"  # row 6: never looked up
    )
    with api.client(rep) as client:
        answer = _upload(client, bad)
        listed = client.get("/tasks").json()
    assert answer.status_code == 422, answer.text
    problems = [(p["row"], p["column"], p["field"]) for p in answer.json()["detail"]]
    assert problems == [
        (3, "Email", "person_email"),
        (3, "Due date", "due_date"),
        (3, "Priority", "priority"),
        (3, "Type", "task_type"),
        (5, "Subject", "name"),
        (6, "Email", "person_email"),
    ]
    messages = [p["message"] for p in answer.json()["detail"]]
    assert "must be Normal or High" in messages[2]
    assert listed == []  # not even the fine row


def test_a_file_that_is_not_csv_text_is_refused_with_the_reason(api: Api) -> None:
    rep = api.world.user("ana@example.com")
    with api.client(rep) as client:
        latin1 = _upload(client, "Subject\nAppeler Zoé\n".encode("latin-1"))
        unknown = _upload(client, "Subject,Owner\nCall,ana\n")
        listed = client.get("/tasks").json()
    assert latin1.status_code == 422
    assert latin1.json()["detail"][0]["field"] == "file"
    assert "UTF-8" in latin1.json()["detail"][0]["message"]
    assert unknown.status_code == 422
    assert [(p["row"], p["column"]) for p in unknown.json()["detail"]] == [(None, "Owner")]
    assert listed == []


@contextlib.contextmanager
def _browser(api: Api, user: User) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base_url, follow_redirects=False) as client:
        sign_in(client, user.email, "long enough password")  # tests.fixtures_sandbox.add_user
        yield client


def test_the_command_center_form_imports_and_lists_the_problems(api: Api) -> None:
    world = api.world
    rep = world.user("ana@example.com")
    with _browser(api, rep) as browser:
        token = csrf_from(browser.get("/command-center").text)

        def post(content: str) -> httpx.Response:
            return browser.post(
                "/command-center/tasks/import",
                data={"csrf_token": token, "filter": "next_7_days"},
                files={"file": ("tasks.csv", content.encode(), "text/csv")},
            )

        refused = post("Subject,Priority\nCall Ada,Urgent\n")
        assert refused.status_code == 422
        assert "Nothing was imported" in refused.text
        assert "Row 2, column “Priority”: must be Normal or High" in refused.text
        imported = post("Subject,Due date\nCall Ada,2026-03-03\n")
        assert imported.status_code == 303
        assert imported.headers["location"] == "/command-center?filter=next_7_days#tasks"
        page = browser.get(imported.headers["location"]).text
    assert "Imported 1 task(s)." in page
    assert "Call Ada" in page
    assert [t.name for t in world.tasks_of(rep)] == ["Call Ada"]
