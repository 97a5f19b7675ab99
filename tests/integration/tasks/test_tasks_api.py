"""The JSON API of reminder tasks, the sync option and the Command Center, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from salesync.services import accounts
from salesync.serving import serve_in_thread
from salesync.store.db import unit_of_work
from salesync.store.tables import Team, User
from salesync.web import api_tasks
from salesync.web.app import create_app
from tests.fixtures_sandbox import add_person
from tests.integration.tasks.test_tasks_support import World, make_world


@dataclass
class Api:
    world: World
    base_url: str

    def client(self, user: User) -> httpx.Client:
        with unit_of_work(self.world.runtime.sessions) as session:
            attached = session.get(User, user.id)
            assert attached is not None
            token = accounts.create_api_token(session, attached, "tests", now=self.world.now())
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.base_url + "/api/v1", headers=headers)


@pytest.fixture
def api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    for world in make_world(engine, tmp_path):
        app = create_app(world.runtime)
        if not any(getattr(route, "path", "") == "/api/v1/tasks" for route in app.routes):
            app.include_router(api_tasks.router)
        with serve_in_thread(app) as server:
            yield Api(world, server.base_url)


def _problem_fields(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 422, answer.text
    return [problem["field"] for problem in answer.json()["detail"]]


def test_a_task_s_life_through_the_api(api: Api) -> None:
    rep = api.world.user("ana@example.com")
    person_id = add_person(api.world.runtime, rep, "lee@acme.test")
    with api.client(rep) as client:
        created = client.post(
            "/tasks",
            json={
                "name": "Send contract",
                "person_id": person_id,
                "due_date": "2026-03-03",
                "priority": "High",
                "details": "v2 with the discount",
            },
        )
        assert created.status_code == 201, created.text
        task: dict[str, Any] = created.json()
        assert {k: task[k] for k in ("name", "status", "priority", "due_date", "assignee_id")} == {
            "name": "Send contract",
            "status": "Open",
            "priority": "High",
            "due_date": "2026-03-03",
            "assignee_id": rep.id,
        }
        task_url = f"/tasks/{task['id']}"
        edited = client.patch(task_url, json={"due_date": None, "priority": "Normal"}).json()
        assert (edited["due_date"], edited["priority"], edited["name"]) == (
            None,
            "Normal",
            "Send contract",
        )
        completed = client.post(f"{task_url}/complete").json()
        assert completed["status"] == "Complete" and completed["completed_at"]
        reopened = client.post(f"{task_url}/reopen").json()
        assert reopened["status"] == "Open" and reopened["completed_at"] is None
        assert [item["id"] for item in client.get("/tasks").json()] == [task["id"]]
        assert client.delete(task_url).status_code == 204
        assert client.get(task_url).status_code == 404
        assert client.get("/tasks").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "due_date": "next week"}, "due_date"),
        ({"name": "x", "due_date": "2026-02-30"}, "due_date"),
        ({"name": "x", "due_date": 20260304}, "due_date"),
        ({"name": "x", "due_date": "2026-03-04T10:00:00"}, "due_date"),
        ({"name": "x", "priority": "Low"}, "priority"),
        ({"name": "x", "status": "In Progress"}, "status"),
        ({"name": "   "}, "name"),
        ({"due_date": "2026-03-04"}, "name"),
        ({"name": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(
    api: Api, body: dict[str, Any], field: str
) -> None:
    rep = api.world.user("ana@example.com")
    with api.client(rep) as client:
        assert _problem_fields(client.post("/tasks", json=body)) == [field]
        assert client.get("/tasks").json() == []


def _other_team_user(api: Api) -> User:
    user = api.world.user("zed@elsewhere.example")
    with unit_of_work(api.world.runtime.sessions) as session:
        team = Team(name="Elsewhere", created_at=api.world.now())
        session.add(team)
        session.flush()
        moved = session.get(User, user.id)
        assert moved is not None
        moved.team_id = team.id
        return moved


def test_people_and_assignees_outside_the_team_are_refused(api: Api) -> None:
    rep = api.world.user("ana@example.com")
    stranger = _other_team_user(api)
    their_person = add_person(api.world.runtime, stranger, "secret@elsewhere.example")
    with api.client(rep) as client:
        answer = client.post("/tasks", json={"name": "x", "person_id": their_person})
        assert _problem_fields(answer) == ["person_id"]
        answer = client.post("/tasks", json={"name": "x", "assignee_id": stranger.id})
        assert _problem_fields(answer) == ["assignee_id"]
        task_id = client.post("/tasks", json={"name": "mine"}).json()["id"]
        answer = client.patch(f"/tasks/{task_id}", json={"priority": "Urgent"})
        assert _problem_fields(answer) == ["priority"]
        answer = client.patch(f"/tasks/{task_id}", json={"status": "Waiting"})
        assert _problem_fields(answer) == ["status"]


def test_reps_see_their_own_tasks_and_admins_the_team_s(api: Api) -> None:
    admin = api.world.user("boss@example.com", admin=True)
    ana = api.world.user("ana@example.com")
    ben = api.world.user("ben@example.com")
    stranger = _other_team_user(api)
    with api.client(ana) as as_ana, api.client(ben) as as_ben:
        own = as_ana.post("/tasks", json={"name": "Ana's own"}).json()
        for_ben = as_ana.post("/tasks", json={"name": "For Ben", "assignee_id": ben.id}).json()
        bens = as_ben.post("/tasks", json={"name": "Ben's own"}).json()
        assert {t["name"] for t in as_ben.get("/tasks").json()} == {"For Ben", "Ben's own"}
        assert as_ben.get(f"/tasks/{own['id']}").status_code == 404
        assert as_ben.patch(f"/tasks/{own['id']}", json={"name": "mine now"}).status_code == 404
        assert as_ben.delete(f"/tasks/{own['id']}").status_code == 404
        assert as_ben.post(f"/tasks/{for_ben['id']}/complete").status_code == 200
        assert as_ana.get(f"/tasks/{bens['id']}").status_code == 404
    with api.client(admin) as as_admin:
        names = {t["name"] for t in as_admin.get("/tasks").json()}
        assert names == {"Ana's own", "For Ben", "Ben's own"}
        assert as_admin.patch(f"/tasks/{own['id']}", json={"details": "ok"}).status_code == 200
    with api.client(stranger) as as_stranger:
        assert as_stranger.get("/tasks").json() == []
        assert as_stranger.get(f"/tasks/{own['id']}").status_code == 404


def test_the_sync_option_and_the_command_center(api: Api) -> None:
    world = api.world
    rep = world.user("ana@example.com", tz="Pacific/Honolulu")
    world.connect(rep, "ana")
    with api.client(rep) as client:
        status = client.get("/task-sync").json()
        assert (status["mode"], status["on"], status["connected"]) == ("off", False, True)
        assert _problem_fields(client.put("/task-sync", json={"mode": "sometimes"})) == ["mode"]
        status = client.put("/task-sync", json={"mode": "two_way"}).json()
        assert (status["mode"], status["on"], status["origin"]) == ("two_way", True, "user")
        # 15:30 UTC on 2 March is 05:30 on 2 March in Honolulu.
        client.post("/tasks", json={"name": "Today", "due_date": "2026-03-02"})
        client.post("/tasks", json={"name": "Tomorrow", "due_date": "2026-03-03"})
        client.post("/tasks", json={"name": "Later", "due_date": "2026-03-07"})
        board = client.get("/command-center/tasks").json()
        assert (board["first_day"], board["last_day"], board["time_zone"]) == (
            "2026-03-02",
            "2026-03-03",
            "Pacific/Honolulu",
        )
        assert [item["name"] for item in board["items"]] == ["Today", "Tomorrow"]
        week = client.get("/command-center/tasks", params={"filter": "next_7_days"}).json()
        assert [item["name"] for item in week["items"]] == ["Today", "Tomorrow", "Later"]
        bad = client.get("/command-center/tasks", params={"filter": "yesterday"})
        assert _problem_fields(bad) == ["filter"]
    world.drain()
    assert len(world.sf_tasks_of("ana")) == 3


def test_a_locked_option_cannot_be_changed_by_a_rep(api: Api) -> None:
    admin = api.world.user("boss@example.com", admin=True)
    rep = api.world.user("ana@example.com")
    with api.client(admin) as as_admin:
        answer = as_admin.put("/team/task-sync", json={"mode": "two_way", "locked": True})
        assert answer.status_code == 200, answer.text
    with api.client(rep) as as_rep:
        status = as_rep.get("/task-sync").json()
        assert (status["mode"], status["origin"]) == ("two_way", "locked")
        assert _problem_fields(as_rep.put("/task-sync", json={"mode": "off"})) == ["task_sync"]
        assert as_rep.put("/team/task-sync", json={"mode": "off"}).status_code == 403


def test_conflicts_are_visible_with_both_values_and_the_winner(api: Api) -> None:
    world = api.world
    rep = world.rep("ana@example.com", "ana")
    task = world.create(rep, "Contested", details="original")
    world.drain()
    sf_id = world.link(task.id).sf_id  # type: ignore[union-attr]
    world.advance(minutes=1)
    world.update(rep, task.id, details="mine")
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", Description="theirs")
    world.poll()
    with api.client(rep) as client:
        [conflict] = client.get(f"/tasks/{task.id}/conflicts").json()
        assert (conflict["field"], conflict["local_value"], conflict["remote_value"]) == (
            "details",
            "mine",
            "theirs",
        )
        assert conflict["winner"] == "salesforce"
        assert client.get("/task-conflicts").json() == [conflict]
