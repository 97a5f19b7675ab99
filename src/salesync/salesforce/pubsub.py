"""A client of Salesforce's Pub/Sub API (gRPC): topics, schemas and Subscribe with flow control.

Every call carries the documented auth metadata (``accesstoken``, ``instanceurl``,
``tenantid``: API-FACTS §8.1). Failures come back as :class:`PubSubError` with Salesforce's
``error-code`` trailer, which is what tells an expired session (refresh and reconnect) from a
bad replay id (reconcile) from a missing topic (CDC not enabled: poll instead).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import grpc

    from salesync.pubsub_proto import pubsub_api_pb2 as pb

# grpc and the generated modules are imported where a channel is opened or a call fails, not
# here: every worker imports this module, and only orgs streaming Change Data Capture need them
# (about 30 ms of a worker's start-up).

AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
REPLAY_ID_CORRUPTED = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
REPLAY_ID_VALIDATION = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed"
#: API-FACTS §8.4: at most 100 events owed per Subscribe call.
MAX_REQUESTED = 100
#: Replay presets (API-FACTS §8.5), by name: FetchRequest takes an enum field's names too.
LATEST, EARLIEST, CUSTOM = "LATEST", "EARLIEST", "CUSTOM"


@dataclass(frozen=True)
class PubSubAuth:
    """The three metadata headers; ``repr`` never shows the token."""

    access_token: str
    instance_url: str
    tenant_id: str

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (
            ("accesstoken", self.access_token),
            ("instanceurl", self.instance_url),
            ("tenantid", self.tenant_id),
        )

    def __repr__(self) -> str:
        return f"PubSubAuth(instance_url={self.instance_url!r}, tenant_id={self.tenant_id!r})"


class PubSubError(Exception):
    """A failed Pub/Sub call: gRPC status name, Salesforce's error code, message."""

    def __init__(self, status: str, error_code: str | None, message: str) -> None:
        super().__init__(f"{status}: {message}" + (f" ({error_code})" if error_code else ""))
        self.status = status
        self.error_code = error_code
        self.message = message

    @property
    def auth_failed(self) -> bool:
        return self.error_code == AUTH_ERROR or self.status == "UNAUTHENTICATED"

    @property
    def replay_id_invalid(self) -> bool:
        return self.error_code in (REPLAY_ID_CORRUPTED, REPLAY_ID_VALIDATION)

    @property
    def topic_missing(self) -> bool:
        """The topic does not exist: for a change-event topic, CDC is off for the entity."""
        return self.status == "NOT_FOUND"

    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> PubSubError:
        call: Any = error
        trailers = dict(call.trailing_metadata() or ())
        code = trailers.get("error-code")
        return cls(call.code().name, str(code) if code else None, str(call.details() or ""))


@dataclass(frozen=True)
class TopicInfo:
    topic_name: str
    schema_id: str
    can_subscribe: bool


@dataclass(frozen=True)
class ReceivedEvent:
    replay_id: bytes
    schema_id: str
    payload: bytes


@dataclass(frozen=True)
class Batch:
    """One FetchResponse: events (none for a keepalive) and the newest replay id."""

    events: list[ReceivedEvent]
    latest_replay_id: bytes
    pending: int


class Subscription:
    """One Subscribe call. Responses are read on a thread of their own so that
    :meth:`next_batch` can wait with a timeout; requests top up before nothing is owed."""

    def __init__(self, stub: Any, auth: PubSubAuth, first: pb.FetchRequest) -> None:
        self._requests: queue.Queue[pb.FetchRequest | None] = queue.Queue()
        self._responses: queue.Queue[Batch | PubSubError | None] = queue.Queue()
        self._batch = first.num_requested
        self._requests.put(first)
        self._call = stub.Subscribe(self._request_iterator(), metadata=auth.metadata())
        self._reader = threading.Thread(target=self._read, name="pubsub-subscribe", daemon=True)
        self._reader.start()

    def _request_iterator(self) -> Iterator[pb.FetchRequest]:
        while True:
            request = self._requests.get()
            if request is None:
                return
            yield request

    def _read(self) -> None:
        import grpc

        from salesync.pubsub_proto import pubsub_api_pb2 as pb

        try:
            for response in self._call:
                events = [
                    ReceivedEvent(e.replay_id, e.event.schema_id, e.event.payload)
                    for e in response.events
                ]
                pending = response.pending_num_requested
                if pending == 0:  # ask again at once: the server closes an idle call
                    self._requests.put(pb.FetchRequest(num_requested=self._batch))
                self._responses.put(Batch(events, response.latest_replay_id, pending))
            self._responses.put(None)
        except grpc.RpcError as error:
            self._responses.put(PubSubError.from_rpc(error))

    def next_batch(self, timeout: float) -> Batch | None:
        """The next response, or None when none came within ``timeout`` seconds.

        Raises PubSubError when the call failed, EOFError when the server ended it.
        """
        try:
            item = self._responses.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(item, PubSubError):
            raise item
        if item is None:
            raise EOFError("the Pub/Sub server ended the subscription")
        return item

    def cancel(self) -> None:
        self._requests.put(None)
        self._call.cancel()


class PubSubClient:
    """A channel to one Pub/Sub endpoint (``host:port``); schemas are cached by id."""

    def __init__(self, endpoint: str, *, tls: bool = True) -> None:
        import grpc

        from salesync.pubsub_proto import pubsub_api_pb2_grpc as pb_grpc

        self.endpoint = endpoint
        if tls:
            self._channel = grpc.secure_channel(endpoint, grpc.ssl_channel_credentials())
        else:
            self._channel = grpc.insecure_channel(endpoint)
        self._stub: Any = pb_grpc.PubSubStub(self._channel)  # type: ignore[no-untyped-call]
        self._schemas: dict[str, str] = {}
        self._lock = threading.Lock()
        #: gRPC calls made (GetTopic, GetSchema, Subscribe), for tests and benches.
        self.calls = 0

    def get_topic(self, auth: PubSubAuth, topic: str) -> TopicInfo:
        from salesync.pubsub_proto import pubsub_api_pb2 as pb

        info = self._unary(self._stub.GetTopic, pb.TopicRequest(topic_name=topic), auth)
        return TopicInfo(info.topic_name, info.schema_id, info.can_subscribe)

    def schema_json(self, auth: PubSubAuth, schema_id: str) -> str:
        """The Avro schema of ``schema_id``, fetched once (schema ids are fingerprints)."""
        with self._lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        from salesync.pubsub_proto import pubsub_api_pb2 as pb

        info = self._unary(self._stub.GetSchema, pb.SchemaRequest(schema_id=schema_id), auth)
        with self._lock:
            self._schemas[schema_id] = info.schema_json
        return str(info.schema_json)

    def subscribe(
        self,
        auth: PubSubAuth,
        topic: str,
        *,
        preset: str = LATEST,
        replay_id: bytes = b"",
        batch: int = MAX_REQUESTED,
    ) -> Subscription:
        from salesync.pubsub_proto import pubsub_api_pb2 as pb

        first = pb.FetchRequest(
            topic_name=topic, replay_preset=preset, replay_id=replay_id, num_requested=batch
        )
        with self._lock:
            self.calls += 1
        return Subscription(self._stub, auth, first)

    def close(self) -> None:
        self._channel.close()

    def _unary(self, method: Any, request: Any, auth: PubSubAuth) -> Any:
        import grpc

        with self._lock:
            self.calls += 1
        try:
            return method(request, metadata=auth.metadata(), timeout=30)
        except grpc.RpcError as error:
            raise PubSubError.from_rpc(error) from None
