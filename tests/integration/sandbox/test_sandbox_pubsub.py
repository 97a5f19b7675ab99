"""The sandbox's Pub/Sub API over real gRPC (API-FACTS §8, item 17)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from salesync.pubsub_proto import pubsub_api_pb2 as pb
from salesync.sandbox.pubsub_server import (
    AUTH_ERROR,
    REPLAY_ID_CORRUPTED,
    REPLAY_ID_VALIDATION,
    REQUESTED_INVALID,
    TOPIC_NOT_FOUND,
    PubSubServer,
    encode_replay_id,
)
from salesync.sandbox.seed import ADMIN_USERNAME
from tests.integration.sandbox.pubsub_support import (
    TOPIC,
    PubSubClient,
    admin_token,
    error_code,
    field_names,
)
from tests.integration.sandbox.sandbox_support import API, Sandbox


@pytest.fixture
def pubsub(sandbox: Sandbox) -> Iterator[PubSubClient]:
    with PubSubServer(sandbox.org, instance_urls=(sandbox.base_url,)) as server:
        client = PubSubClient(
            sandbox.org, server.address, sandbox.base_url, admin_token(sandbox.org)
        )
        yield client
        client.close()


def create_task(sandbox: Sandbox, **fields: Any) -> str:
    return str(sandbox.org.create_record("Task", {"Subject": "Call back", **fields}))


def control(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    response = sandbox.control().request(method, f"/__sandbox__/{path}", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def rpc_error(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


def next_events(responses: Any, count: int) -> list[pb.ConsumerEvent]:
    """Responses until ``count`` events arrived (keepalives are skipped)."""
    events: list[pb.ConsumerEvent] = []
    while len(events) < count:
        events.extend(next(responses).events)
    return events


# -- topics and schemas ----------------------------------------------------------------------


def test_get_topic_names_the_current_schema_and_get_schema_returns_it(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    info = pubsub.stub.GetTopic(pb.TopicRequest(topic_name=TOPIC), metadata=pubsub.metadata())
    assert (info.topic_name, info.can_subscribe, info.can_publish) == (TOPIC, True, False)
    assert info.tenant_guid == sandbox.org.org_id and info.rpc_id
    schema = pubsub.stub.GetSchema(
        pb.SchemaRequest(schema_id=info.schema_id), metadata=pubsub.metadata()
    )
    parsed = json.loads(schema.schema_json)
    assert schema.schema_id == info.schema_id and len(info.schema_id) == 22
    assert parsed["name"] == "TaskChangeEvent"
    names = [entry["name"] for entry in parsed["fields"]]
    assert names[0] == "ChangeEventHeader" and "Status" in names and "Id" not in names
    activity_date = next(e for e in parsed["fields"] if e["name"] == "ActivityDate")
    assert activity_date["type"] == ["null", {"type": "int", "logicalType": "date"}]


def test_unknown_topics_and_entities_not_selected_for_cdc_are_not_found(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    for topic in ("/data/NopeChangeEvent", "/event/Thing__e", "/data/ContactChangeEvent"):
        error = rpc_error(
            lambda t=topic: pubsub.stub.GetTopic(  # type: ignore[misc]
                pb.TopicRequest(topic_name=t), metadata=pubsub.metadata()
            )
        )
        assert error.code() is grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
        assert error_code(error) == TOPIC_NOT_FOUND
    control(sandbox, "PUT", "pubsub", {"cdcEntities": []})
    error = rpc_error(
        lambda: pubsub.stub.GetTopic(pb.TopicRequest(topic_name=TOPIC), metadata=pubsub.metadata())
    )
    assert error.code() is grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
    assert "Ensure the topic name is correct" in error.details()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "override",
    [
        {"accesstoken": "not-a-token"},
        {"tenantid": "00D000000000000AAA"},
        {"instanceurl": "https://elsewhere.my.salesforce.com"},
        {"instanceurl": ""},
    ],
)
def test_bad_auth_metadata_fails_with_the_auth_error_trailer(
    pubsub: PubSubClient, override: dict[str, str]
) -> None:
    error = rpc_error(
        lambda: pubsub.stub.GetTopic(
            pb.TopicRequest(topic_name=TOPIC), metadata=pubsub.metadata(**override)
        )
    )
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert error_code(error) == AUTH_ERROR
    assert "rpcId: " in error.details()  # type: ignore[attr-defined]


# -- events ----------------------------------------------------------------------------------


def test_events_arrive_avro_encoded_with_header_values_and_bitmaps(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    sandbox.org.clock.freeze()
    requests, responses = pubsub.subscribe()
    client = sandbox.client(ADMIN_USERNAME, **{"Sforce-Call-Options": "client=salesync"})
    created = client.post(
        f"{API}/sobjects/Task/",
        json={"Subject": "Call Ann", "ActivityDate": "2025-03-07", "Description": "x"},
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    patched = client.patch(
        f"{API}/sobjects/Task/{task_id}", json={"Status": "Completed", "Description": None}
    )
    assert patched.status_code == 204
    first, second = next_events(responses, 2)
    create, update = pubsub.decode(first), pubsub.decode(second)
    header = create["ChangeEventHeader"]
    assert (header["entityName"], header["changeType"], header["recordIds"]) == (
        "Task",
        "CREATE",
        [task_id],
    )
    assert "client=salesync" in header["changeOrigin"]
    now_ms = int(sandbox.org.clock.now().timestamp() * 1000)
    assert header["commitTimestamp"] == now_ms
    assert (create["Subject"], create["ActivityDate"]) == ("Call Ann", dt.date(2025, 3, 7))
    assert isinstance(create["CreatedDate"], dt.datetime)
    schema_json = pubsub.stub.GetSchema(
        pb.SchemaRequest(schema_id=second.event.schema_id), metadata=pubsub.metadata()
    ).schema_json
    update_header = update["ChangeEventHeader"]
    assert update_header["changeType"] == "UPDATE"
    assert {"Status", "Description", "LastModifiedDate"} <= field_names(
        update_header["changedFields"], schema_json
    )
    assert field_names(update_header["nulledFields"], schema_json) == {"Description"}
    assert update["Status"] == "Completed" and update["Subject"] is None  # unchanged: null
    assert second.replay_id > first.replay_id
    requests.close()


def test_flow_control_owes_at_most_what_was_requested_and_top_ups_add_up(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    requests, responses = pubsub.subscribe(num_requested=2)
    for index in range(5):
        create_task(sandbox, Subject=f"Task {index}")
    got = next(responses)
    assert len(got.events) == 2 and got.pending_num_requested == 0
    assert got.latest_replay_id == got.events[-1].replay_id
    requests.send(num_requested=1)
    requests.send(num_requested=200)  # adds up, capped at 100 owed
    rest = next_events(responses, 3)
    subjects = [pubsub.decode(event)["Subject"] for event in rest]
    assert subjects == ["Task 2", "Task 3", "Task 4"]
    requests.close()


def test_replay_presets_earliest_custom_and_latest(sandbox: Sandbox, pubsub: PubSubClient) -> None:
    ids = [create_task(sandbox, Subject=f"T{index}") for index in range(3)]
    _, earliest = pubsub.subscribe(replay_preset=pb.EARLIEST)
    events = next_events(earliest, 3)
    assert [pubsub.decode(e)["ChangeEventHeader"]["recordIds"][0] for e in events] == ids
    _, custom = pubsub.subscribe(replay_preset=pb.CUSTOM, replay_id=events[0].replay_id)
    after_first = next_events(custom, 2)
    assert [e.replay_id for e in after_first] == [e.replay_id for e in events[1:]]
    _, latest = pubsub.subscribe()
    newest = create_task(sandbox, Subject="new")
    [only] = next_events(latest, 1)
    assert pubsub.decode(only)["ChangeEventHeader"]["recordIds"] == [newest]


def test_expired_unknown_and_missing_replay_ids_fail_as_salesforce_reports_them(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    create_task(sandbox)
    create_task(sandbox)
    _, responses = pubsub.subscribe(replay_preset=pb.EARLIEST)
    old, _ = next_events(responses, 2)  # the event after ``old`` will be gone
    sandbox.org.clock.advance(dt.timedelta(hours=73))
    pubsub.token = admin_token(sandbox.org)  # the session timed out meanwhile
    create_task(sandbox)
    cases = [
        (old.replay_id, REPLAY_ID_CORRUPTED),  # past the 72-hour retention
        (encode_replay_id(10**9), REPLAY_ID_CORRUPTED),  # never issued
        (b"garbage", REPLAY_ID_CORRUPTED),
        (b"", REPLAY_ID_VALIDATION),
    ]
    for replay_id, code in cases:
        _, failing = pubsub.subscribe(replay_preset=pb.CUSTOM, replay_id=replay_id)
        error = rpc_error(lambda f=failing: next(f))  # type: ignore[misc]
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert error_code(error) == code


def test_requests_for_no_events_and_a_changed_topic_are_invalid(pubsub: PubSubClient) -> None:
    _, zero = pubsub.subscribe(num_requested=0)
    error = rpc_error(lambda: next(zero))
    assert error_code(error) == REQUESTED_INVALID
    requests, responses = pubsub.subscribe()
    requests.send(topic_name="/data/ChangeEvents", num_requested=1)
    error = rpc_error(lambda: next(responses))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_a_quiet_stream_gets_keepalives_with_the_latest_replay_id(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    control(sandbox, "PUT", "pubsub", {"keepaliveSeconds": 0.2})
    sandbox.org.create_record("Contact", {"LastName": "Other entity"})  # moves the bus
    requests, responses = pubsub.subscribe(replay_preset=pb.EARLIEST, num_requested=5)
    keepalive = next(responses)
    assert list(keepalive.events) == [] and keepalive.pending_num_requested == 5
    assert keepalive.latest_replay_id == encode_replay_id(sandbox.org.events.last_replay_id)
    requests.close()


def test_gap_events_arrive_with_their_change_type(sandbox: Sandbox, pubsub: PubSubClient) -> None:
    task_id = create_task(sandbox)
    _, responses = pubsub.subscribe()
    control(sandbox, "POST", "events/gap", {"changeType": "GAP_UPDATE", "recordIds": [task_id]})
    [gap] = next_events(responses, 1)
    decoded = pubsub.decode(gap)
    assert decoded["ChangeEventHeader"]["changeType"] == "GAP_UPDATE"
    assert decoded["ChangeEventHeader"]["recordIds"] == [task_id]
    assert decoded["Subject"] is None


# -- faults ----------------------------------------------------------------------------------


def test_a_dropped_stream_fails_unavailable(sandbox: Sandbox, pubsub: PubSubClient) -> None:
    _, responses = pubsub.subscribe()
    create_task(sandbox)
    next_events(responses, 1)
    assert control(sandbox, "POST", "pubsub/faults", {"kind": "drop_stream"})["streams"] == 1
    error = rpc_error(lambda: next(responses))
    assert error.code() is grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert error_code(error) is None


def test_an_expired_session_ends_the_stream_and_the_token(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    _, responses = pubsub.subscribe()
    create_task(sandbox)
    next_events(responses, 1)
    control(sandbox, "POST", "pubsub/faults", {"kind": "expire_token"})
    error = rpc_error(lambda: next(responses))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert error_code(error) == AUTH_ERROR
    _, again = pubsub.subscribe()
    assert error_code(rpc_error(lambda: next(again))) == AUTH_ERROR
    pubsub.token = admin_token(sandbox.org)
    _, fresh = pubsub.subscribe()
    create_task(sandbox)
    assert len(next_events(fresh, 1)) == 1


def test_the_client_limit_fault_refuses_the_next_subscribe(
    sandbox: Sandbox, pubsub: PubSubClient
) -> None:
    control(sandbox, "POST", "pubsub/faults", {"kind": "client_limit"})
    _, refused = pubsub.subscribe()
    assert error_code(rpc_error(lambda: next(refused))) == (
        "sfdc.platform.eventbus.grpc.concurrent.client.limit.exceeded"
    )
    _, accepted = pubsub.subscribe()
    create_task(sandbox)
    assert len(next_events(accepted, 1)) == 1


def test_settings_report_open_streams(sandbox: Sandbox, pubsub: PubSubClient) -> None:
    requests, responses = pubsub.subscribe()
    create_task(sandbox)
    next_events(responses, 1)
    state = control(sandbox, "GET", "pubsub")
    assert state["openStreams"] == 1 and state["cdcEntities"] == ["Task"]
    assert httpx.codes.OK == 200
    requests.close()
