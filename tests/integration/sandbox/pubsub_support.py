"""A plain gRPC client of the sandbox's Pub/Sub API, for the sandbox's own tests."""

from __future__ import annotations

import io
import json
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastavro
import grpc

from salesync.pubsub_proto import pubsub_api_pb2 as pb
from salesync.pubsub_proto import pubsub_api_pb2_grpc as pb_grpc
from salesync.sandbox.org import Org
from salesync.sandbox.seed import ADMIN_USERNAME

TOPIC = "/data/TaskChangeEvent"


class Requests:
    """The request side of a Subscribe call, fed by the test."""

    def __init__(self) -> None:
        self._queue: queue.Queue[pb.FetchRequest | None] = queue.Queue()

    def send(self, **fields: Any) -> None:
        self._queue.put(pb.FetchRequest(**fields))

    def close(self) -> None:
        self._queue.put(None)

    def __iter__(self) -> Iterator[pb.FetchRequest]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            yield item


@dataclass
class PubSubClient:
    org: Org
    address: str
    instance_url: str
    token: str

    def __post_init__(self) -> None:
        self.channel = grpc.insecure_channel(self.address)
        self.stub = pb_grpc.PubSubStub(self.channel)  # type: ignore[no-untyped-call]

    def metadata(self, **overrides: str) -> list[tuple[str, str]]:
        values = {
            "accesstoken": self.token,
            "instanceurl": self.instance_url,
            "tenantid": self.org.org_id,
            **overrides,
        }
        return list(values.items())

    def subscribe(self, **first: Any) -> tuple[Requests, Any]:
        """Open a Subscribe call; returns once the server has placed it (so a LATEST
        subscription sees what the test does next), or when the call failed."""
        opened = self.org.pubsub.subscribes
        requests = Requests()
        requests.send(**{"topic_name": TOPIC, "num_requested": 10, **first})
        responses = self.stub.Subscribe(iter(requests), metadata=self.metadata(), timeout=20)
        deadline = time.monotonic() + 10
        while self.org.pubsub.subscribes == opened and time.monotonic() < deadline:
            if responses.done():
                break
            time.sleep(0.01)
        return requests, responses

    def schema(self, schema_id: str) -> Any:
        info = self.stub.GetSchema(pb.SchemaRequest(schema_id=schema_id), metadata=self.metadata())
        return fastavro.parse_schema(json.loads(info.schema_json))

    def decode(self, event: pb.ConsumerEvent) -> dict[str, Any]:
        record = fastavro.schemaless_reader(
            io.BytesIO(event.event.payload), self.schema(event.event.schema_id), None
        )
        assert isinstance(record, dict)
        return record

    def close(self) -> None:
        self.channel.close()


def admin_token(org: Org) -> str:
    return org.issue_token(ADMIN_USERNAME).access_token


def field_names(bitmap: list[str], schema_json: str) -> set[str]:
    """Read a Pub/Sub bitmap list (element 0 only: Task has no compound fields)."""
    names = [entry["name"] for entry in json.loads(schema_json)["fields"]]
    if not bitmap:
        return set()
    bits = int(bitmap[0], 16)
    return {name for index, name in enumerate(names) if bits >> index & 1}


def error_code(error: grpc.RpcError) -> str | None:
    trailers = dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]
    value = trailers.get("error-code")
    return str(value) if value is not None else None
