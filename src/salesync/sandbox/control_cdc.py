"""Control-plane routes for change events: the polling stand-in for a CDC subscription, gaps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesync.sandbox.change_events import (
    InvalidReplayId,
    ReplayIdExpired,
    channel_entity,
)
from salesync.sandbox.http import ApiResponse, Router, json_response

if TYPE_CHECKING:
    from salesync.sandbox.control import ControlCall

DEFAULT_LIMIT, MAX_LIMIT = 100, 2000


def register(router: Router[ControlCall], prefix: str) -> None:
    router.add("GET", prefix + r"/events", summary)
    router.add("POST", prefix + r"/events/gap", inject_gap)
    router.add("GET", prefix + r"/events/(?P<channel>\w+)", read_channel)
    router.add("POST", prefix + r"/records/(?P<id>\w+)/undelete", undelete)


def summary(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    stream = call.org.events
    stream.expire(call.org.clock.now())
    return json_response(
        200,
        {
            "latestReplayId": stream.last_replay_id,
            "earliestReplayId": stream.expired_through,
            "retained": len(stream.events),
        },
    )


def read_channel(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    entity = channel_entity(params["channel"])
    if entity is not None and entity not in call.org.schema.objects:
        raise ValueError(f"no sObject {entity} for channel {params['channel']}")
    after, limit = _replay_arguments(call.request.query)
    stream = call.org.events
    stream.expire(call.org.clock.now())
    try:
        page = stream.read(entity, after, limit)
    except ReplayIdExpired as expired:
        # Sandbox-specific: the real Pub/Sub API refuses an invalid replay id instead.
        return _replay_error("REPLAY_ID_EXPIRED", str(expired), expired.earliest)
    except InvalidReplayId as invalid:
        return _replay_error("INVALID_REPLAY_ID", str(invalid), stream.expired_through)
    events = [event.to_json() for event in page.events]
    return json_response(200, {"events": events, "latestReplayId": page.resume_after})


def _replay_arguments(query: dict[str, str]) -> tuple[int | None, int]:
    raw_after = query.get("replayId")
    after = int(raw_after) if raw_after not in (None, "") else None
    limit = int(query.get("limit") or DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return after, limit


def _replay_error(code: str, message: str, earliest: int) -> ApiResponse:
    return json_response(400, {"errorCode": code, "message": message, "earliestReplayId": earliest})


def inject_gap(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    record_ids: Any = body.get("recordIds") or []
    if not isinstance(record_ids, list) or not all(isinstance(i, str) for i in record_ids):
        raise ValueError("recordIds must be a list of record ids")
    replay_id = call.org.inject_gap_event(
        str(body.get("entity", "Task")), str(body.get("changeType", "")), record_ids
    )
    [event] = call.org.events.read(None, replay_id - 1, 1).events
    return json_response(201, event.to_json())


def undelete(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    call.org.undelete_record(params["id"], as_user=call.request.query.get("asUser"))
    return json_response(200, {"id": params["id"]})
