"""Salesforce -> salesync through Change Data Capture over the Pub/Sub API (the sandbox's)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from salesync.domain.reminder_mapping import ReminderStatus
from salesync.salesforce.pubsub import PubSubClient
from salesync.sandbox.pubsub_server import PubSubServer
from salesync.services import diagnostics, task_sync
from salesync.store import task_streams
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from salesync.sync.task_stream import CDC_OFF_CODE, TaskStream
from salesync.sync.task_stream_job import SALESFORCE_ENDPOINT, TaskStreamJob, default_pubsub
from tests.integration.tasks.test_tasks_support import World, make_world


@dataclasses.dataclass
class Live:
    world: World
    server: PubSubServer
    client: PubSubClient
    rep: User | None = None

    def stream(self) -> TaskStream:
        [group] = self.world.puller.groups()
        return TaskStream(
            self.world.runtime,
            group.team_id,
            group.org_id,
            client=self.client,
            puller=self.world.puller,
        )

    def state(self, stream: TaskStream) -> task_streams.StreamState:
        with unit_of_work(self.world.runtime.sessions) as session:
            return task_streams.load(session, stream.team_id, stream.org_id)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.world.sandbox.base_url}/__sandbox__/{path}"
        response = httpx.request(method, url, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()


@pytest.fixture
def live(engine: Engine, tmp_path: Path) -> Iterator[Live]:
    for world in make_world(engine, tmp_path):
        urls = (world.sandbox.base_url,)
        with PubSubServer(world.org, instance_urls=urls) as server:
            client = PubSubClient(server.address, tls=False)
            yield Live(world, server, client)
            client.close()


def pump(stream: TaskStream, until: Callable[[], bool], *, steps: int = 60) -> None:
    """Take responses until ``until()`` holds (each step waits at most 0.2 s)."""
    for _ in range(steps):
        if until():
            return
        assert stream.step(0.2), stream.report
    assert until(), stream.report


def started(live: Live) -> tuple[World, TaskStream]:
    world = live.world
    live.rep = world.rep("ana@example.com", "ana")
    stream = live.stream()
    assert stream.open()
    assert stream.report.reconciles == 1  # first start: LATEST, then one full poll
    return world, stream


def test_edit_completion_delete_and_undelete_arrive_through_the_stream(live: Live) -> None:
    world, stream = started(live)
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Prepare demo", Status="Not Started")
    pump(stream, lambda: world.task_for_sf(sf_id) is not None)
    task_id = world.task_for_sf(sf_id).id  # type: ignore[union-attr]
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", Description="bring the laptop")
    pump(stream, lambda: world.task(task_id).details == "bring the laptop")
    world.advance(minutes=1)
    world.sf_update(sf_id, "ana", Status="Completed")
    pump(stream, lambda: world.task(task_id).status is ReminderStatus.COMPLETE)
    world.advance(minutes=1)
    world.sf_delete(sf_id, "ana")
    pump(stream, lambda: world.task(task_id).deleted_at is not None)
    world.advance(minutes=1)
    world.org.undelete_record(sf_id)
    pump(stream, lambda: world.task(task_id).deleted_at is None)
    assert world.task(task_id).status is ReminderStatus.COMPLETE
    # Nothing was polled for it: the poll skips an org whose stream is live.
    calls_before = world.api_calls()
    report = world.poll()
    assert report.streamed and report.queries == 0
    assert world.api_calls() == calls_before
    state = live.state(stream)
    assert state.mode == task_streams.CDC and state.last_event_at is not None
    assert state.lag_ms is not None and state.replay_id
    stream.close()


def test_our_own_writes_never_come_back(live: Live) -> None:
    world, stream = started(live)
    rep = live.rep
    assert rep is not None
    task = world.create(rep, "Call Maria", due_date="2026-03-03")
    world.drain()  # pushed: a CREATE event with changeOrigin client=salesync
    world.advance(minutes=1)
    world.update(rep, task.id, details="from salesync")
    world.drain()
    pump(stream, lambda: stream.report.echoes >= 2)
    assert stream.report.reads == 0  # echoes are dropped without reading anything
    assert stream.report.outcomes == {}
    assert world.task(task.id).details == "from salesync"
    assert world.conflicts() == []
    stream.close()


def test_a_dropped_stream_resumes_from_the_stored_replay_id(live: Live) -> None:
    world, stream = started(live)
    world.advance(minutes=1)
    first = world.sf_create("ana", Subject="One")
    pump(stream, lambda: world.task_for_sf(first) is not None)
    stored = live.state(stream).replay_id
    live.control("POST", "pubsub/faults", {"kind": "drop_stream"})
    world.advance(minutes=1)
    second = world.sf_create("ana", Subject="Two")  # committed while the stream is down
    pump(stream, lambda: world.task_for_sf(second) is not None)
    assert stream.report.reconnects == 1
    assert live.state(stream).replay_id != stored
    names = sorted(task.name for task in world.all_tasks())
    assert names == ["One", "Two"]  # nothing missed, nothing applied twice
    assert stream.report.outcomes.get("imported") == 2
    assert stream.report.reconciles == 1  # only the first start's poll
    stream.close()


def test_a_restart_resumes_after_the_stored_replay_id_without_polling(live: Live) -> None:
    world, stream = started(live)
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Before")
    pump(stream, lambda: world.task_for_sf(sf_id) is not None)
    stream.close()
    world.advance(minutes=1)
    later = world.sf_create("ana", Subject="While stopped")
    again = live.stream()
    assert again.open()
    pump(again, lambda: world.task_for_sf(later) is not None)
    assert again.report.reconciles == 0  # CUSTOM from the stored id, no poll
    assert again.report.outcomes == {"imported": 1}
    again.close()


def test_an_expired_session_reconnects_with_a_refreshed_token(live: Live) -> None:
    world, stream = started(live)
    live.control("POST", "pubsub/faults", {"kind": "expire_token"})
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="After expiry")
    pump(stream, lambda: world.task_for_sf(sf_id) is not None)
    assert stream.report.refreshes == 1
    stream.close()


def test_a_gap_event_reconciles_by_polling_the_org(live: Live) -> None:
    world, stream = started(live)
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Changed behind a gap")
    pump(stream, lambda: world.task_for_sf(sf_id) is not None)
    task_id = world.task_for_sf(sf_id).id  # type: ignore[union-attr]
    # A change the stream cannot describe: applied directly, then only a gap event says so.
    world.advance(minutes=1)
    publish = world.org.changes.listener
    world.org.changes.listener = None  # this change publishes no event of its own
    world.sf_update(sf_id, "ana", Status="Completed")
    world.org.changes.listener = publish
    live.control("POST", "events/gap", {"changeType": "GAP_UPDATE", "recordIds": [sf_id]})
    reconciles = stream.report.reconciles
    pump(stream, lambda: stream.report.reconciles > reconciles)
    assert world.task(task_id).status is ReminderStatus.COMPLETE
    stream.close()


def test_an_expired_replay_id_reconciles_and_restarts_from_latest(live: Live) -> None:
    world, stream = started(live)
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Old")
    pump(stream, lambda: world.task_for_sf(sf_id) is not None)
    stream.close()
    world.advance(minutes=1)
    world.sf_create("ana", Subject="Soon expired")
    world.advance(hours=73)  # past the 72-hour retention: the stored id is too old
    world.sf_create("ana", Subject="Recent")
    world.org.maintain()
    # The rep's session timed out meanwhile; the stream refreshes it.
    again = live.stream()
    assert again.open()
    pump(again, lambda: again.report.reconciles >= 1)
    names = sorted(task.name for task in world.all_tasks())
    assert names == ["Old", "Recent", "Soon expired"]
    again.close()


def test_with_cdc_off_for_task_the_org_polls_and_diagnostics_say_how_to_enable_it(
    live: Live,
) -> None:
    live.control("PUT", "pubsub", {"cdcEntities": []})
    world = live.world
    world.rep("ana@example.com", "ana")
    stream = live.stream()
    assert not stream.open()
    state = live.state(stream)
    assert state.mode == task_streams.POLLING
    assert "not enabled" in state.reason
    [entry] = world.diagnostics(CDC_OFF_CODE)
    assert "Setup > Change Data Capture" in entry.message
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Polled")
    report = world.poll()
    assert report.queries == 1 and not report.streamed
    assert world.task_for_sf(sf_id) is not None
    # Switched on later: the stream takes over and the entry is resolved.
    live.control("PUT", "pubsub", {"cdcEntities": ["Task"]})
    assert stream.open()
    assert world.diagnostics(CDC_OFF_CODE) == []
    stream.close()


def test_diagnostics_show_each_orgs_mode_last_event_and_lag(live: Live) -> None:
    world, stream = started(live)
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Seen live")
    pump(stream, lambda: world.task_for_sf(sf_id) is not None)
    assert live.rep is not None
    with unit_of_work(world.runtime.sessions) as session:
        viewer = session.get(User, live.rep.id)
        assert viewer is not None
        data = diagnostics.overview(session, viewer, now=world.now())
    [view] = data.streams
    assert (view.org_id, view.mode, view.reason) == (world.org.org_id, "cdc", "")
    assert view.last_event_at == world.now() and view.lag_ms == 0
    stream.close()


def test_two_edits_within_one_second_both_arrive(live: Live) -> None:
    world, stream = started(live)
    world.advance(minutes=1)
    sf_id = world.sf_create("ana", Subject="Quick edits")
    pump(stream, lambda: world.task_for_sf(sf_id) is not None)
    task_id = world.task_for_sf(sf_id).id  # type: ignore[union-attr]
    # The frozen clock: both saves carry the same SystemModstamp as the create.
    world.sf_update(sf_id, "ana", Description="first")
    pump(stream, lambda: world.task(task_id).details == "first")
    world.sf_update(sf_id, "ana", Description="second")
    pump(stream, lambda: world.task(task_id).details == "second")
    stream.close()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_worker_job_runs_one_stream_per_org_under_a_lease(live: Live) -> None:
    world = live.world
    live.rep = world.rep("ana@example.com", "ana")

    def connect(_: str) -> PubSubClient:
        return PubSubClient(live.server.address, tls=False)

    first = TaskStreamJob(world.runtime, puller=world.puller, worker_id="w1", pubsub=connect)
    second = TaskStreamJob(world.runtime, puller=world.puller, worker_id="w2", pubsub=connect)
    try:
        first.run_once()
        [group] = world.puller.groups()
        wait_until(lambda: _mode(live, group.team_id) == task_streams.CDC)
        second.run_once()  # the lease is held: no second stream
        assert world.org.pubsub.subscribes == 1
        world.advance(minutes=1)
        sf_id = world.sf_create("ana", Subject="Through the worker")
        wait_until(lambda: world.task_for_sf(sf_id) is not None)
        assert world.poll().streamed  # live: the poll leaves the org to the stream
    finally:
        first.stop()
        second.stop()
    # Stopped (a worker shutting down): the poll covers the org at once, the lease is free.
    assert not world.poll().streamed
    third = TaskStreamJob(world.runtime, puller=world.puller, worker_id="w3", pubsub=connect)
    third.run_once()
    wait_until(lambda: world.org.pubsub.subscribes == 2)
    third.stop()


def _mode(live: Live, team_id: int) -> str:
    with unit_of_work(live.world.runtime.sessions) as session:
        return task_streams.load(session, team_id, live.world.org.org_id).mode


def test_the_pubsub_endpoint_is_salesforces_only_for_salesforce_hosts(live: Live) -> None:
    runtime = live.world.runtime
    connect = default_pubsub(runtime)
    assert connect is not None
    real = connect("https://acme.my.salesforce.com")
    assert real is not None and real.endpoint == SALESFORCE_ENDPOINT
    real.close()
    assert connect(live.world.sandbox.base_url) is None  # never a sandbox token to Salesforce
    runtime.settings = runtime.settings.model_copy(update={"pubsub_endpoint": "127.0.0.1:1"})
    configured = default_pubsub(runtime)
    assert configured is not None
    local = configured(live.world.sandbox.base_url)
    assert local is not None and local.endpoint == "127.0.0.1:1"
    local.close()
    runtime.settings = runtime.settings.model_copy(update={"realtime_sync": False})
    assert default_pubsub(runtime) is None


def test_the_stream_stops_when_no_rep_syncs_with_the_org_any_more(live: Live) -> None:
    world, stream = started(live)
    assert live.rep is not None
    task_sync.set_mode(world.runtime, live.rep, "off")
    world.advance(minutes=1)
    world.sf_create("ana", Subject="Nobody listens")
    for _ in range(50):
        if not stream.step(0.2):
            break
    else:
        raise AssertionError("the stream kept running")
    assert live.state(stream).mode == task_streams.POLLING
    assert world.all_tasks() == []
