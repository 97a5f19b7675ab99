"""The sandbox's Pub/Sub API: gRPC ``eventbus.v1.PubSub`` over the org's change-event log.

``GetTopic``, ``GetSchema`` and ``Subscribe`` as documented (API-FACTS §8): auth metadata
(``accesstoken``, ``instanceurl``, ``tenantid``), flow control by ``num_requested`` (at most
100 owed, top-ups add up, ``pending_num_requested`` on every response), keepalives carrying
the latest replay id, replay presets, the 72-hour retention and Salesforce's error trailers.
Plaintext on loopback; a client points at ``host:port``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc

from salesync.pubsub_proto import pubsub_api_pb2 as pb
from salesync.pubsub_proto import pubsub_api_pb2_grpc as pb_grpc
from salesync.sandbox.change_events import (
    ChangeEvent,
    EventPage,
    InvalidReplayId,
    ReplayIdExpired,
)
from salesync.sandbox.org import Org
from salesync.sandbox.pubsub_avro import EventSchema, encode_event, event_schema
from salesync.sandbox.pubsub_hub import DROP_STREAM, EXPIRE_TOKEN, OpenStream

#: API-FACTS §8.5/8.6: Salesforce's codes, sent in the ``error-code`` trailer.
AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
REPLAY_ID_CORRUPTED = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
REPLAY_ID_VALIDATION = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed"
REQUESTED_INVALID = "sfdc.platform.eventbus.grpc.subscription.fetch.requested.events.invalid"
CLIENT_LIMIT = "sfdc.platform.eventbus.grpc.concurrent.client.limit.exceeded"
#: Not in the pages read (third-party code uses it); the NOT_FOUND message is Salesforce's.
TOPIC_NOT_FOUND = "sfdc.platform.eventbus.grpc.subscription.topic.notfound"
#: API-FACTS §8.4: at most 100 events owed on one Subscribe call.
MAX_REQUESTED = 100
ALL_CHANGE_EVENTS = "/data/ChangeEvents"
#: How long a stream sleeps between looks when nothing wakes it.
_TICK = 0.25


def encode_replay_id(replay_id: int) -> bytes:
    """The sandbox's opaque replay id: 8 bytes, big-endian."""
    return replay_id.to_bytes(8, "big")


def decode_replay_id(raw: bytes) -> int | None:
    return int.from_bytes(raw, "big") if len(raw) == 8 else None


def _rpc_id() -> str:
    return str(uuid.uuid4())


def _abort(
    context: Any, status: Any, message: str, rpc_id: str, error_code: str | None = None
) -> NoReturn:
    trailers = [("rpc-id", rpc_id)]
    if error_code is not None:
        trailers.append(("error-code", error_code))
    context.set_trailing_metadata(tuple(trailers))
    context.abort(status, f"{message} rpcId: {rpc_id}")
    raise AssertionError("context.abort returns only by raising")


@dataclass
class _Requests:
    """What the client asked for on one Subscribe call (written by the reader thread)."""

    pending: int
    last_request: float = field(default_factory=time.monotonic)
    error: tuple[str, str] | None = None
    ended: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, count: int) -> None:
        with self.lock:
            self.pending = min(self.pending + count, MAX_REQUESTED)
            self.last_request = time.monotonic()

    def take(self, count: int) -> int:
        with self.lock:
            self.pending -= count
            return self.pending


class PubSubService(pb_grpc.PubSubServicer):
    """The servicer; one per org."""

    def __init__(self, org: Org, instance_urls: tuple[str, ...] = ()) -> None:
        self.org = org
        self.hub = org.pubsub
        #: Accepted ``instanceurl`` values; empty accepts any URL.
        self.instance_urls = frozenset(url.rstrip("/") for url in instance_urls)
        self._schemas: dict[str, EventSchema] = {}
        self._lock = threading.Lock()

    # -- unary calls ---------------------------------------------------------------------------

    def GetTopic(self, request: pb.TopicRequest, context: Any) -> pb.TopicInfo:
        rpc_id = _rpc_id()
        self._authorize(context, rpc_id)
        entity = self._entity(request.topic_name, context, rpc_id)
        schema_id = self._schema(entity).schema_id if entity is not None else ""
        return pb.TopicInfo(
            topic_name=request.topic_name,
            tenant_guid=self.org.org_id,
            can_publish=False,  # change events are published by the org, never by clients
            can_subscribe=True,
            schema_id=schema_id,
            rpc_id=rpc_id,
        )

    def GetSchema(self, request: pb.SchemaRequest, context: Any) -> pb.SchemaInfo:
        rpc_id = _rpc_id()
        self._authorize(context, rpc_id)
        with self.org.lock:
            entities = sorted(self.hub.cdc_entities & set(self.org.schema.objects))
        for entity in entities:
            schema = self._schema(entity)
            if schema.schema_id == request.schema_id:
                return pb.SchemaInfo(
                    schema_json=schema.schema_json, schema_id=schema.schema_id, rpc_id=rpc_id
                )
        with self._lock:
            known = self._schemas.get(request.schema_id)
        if known is not None:  # an older version of a schema still names retained events
            return pb.SchemaInfo(
                schema_json=known.schema_json, schema_id=known.schema_id, rpc_id=rpc_id
            )
        _abort(
            context,
            grpc.StatusCode.NOT_FOUND,
            f"The schema {request.schema_id} was not found.",
            rpc_id,
        )

    # -- Subscribe -----------------------------------------------------------------------------

    def Subscribe(
        self, request_iterator: Iterator[pb.FetchRequest], context: Any
    ) -> Iterator[pb.FetchResponse]:
        rpc_id = _rpc_id()
        user_id = self._authorize(context, rpc_id)
        if self.hub.take_client_refusal():
            _abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "The number of concurrent clients exceeds the limit.",
                rpc_id,
                CLIENT_LIMIT,
            )
        first = next(request_iterator, None)
        if first is None:
            return
        entity = self._entity(first.topic_name, context, rpc_id)
        if first.num_requested <= 0:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "The number of requested events must be greater than zero.",
                rpc_id,
                REQUESTED_INVALID,
            )
        position = self._start(first, context, rpc_id)
        requests = _Requests(min(first.num_requested, MAX_REQUESTED))
        stream = self.hub.open(first.topic_name, user_id)
        reader = threading.Thread(
            target=self._read_requests,
            args=(request_iterator, first.topic_name, requests),
            name=f"pubsub-requests-{stream.id}",
            daemon=True,
        )
        reader.start()
        try:
            yield from self._serve(context, stream, requests, entity, position, rpc_id)
        finally:
            self.hub.close(stream)

    def _serve(
        self,
        context: Any,
        stream: OpenStream,
        requests: _Requests,
        entity: str | None,
        position: int,
        rpc_id: str,
    ) -> Iterator[pb.FetchResponse]:
        seen = self.hub.generation
        last_sent = time.monotonic()
        while context.is_active():
            self._check_faults(context, stream, requests, rpc_id)
            now = time.monotonic()
            if requests.pending > 0:
                page = self._read(entity, position, requests.pending, context, rpc_id)
                position = page.resume_after
                if page.events or now - last_sent >= self.hub.keepalive_seconds:
                    pending = requests.take(len(page.events))
                    yield self._response(page.events, position, pending, rpc_id)
                    last_sent = now
                    continue
            elif requests.ended or now - max(last_sent, requests.last_request) >= (
                self.hub.idle_close_seconds
            ):
                return  # nothing asked for in time: the server ends the call
            seen = self.hub.wait(seen, _TICK)

    def _check_faults(
        self, context: Any, stream: OpenStream, requests: _Requests, rpc_id: str
    ) -> None:
        if stream.fault == DROP_STREAM:
            _abort(context, grpc.StatusCode.UNAVAILABLE, "RST_STREAM closed stream", rpc_id)
        if stream.fault == EXPIRE_TOKEN:
            _abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "The session has expired; send a valid access token.",
                rpc_id,
                AUTH_ERROR,
            )
        if requests.error is not None:
            code, message = requests.error
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, message, rpc_id, code or None)

    def _read_requests(
        self, request_iterator: Iterator[pb.FetchRequest], topic: str, requests: _Requests
    ) -> None:
        try:
            for request in request_iterator:
                if request.topic_name and request.topic_name != topic:
                    requests.error = ("", "The topic name can't change within a subscription.")
                elif request.num_requested <= 0:
                    requests.error = (
                        REQUESTED_INVALID,
                        "The number of requested events must be greater than zero.",
                    )
                else:
                    requests.add(request.num_requested)
                self.hub.notify()
        except Exception:  # the call was cancelled or the client went away
            pass
        requests.ended = True
        self.hub.notify()

    def _start(self, first: pb.FetchRequest, context: Any, rpc_id: str) -> int:
        """The replay id delivery starts after (only the first request's preset counts)."""
        with self.org.lock:
            events = self.org.events
            events.expire(self.org.clock.now())
            if first.replay_preset == pb.EARLIEST:
                return events.expired_through
            if first.replay_preset != pb.CUSTOM:
                return events.last_replay_id
            if not first.replay_id:
                _abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "A CUSTOM replay preset needs a replay ID.",
                    rpc_id,
                    REPLAY_ID_VALIDATION,
                )
            after = decode_replay_id(first.replay_id)
            try:
                if after is None:
                    raise InvalidReplayId("not a replay id of this org")
                events.read(None, after, 1)
            except (InvalidReplayId, ReplayIdExpired):
                _abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "The Replay ID validation failed. Ensure that the Replay ID is valid and "
                    "that it is within the retention window.",
                    rpc_id,
                    REPLAY_ID_CORRUPTED,
                )
            return after

    def _read(
        self, entity: str | None, position: int, limit: int, context: Any, rpc_id: str
    ) -> EventPage:
        with self.org.lock:
            events = self.org.events
            events.expire(self.org.clock.now())
            try:
                return events.read(entity, position, limit)
            except ReplayIdExpired:
                _abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "Events after the stream's position are past the retention window.",
                    rpc_id,
                    REPLAY_ID_CORRUPTED,
                )

    def _response(
        self, events: list[ChangeEvent], position: int, pending: int, rpc_id: str
    ) -> pb.FetchResponse:
        consumer_events = []
        for event in events:
            schema = self._schema(event.entity)
            consumer_events.append(
                pb.ConsumerEvent(
                    # API-FACTS §8.5: change events carry no event id.
                    event=pb.ProducerEvent(
                        schema_id=schema.schema_id, payload=encode_event(event, schema)
                    ),
                    replay_id=encode_replay_id(event.replay_id),
                )
            )
        return pb.FetchResponse(
            events=consumer_events,
            latest_replay_id=encode_replay_id(position),
            rpc_id=rpc_id,
            pending_num_requested=pending,
        )

    # -- shared --------------------------------------------------------------------------------

    def _authorize(self, context: Any, rpc_id: str) -> str:
        metadata = {key: value for key, value in context.invocation_metadata()}
        token = str(metadata.get("accesstoken") or "")
        instance = str(metadata.get("instanceurl") or "").rstrip("/")
        tenant = str(metadata.get("tenantid") or "")
        with self.org.lock:
            user_id = self.org.authenticate(token) if token else None
            org_id, api_enabled = self.org.org_id, self.org.settings.api_enabled
        instance_ok = bool(instance) and (not self.instance_urls or instance in self.instance_urls)
        if user_id is None or tenant not in (org_id, org_id[:15]) or not instance_ok:
            _abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "An authentication exception occurred. Ensure that the access token, instance "
                "URL and tenant ID headers are valid.",
                rpc_id,
                AUTH_ERROR,
            )
        if not api_enabled:
            _abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                "The REST API is not enabled for this Organization.",
                rpc_id,
            )
        return user_id

    def _entity(self, topic: str, context: Any, rpc_id: str) -> str | None:
        """The entity of a change-event topic (None: every selected entity)."""
        with self.org.lock:
            selected = self.hub.cdc_entities & set(self.org.schema.objects)
        if topic == ALL_CHANGE_EVENTS and selected:
            return None
        name = topic.removeprefix("/data/")
        if topic.startswith("/data/") and name.endswith("ChangeEvent"):
            entity = name.removesuffix("ChangeEvent")
            if entity in selected:
                return entity
        _abort(
            context,
            grpc.StatusCode.NOT_FOUND,
            f"The topic information for org {self.org.org_id} and topic {topic} not found. "
            "Ensure the topic name is correct and that the topic exists.",
            rpc_id,
            TOPIC_NOT_FOUND,
        )

    def _schema(self, entity: str) -> EventSchema:
        with self.org.lock:
            obj = self.org.schema.get(entity)
            assert obj is not None
            schema = event_schema(obj)
        with self._lock:
            return self._schemas.setdefault(schema.schema_id, schema)


class PubSubServer:
    """A gRPC server for one org's Pub/Sub API on ``host:port`` (0: any free port)."""

    def __init__(
        self,
        org: Org,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        instance_urls: tuple[str, ...] = (),
        max_streams: int = 32,
    ) -> None:
        self._server = grpc.server(ThreadPoolExecutor(max_workers=max_streams))
        service = PubSubService(org, instance_urls)
        pb_grpc.add_PubSubServicer_to_server(service, self._server)  # type: ignore[no-untyped-call]
        self.port: int = self._server.add_insecure_port(f"{host}:{port}")
        self.address = f"{host}:{self.port}"

    def start(self) -> PubSubServer:
        self._server.start()
        return self

    def stop(self, grace: float = 0.5) -> None:
        self._server.stop(grace).wait()

    def __enter__(self) -> PubSubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
