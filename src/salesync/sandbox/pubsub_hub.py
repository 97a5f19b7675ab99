"""What the sandbox's Pub/Sub server shares with the rest of the org: settings, open streams,
faults, and a wake-up when the org commits change events.

Not persisted: CDC entity selection and stream faults are test and demo knobs, like the
fault book.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

#: Faults a test can put on the open streams (see ``POST /__sandbox__/pubsub/faults``).
DROP_STREAM = "drop_stream"  # UNAVAILABLE, as a reset HTTP/2 stream
EXPIRE_TOKEN = "expire_token"  # the session ends: auth error on every open stream
CLIENT_LIMIT = "client_limit"  # new Subscribe calls: concurrent client limit exceeded
FAULT_KINDS = (DROP_STREAM, EXPIRE_TOKEN, CLIENT_LIMIT)


@dataclass
class OpenStream:
    """A Subscribe call being served; faults are delivered through ``fault``."""

    id: int
    topic: str
    user_id: str
    fault: str | None = None


@dataclass
class PubSubHub:
    #: Entities selected under Setup -> Change Data Capture (API-FACTS §5).
    cdc_entities: set[str] = field(default_factory=lambda: {"Task"})
    #: Seconds without events before an empty keepalive FetchResponse (real: within 270 s).
    keepalive_seconds: float = 270.0
    #: Seconds a stream with nothing requested waits for a FetchRequest (real: 60 s).
    idle_close_seconds: float = 60.0
    #: Subscribe calls refused with concurrent.client.limit.exceeded while above zero.
    refuse_clients: int = 0
    streams: dict[int, OpenStream] = field(default_factory=dict)
    subscribes: int = 0
    #: Moves on every wake-up, so a stream never sleeps through one that came just before.
    generation: int = 0
    _next_id: int = 1
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def open(self, topic: str, user_id: str) -> OpenStream:
        with self._changed:
            stream = OpenStream(self._next_id, topic, user_id)
            self._next_id += 1
            self.subscribes += 1
            self.streams[stream.id] = stream
            return stream

    def close(self, stream: OpenStream) -> None:
        with self._changed:
            self.streams.pop(stream.id, None)

    def inject(self, kind: str) -> int:
        """Put a fault on every open stream (or, for the client limit, on the next call)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        with self._changed:
            if kind == CLIENT_LIMIT:
                self.refuse_clients += 1
                return 0
            for stream in self.streams.values():
                stream.fault = kind
            self.generation += 1
            self._changed.notify_all()
            return len(self.streams)

    def take_client_refusal(self) -> bool:
        with self._changed:
            if self.refuse_clients <= 0:
                return False
            self.refuse_clients -= 1
            return True

    def notify(self) -> None:
        """Wake the streams: events were committed, or a request or fault arrived."""
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Sleep until a wake-up after generation ``seen`` (or ``timeout``); the generation."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation != seen, timeout)
            return self.generation
