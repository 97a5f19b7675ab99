"""Fixtures for browser tests: the whole product served live, and Chromium driven by Playwright.

``live_app`` runs what a team runs — a sandbox org, the web app and a sync worker — over real
HTTP on ephemeral ports, with an admin and a rep who can sign in. ``page`` is a Chromium page
(Debian's ``/usr/bin/chromium``; Playwright's own browser download is not used). Screenshots
go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from salesync.mail.catcher import CapturingSmtpServer
from salesync.runtime import Runtime
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import ServerThread
from salesync.settings import Settings
from salesync.store import migrate
from salesync.store.crypto import SecretBox
from salesync.store.db import create_db_engine, session_factory
from salesync.store.tables import User
from salesync.sync.factory import build_worker
from tests.fixtures_sandbox import Sandbox, add_user

CHROMIUM = os.environ.get("SALESYNC_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PASSWORD = "long enough password"
#: The flags a headless Chromium needs on a machine without a display or outside network.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _LateApp:
    """An ASGI app set after the server has its port (the app's settings need that port)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class LiveApp:
    base_url: str
    runtime: Runtime
    sandbox: Sandbox
    mail: CapturingSmtpServer
    admin: User
    rep: User

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    """Sandbox org + mail catcher + web app + worker, on a fresh SQLite database."""
    from salesync.web.app import create_app

    org = Org("demo")
    sandbox_server = ServerThread(create_sandbox_app(org))
    sandbox_server.start()
    seeded = frozenset(str(row["Id"]) for row in org.records.rows("Task"))
    sandbox = Sandbox(org, sandbox_server.base_url, seeded)
    mail = CapturingSmtpServer()
    mail.start()
    late = _LateApp()
    web = ServerThread(late)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'salesync.db'}")
    migrate.upgrade(engine)
    settings = Settings(
        data_dir=tmp_path,
        database_url=str(engine.url),
        salesforce_login_url=sandbox.base_url,  # type: ignore[arg-type]
        salesforce_sandbox_login_url=sandbox.base_url,  # type: ignore[arg-type]
        base_url=web.base_url,  # type: ignore[arg-type]
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        poll_interval_seconds=1,
    )
    from salesync.clock import SystemClock

    runtime = Runtime(
        settings, engine, session_factory(engine), SecretBox(b"k" * 40), SystemClock()
    )
    late.app = create_app(runtime)
    web.start()
    admin = add_user(runtime, "admin@salesync.test", admin=True, tz="America/New_York")
    rep = add_user(runtime, "rep1@salesync.test", tz="America/Los_Angeles")
    stop = threading.Event()
    worker = threading.Thread(target=build_worker(runtime).run_forever, args=(stop,), daemon=True)
    worker.start()
    try:
        yield LiveApp(web.base_url, runtime, sandbox, mail, admin, rep)
    finally:
        stop.set()
        worker.join(timeout=10)
        web.stop()
        mail.stop()
        sandbox_server.stop()
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save the page as ``test-artifacts/screenshots/<name>.png`` (kept for review)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, app: LiveApp, email: str) -> None:
    page.goto(app.url("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
