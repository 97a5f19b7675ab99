"""Fixtures: one served sandbox for the session, a fresh Org behind it for every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import ServerThread, serve_in_thread
from tests.integration.sandbox.sandbox_support import Sandbox, SwitchableApp


@pytest.fixture(scope="session")
def served() -> Iterator[tuple[SwitchableApp, ServerThread]]:
    switch = SwitchableApp()
    with serve_in_thread(switch) as server:
        yield switch, server


@pytest.fixture
def sandbox_factory(
    served: tuple[SwitchableApp, ServerThread],
) -> Iterator[Any]:
    switch, server = served
    clients: list[httpx.Client] = []

    def make(seed: str = "empty") -> Sandbox:
        org = Org(seed)
        switch.app = create_sandbox_app(org)
        return Sandbox(org, server.base_url, clients)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def sandbox(sandbox_factory: Any) -> Sandbox:
    """A fresh org with the ``empty`` seed, served over HTTP."""
    made: Sandbox = sandbox_factory()
    return made


@pytest.fixture
def admin(sandbox: Sandbox) -> httpx.Client:
    """An API client authenticated as the org's admin."""
    return sandbox.client()
