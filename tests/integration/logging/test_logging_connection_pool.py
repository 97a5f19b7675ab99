"""The reps of one org share the worker's keep-alive connections to the org's host.

The sandbox is served behind an ASGI wrapper that notes each request's client address: one
TCP connection is one client port. Two reps logged one after the other by the same handler
must reuse one connection, not open one per rep, and no cookie crosses from one to the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from salesync.runtime import Runtime
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import serve_in_thread
from salesync.sync.activity_logging import ActivityLoggingHandler
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import Sandbox, add_user, build_runtime, connect
from tests.integration.logging.test_logging_api import send
from tests.support import FakeClock


class _NotingApp:
    """Passes every request on, noting the client port it came from and its Cookie header."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ports: list[int] = []
        self.cookies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/services/data/"):
            self.ports.append(scope["client"][1])
            self.cookies.extend(v for k, v in scope["headers"] if k == b"cookie")

            async def send_with_cookie(message: Any) -> None:
                if message["type"] == "http.response.start":
                    headers = [*message.get("headers", []), (b"set-cookie", b"BrowserId=x; Path=/")]
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send)


@pytest.fixture
def noted() -> Iterator[tuple[Sandbox, _NotingApp]]:
    org = Org("demo")
    app = _NotingApp(create_sandbox_app(org))
    with serve_in_thread(app) as server:
        yield Sandbox(org, server.base_url), app


def test_reps_of_one_org_reuse_one_connection_and_carry_no_cookie(
    engine: Engine,
    noted: tuple[Sandbox, _NotingApp],
    tmp_path: Path,
    live_clock: FakeClock,
) -> None:
    sandbox, app = noted
    runtime: Runtime = build_runtime(engine, sandbox, tmp_path, live_clock)
    reps = [add_user(runtime, f"rep{n}@salesync.test") for n in (1, 2)]
    for number, rep in enumerate(reps, start=1):
        connect(runtime, sandbox, rep, f"rep{number}")
    handler = ActivityLoggingHandler(runtime)
    worker = Worker(runtime, [handler])
    try:
        for rep in reps:  # one rep after the other: the second finds the first's connection
            send(runtime, rep, ["someone.new@unknown.example"])
            assert worker.drain() == 1
    finally:
        handler.close()

    # Each rep read its org and looked its recipient up (one call each, nobody to log to).
    assert len(app.ports) == 2
    assert len(set(app.ports)) == 1, app.ports
    # Salesforce may set cookies; a pool shared by several users keeps none of them.
    assert app.cookies == []
