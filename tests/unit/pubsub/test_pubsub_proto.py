"""The generated Pub/Sub API modules carry the documented names and field numbers."""

from __future__ import annotations

import pytest

from salesync.pubsub_proto import pubsub_api_pb2 as pb

DOCUMENTED = {
    "FetchRequest": {
        "topic_name": 1,
        "replay_preset": 2,
        "replay_id": 3,
        "num_requested": 4,
        "auth_refresh": 5,
    },
    "FetchResponse": {
        "events": 1,
        "latest_replay_id": 2,
        "rpc_id": 3,
        "pending_num_requested": 4,
    },
    "ConsumerEvent": {"event": 1, "replay_id": 2},
    "ProducerEvent": {"id": 1, "schema_id": 2, "payload": 3, "headers": 4},
    "EventHeader": {"key": 1, "value": 2},
    "SchemaRequest": {"schema_id": 1},
    "SchemaInfo": {"schema_json": 1, "schema_id": 2, "rpc_id": 3},
    "TopicRequest": {"topic_name": 1},
    "TopicInfo": {
        "topic_name": 1,
        "tenant_guid": 2,
        "can_publish": 3,
        "can_subscribe": 4,
        "schema_id": 5,
        "rpc_id": 6,
    },
    "PublishRequest": {"topic_name": 1, "events": 2, "auth_refresh": 3},
    "PublishResponse": {"results": 1, "schema_id": 2, "rpc_id": 3},
    "PublishResult": {"replay_id": 1, "error": 2, "correlation_key": 3},
    "Error": {"code": 1, "msg": 2},
    "ManagedFetchRequest": {
        "subscription_id": 1,
        "developer_name": 2,
        "num_requested": 3,
        "auth_refresh": 4,
        "commit_replay_id_request": 5,
    },
    "CommitReplayResponse": {
        "commit_request_id": 1,
        "replay_id": 2,
        "error": 3,
        "process_time": 4,
    },
}


@pytest.mark.parametrize("message", sorted(DOCUMENTED))
def test_field_numbers_match_the_documented_proto(message: str) -> None:
    descriptor = pb.DESCRIPTOR.message_types_by_name[message]
    numbers = {field.name: field.number for field in descriptor.fields}
    assert numbers == DOCUMENTED[message]


def test_the_service_and_enums_are_the_documented_ones() -> None:
    service = pb.DESCRIPTOR.services_by_name["PubSub"]
    assert service.full_name == "eventbus.v1.PubSub"
    assert {method.name for method in service.methods} >= {"Subscribe", "GetSchema", "GetTopic"}
    subscribe = service.methods_by_name["Subscribe"]
    assert subscribe.client_streaming and subscribe.server_streaming
    assert (pb.LATEST, pb.EARLIEST, pb.CUSTOM) == (0, 1, 2)
    assert pb.FetchRequest().replay_preset == pb.LATEST


def test_a_fetch_request_survives_the_wire() -> None:
    sent = pb.FetchRequest(
        topic_name="/data/TaskChangeEvent",
        replay_preset=pb.CUSTOM,
        replay_id=b"\x00\x01",
        num_requested=100,
    )
    assert pb.FetchRequest.FromString(sent.SerializeToString()) == sent
