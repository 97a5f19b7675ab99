"""The BCC tab through the JSON API over real HTTP, with an API token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import Depends

from salesync.services import accounts
from salesync.serving import serve_in_thread
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from salesync.web.api import bcc as bcc_api
from salesync.web.app import create_app
from salesync.web.deps import check_api_csrf
from tests.integration.bcc.conftest import BccWorld


@pytest.fixture
def api(world: BccWorld) -> Iterator[httpx.Client]:
    """A client of ``/api/v1`` authenticated as the rep."""
    app = create_app(world.runtime)
    if not any(getattr(route, "path", "") == "/api/v1/bcc" for route in app.routes):
        app.include_router(bcc_api.router, prefix="/api/v1", dependencies=[Depends(check_api_csrf)])
    with unit_of_work(world.runtime.sessions) as session:
        rep = session.get(User, world.rep.id)
        assert rep is not None
        token = accounts.create_api_token(session, rep, "tests", now=world.runtime.clock.now())
    with serve_in_thread(app) as server:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url + "/api/v1", headers=headers) as client:
            yield client


def test_activate_check_and_deactivate_through_the_api(world: BccWorld, api: httpx.Client) -> None:
    shown = api.get("/bcc").json()
    assert (shown["active"], shown["salesforce_address"]) == (False, world.e2s_address)
    activated = api.post("/bcc/activate", json={}).json()
    assert (activated["active"], activated["address"], activated["source"]) == (
        True,
        world.e2s_address,
        "salesforce",
    )
    checked = api.post("/bcc/test", timeout=30).json()
    assert checked["status"] == "logged", checked
    assert checked["task_id"] in {t["Id"] for t in world.e2s_tasks()}
    deactivated = api.post("/bcc/deactivate", json={"fallback": "api"}).json()
    assert (deactivated["active"], deactivated["logging_mode"]) == (False, "api")


def test_refusals_come_back_as_problems(world: BccWorld, api: httpx.Client) -> None:
    world.control("PUT", "email-to-salesforce", {"exposeAddressField": False})
    missing = api.post("/bcc/activate", json={})
    assert missing.status_code == 422
    [problem] = missing.json()["detail"]
    assert problem["field"] == "bcc_address"
    assert "My Email to Salesforce" in problem["message"]
    assert api.post("/bcc/activate", json={"address": "nope"}).status_code == 422
    world.override("bcc_only")
    assert api.post("/bcc/deactivate", json={}).status_code == 422
    assert api.post("/bcc/deactivate", json={"fallback": "bcc"}).status_code == 422
    shown = api.get("/bcc").json()
    assert (shown["force_mode"], shown["active"], shown["address"]) == ("bcc_only", True, None)
    assert shown["steps"] and shown["admin_steps"][-1] == "Click Save."
