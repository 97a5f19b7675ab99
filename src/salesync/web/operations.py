"""Endpoints for operators: /healthz, /readyz and /metrics, and the request-id middleware."""

from __future__ import annotations

import hmac
import re
import uuid

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesync.errors import DatabaseUnavailable
from salesync.logs import REQUEST_ID
from salesync.metrics import ERRORS
from salesync.runtime import Runtime
from salesync.store.db import check_connection
from salesync.store.migrate import alembic_config
from salesync.web.deps import RuntimeDep

router = APIRouter(include_in_schema=False)

REQUEST_ID_HEADER = "X-Request-ID"
#: An id a proxy sent is kept only when it is short and plain (it ends up in log lines).
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@router.get("/healthz")
def healthz() -> JSONResponse:
    """The process is up and answering; nothing else is checked."""
    return JSONResponse({"status": "ok"})


def migration_state(runtime: Runtime) -> tuple[set[str], set[str]]:
    """(revisions the database is at, revisions the code expects)."""
    expected = set(ScriptDirectory.from_config(alembic_config(runtime.engine)).get_heads())
    with runtime.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, expected


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the code's migration head."""
    try:
        check_connection(runtime.engine)
        current, expected = migration_state(runtime)
    except DatabaseUnavailable:
        # The reason stays in the log: the answer is public and must not describe the network.
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    if current != expected:
        body = {
            "status": "unavailable",
            "database": "reachable",
            "migrations": "behind",
            "hint": "run `salesync db upgrade`",
        }
        return JSONResponse(body, 503)
    return JSONResponse({"status": "ok", "database": "reachable", "migrations": "at head"})


@router.get("/metrics")
def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus metrics, for a scraper that sends ``Authorization: Bearer <token>``."""
    expected = runtime.settings.metrics_token.get_secret_value()
    if not expected:
        return PlainTextResponse("metrics are off: set SALESYNC_METRICS_TOKEN\n", 404)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        headers = {"WWW-Authenticate": "Bearer"}
        return PlainTextResponse("send the metrics token as a Bearer token\n", 401, headers)
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class RequestIdMiddleware:
    """Gives every request an id: in the log lines written while serving it, and in the
    ``X-Request-ID`` answer header. Counts 5xx answers as errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        request_id = sent if _CLIENT_ID.fullmatch(sent) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
                if message["status"] >= 500:
                    ERRORS.labels(error_class=f"http_{message['status']}").inc()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            ERRORS.labels(error_class=type(exc).__name__).inc()
            raise
        finally:
            REQUEST_ID.reset(token)
