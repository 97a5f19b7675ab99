"""Control-plane routes for the Pub/Sub API (CDC entity selection, stream timings, faults)
and for Bulk API 2.0 query jobs (processing time)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesync.sandbox.http import ApiResponse, Router, json_response

if TYPE_CHECKING:
    from salesync.sandbox.control import ControlCall


def register(router: Router[ControlCall], prefix: str) -> None:
    router.add("GET PUT", prefix + r"/pubsub", settings)
    router.add("POST", prefix + r"/pubsub/faults", inject_fault)
    router.add("GET PUT", prefix + r"/bulk", bulk_settings)


def settings(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    """``cdcEntities`` is Setup -> Change Data Capture: the entities that publish events."""
    hub = call.org.pubsub
    if call.request.method == "PUT":
        body = call.body()
        if "cdcEntities" in body:
            entities: Any = body["cdcEntities"]
            if not isinstance(entities, list) or not all(isinstance(e, str) for e in entities):
                raise ValueError("cdcEntities must be a list of sObject names")
            unknown = [e for e in entities if e not in call.org.schema.objects]
            if unknown:
                raise ValueError(f"no sObject {', '.join(unknown)}")
            hub.cdc_entities = set(entities)
        if "keepaliveSeconds" in body:
            hub.keepalive_seconds = _positive(body["keepaliveSeconds"], "keepaliveSeconds")
        if "idleCloseSeconds" in body:
            hub.idle_close_seconds = _positive(body["idleCloseSeconds"], "idleCloseSeconds")
        hub.notify()
    return json_response(
        200,
        {
            "cdcEntities": sorted(hub.cdc_entities),
            "keepaliveSeconds": hub.keepalive_seconds,
            "idleCloseSeconds": hub.idle_close_seconds,
            "openStreams": len(hub.streams),
            "subscribes": hub.subscribes,
        },
    )


def inject_fault(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    """``{"kind": "drop_stream" | "expire_token" | "client_limit"}``.

    ``expire_token`` also ends the org's access tokens, so the client must refresh before it
    can subscribe again.
    """
    kind = str(call.body().get("kind", ""))
    hit = call.org.pubsub.inject(kind)
    if kind == "expire_token":
        call.org.tokens.expire_access(call.org.clock.now(), None)
    return json_response(200, {"kind": kind, "streams": hit})


def _positive(value: Any, name: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(f"{name} must be above zero")
    return number


def bulk_settings(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    """``processingSeconds``: how long (sandbox clock) a Bulk API 2.0 query job runs."""
    book = call.org.bulk
    if call.request.method == "PUT":
        seconds = float(call.body().get("processingSeconds", book.processing_seconds))
        if seconds < 0:
            raise ValueError("processingSeconds must not be negative")
        book.processing_seconds = seconds
    return json_response(
        200,
        {
            "processingSeconds": book.processing_seconds,
            "jobs": len(book.jobs),
            "jobsCreated": book.created,
        },
    )
