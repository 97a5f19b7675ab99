"""Change events: replay ids, 72-hour retention, rollbacks, resets and the SQLite file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.sandbox.seed import ADMIN_USERNAME
from salesync.serving import serve_in_thread
from tests.integration.sandbox.sandbox_support import API, Sandbox

TASK = f"{API}/sobjects/Task"
COLLECTION = f"{API}/composite/sobjects"
TASK_EVENTS = "/__sandbox__/events/TaskChangeEvent"
HOUR = 3600


@pytest.fixture
def control(sandbox: Sandbox) -> httpx.Client:
    """The control plane; the clock is frozen and sessions outlive the days tests skip."""
    client = sandbox.control()
    now = datetime(2025, 3, 3, 10, tzinfo=UTC).isoformat()
    assert client.post("/__sandbox__/clock", json={"now": now, "frozen": True}).is_success
    assert client.put("/__sandbox__/limits", json={"sessionSeconds": 30 * 24 * HOUR}).is_success
    return client


def read(control: httpx.Client, path: str = TASK_EVENTS, **params: Any) -> Any:
    response = control.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def replay_ids(page: Any) -> list[int]:
    return [event["replayId"] for event in page["events"]]


def subjects(page: Any) -> list[str]:
    return [event["payload"]["Subject"] for event in page["events"]]


def create_tasks(client: httpx.Client, *subjects: str) -> list[str]:
    ids = []
    for subject in subjects:
        response = client.post(f"{TASK}/", json={"Subject": subject})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def advance(control: httpx.Client, seconds: int) -> None:
    assert control.post("/__sandbox__/clock", json={"advanceSeconds": seconds}).is_success


def test_replay_resumes_after_a_replay_id_page_by_page(
    control: httpx.Client, admin: httpx.Client
) -> None:
    create_tasks(admin, "one", "two", "three")
    everything = read(control)
    assert replay_ids(everything) == [1, 2, 3] and everything["latestReplayId"] == 3
    assert subjects(read(control, replayId=1)) == ["two", "three"]
    first_page = read(control, replayId=0, limit=2)
    assert subjects(first_page) == ["one", "two"] and first_page["latestReplayId"] == 2
    rest = read(control, replayId=first_page["latestReplayId"], limit=2)
    assert subjects(rest) == ["three"] and rest["latestReplayId"] == 3
    assert read(control, replayId=3) == {"events": [], "latestReplayId": 3}
    assert read(control, replayId=-1) == {"events": [], "latestReplayId": 3}  # from the tip
    assert replay_ids(read(control, replayId=-2)) == [1, 2, 3]  # earliest retained


def test_a_quiet_channel_still_moves_its_replay_id_forward(
    control: httpx.Client, admin: httpx.Client
) -> None:
    create_tasks(admin, "task")
    admin.post(f"{API}/sobjects/Account", json={"Name": "Acme"})
    page = read(control, replayId=1)
    assert page == {"events": [], "latestReplayId": 2}
    assert replay_ids(read(control, "/__sandbox__/events/ChangeEvents", replayId=1)) == [2]


def test_a_replay_id_never_issued_is_refused(control: httpx.Client, admin: httpx.Client) -> None:
    create_tasks(admin, "only")
    for never_issued in (7, -5):
        refused = control.get(TASK_EVENTS, params={"replayId": never_issued})
        assert refused.status_code == 400 and refused.json()["errorCode"] == "INVALID_REPLAY_ID"
    for bad in ({"replayId": "x"}, {"limit": 0}, {"limit": 2001}):
        assert control.get(TASK_EVENTS, params=bad).status_code == 400


def test_events_older_than_72_hours_are_dropped_and_their_ids_expire(
    control: httpx.Client, admin: httpx.Client
) -> None:
    create_tasks(admin, "old")
    advance(control, 2 * HOUR)
    create_tasks(admin, "newer")
    advance(control, 70 * HOUR)  # "old" is exactly 72 hours old: still retained
    assert subjects(read(control, replayId=0)) == ["old", "newer"]
    advance(control, 1)
    expired = control.get(TASK_EVENTS, params={"replayId": 0})
    assert expired.status_code == 400, expired.text
    body = expired.json()
    assert body["errorCode"] == "REPLAY_ID_EXPIRED" and body["earliestReplayId"] == 1
    assert subjects(read(control, replayId=1)) == ["newer"]
    assert subjects(read(control)) == ["newer"]  # no replayId: the earliest retained
    summary = read(control, "/__sandbox__/events")
    assert summary == {"latestReplayId": 2, "earliestReplayId": 1, "retained": 1}
    advance(control, 2 * HOUR)
    assert read(control) == {"events": [], "latestReplayId": 2}
    assert control.get(TASK_EVENTS, params={"replayId": 1}).status_code == 400


def test_rolled_back_all_or_none_items_leave_no_event(
    control: httpx.Client, admin: httpx.Client
) -> None:
    valid = {"attributes": {"type": "Task"}, "Subject": "would work"}
    invalid = {"attributes": {"type": "Task"}, "CallType": "Sideways"}
    body = {"allOrNone": True, "records": [valid, invalid]}
    results = admin.post(COLLECTION, json=body).json()
    assert [r["success"] for r in results] == [False, False]
    assert read(control) == {"events": [], "latestReplayId": 0}
    partial = admin.post(COLLECTION, json={**body, "allOrNone": False}).json()
    assert [r["success"] for r in partial] == [True, False]
    page = read(control)
    assert subjects(page) == ["would work"]
    assert page["events"][0]["payload"]["ChangeEventHeader"]["recordIds"] == [partial[0]["id"]]


def test_a_collection_is_one_transaction_in_sequence(
    control: httpx.Client, admin: httpx.Client
) -> None:
    records = [{"attributes": {"type": "Task"}, "Subject": s} for s in ("a", "b", "c")]
    assert admin.post(COLLECTION, json={"records": records}).status_code == 200
    create_tasks(admin, "later")
    headers = [e["payload"]["ChangeEventHeader"] for e in read(control)["events"]]
    assert [h["sequenceNumber"] for h in headers] == [1, 2, 3, 1]
    assert [h["commitNumber"] for h in headers] == [1, 1, 1, 2]
    keys = [h["transactionKey"] for h in headers]
    assert keys[0] == keys[1] == keys[2] != keys[3]


def test_an_all_or_none_composite_that_fails_late_publishes_nothing(
    control: httpx.Client, admin: httpx.Client
) -> None:
    requests = [
        {"method": "POST", "url": f"{TASK}", "referenceId": "ok", "body": {"Subject": "first"}},
        {"method": "PATCH", "url": f"{TASK}/@{{ok.id}}", "referenceId": "bad",
         "body": {"CallType": "Sideways"}},
    ]  # fmt: skip
    body = {"compositeRequest": requests, "allOrNone": True}
    responses = admin.post(f"{API}/composite", json=body).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in responses] == [400, 400]
    assert read(control) == {"events": [], "latestReplayId": 0}


def test_a_reset_drops_events_but_replay_ids_keep_growing(
    sandbox: Sandbox, control: httpx.Client, admin: httpx.Client
) -> None:
    create_tasks(admin, "before reset")
    assert control.post("/__sandbox__/reset", json={"seed": "demo"}).status_code == 200
    assert read(control) == {"events": [], "latestReplayId": 1}  # the seed is not replayed
    stale = control.get(TASK_EVENTS, params={"replayId": 0})
    assert stale.json()["errorCode"] == "REPLAY_ID_EXPIRED"
    fresh = sandbox.client(ADMIN_USERNAME)
    create_tasks(fresh, "after reset")
    assert replay_ids(read(control, replayId=1)) == [2]


def test_events_survive_a_restart_from_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path, seed="empty")
    first = org.create_record("Task", {"Subject": "kept"})
    org.update_record(first, {"Subject": "kept and edited"})
    assert org.store is not None
    org.store.close()
    reopened = Org.open(path)
    reopened.create_record("Task", {"Subject": "after restart"})
    with serve_in_thread(create_sandbox_app(reopened)) as server:
        page = httpx.get(f"{server.base_url}{TASK_EVENTS}").json()
    changes = [e["payload"]["ChangeEventHeader"]["changeType"] for e in page["events"]]
    assert (replay_ids(page), changes) == ([1, 2, 3], ["CREATE", "UPDATE", "CREATE"])
    assert page["events"][1]["payload"]["Subject"] == "kept and edited"
    assert page["events"][2]["payload"]["ChangeEventHeader"]["commitNumber"] == 3


def test_expired_events_leave_the_sqlite_file_too(tmp_path: Path) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path, seed="empty")
    org.create_record("Task", {"Subject": "old"})
    org.clock.set(org.clock.now().replace(year=2099))
    org.maintain()
    org.create_record("Task", {"Subject": "new"})
    assert org.store is not None
    org.store.close()
    reopened = Org.open(path)
    assert [e.replay_id for e in reopened.events.events] == [2]
    assert reopened.events.expired_through == 1


def test_events_of_a_save_that_never_finished_are_dropped_on_load(tmp_path: Path) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path, seed="empty")
    org.create_record("Task", {"Subject": "saved"})
    assert org.store is not None
    org.store.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        # The events table is written first: a crash before the records leaves this row.
        conn.execute(
            "INSERT INTO change_events SELECT replay_id + 1, entity, committed_at, payload "
            "FROM change_events WHERE replay_id = 1"
        )
    reopened = Org.open(path)
    assert [e.replay_id for e in reopened.events.events] == [1]
    reopened.create_record("Task", {"Subject": "next"})
    second = reopened.events.events[-1]
    assert second.replay_id == 2 and '"Subject":"next"' in second.payload_json
