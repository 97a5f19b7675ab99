"""``salesync demo``: a seeded sandbox org, the web app and a worker, on SQLite, in one process.

Everything lives in its own folder (``<data dir>/demo``) so a demo never touches a real
installation. Before changing anything the demo takes its lock (one demo per data folder) and
checks its ports; it says "ready" and prints the passwords only once the web app answers.
While it runs, the other ``salesync`` commands work on its database (see demo_lock).
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.table import Table

from salesync import demo_data
from salesync.demo_data import DemoCredentials
from salesync.demo_lock import DemoLock, check_ports_free
from salesync.errors import SalesyncError
from salesync.runtime import Runtime, load_settings
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.e2s_listener import SandboxSmtpServer
from salesync.sandbox.org import Org
from salesync.services.mailbox_demo import start_demo_mailboxes
from salesync.serving import ServerThread
from salesync.store import migrate
from salesync.sync.factory import build_worker

#: How long the web app may take to answer its first request.
READY_TIMEOUT_SECONDS = 60


def _fresh_folder(folder: Path, keep: bool) -> None:
    if folder.exists() and not keep:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def _wait_until_answering(url: str, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Return once ``url`` answers 200; the demo says "ready" only then."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SalesyncError(f"the web app did not answer at {url}")
        time.sleep(0.2)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    sandbox_port: int = 8555,
    smtp_port: int = 2525,
    keep: bool = False,
    console: Console | None = None,
) -> None:
    console = console or Console()
    base = load_settings()
    folder = base.data_dir / "demo"
    web_url = f"http://{host}:{port}"
    lock = DemoLock(base.data_dir)
    lock.acquire(folder, web_url)
    try:
        check_ports_free(
            host, {"--port": port, "--sandbox-port": sandbox_port, "--smtp-port": smtp_port}
        )
        _fresh_folder(folder, keep)
        _run(console, host, port, sandbox_port, smtp_port, folder)
    finally:
        lock.release()


def _run(
    console: Console, host: str, port: int, sandbox_port: int, smtp_port: int, folder: Path
) -> None:
    from salesync.web.app import create_app

    console.print(f"starting the demo in {folder} …")
    org = Org.open(folder / "sandbox-org.db", seed="demo")
    sandbox = ServerThread(create_sandbox_app(org), host, sandbox_port)
    sandbox.start()
    # The sandbox's own SMTP listener: Email to Salesforce for BCC logging, and a catcher that
    # keeps every other message salesync sends (visible at /__sandbox__/mail).
    mail = SandboxSmtpServer(org, host, smtp_port)
    mail.start()
    stop = threading.Event()
    web: ServerThread | None = None
    try:
        settings = load_settings(
            data_dir=folder,
            database_url=f"sqlite:///{folder / 'salesync.db'}",
            salesforce_login_url=sandbox.base_url,
            salesforce_sandbox_login_url=sandbox.base_url,
            base_url=f"http://{host}:{port}",
            smtp_host=host,
            smtp_port=mail.port,
            poll_interval_seconds=5,
        )
        runtime = Runtime.build(settings)
        migrate.upgrade(runtime.engine)
        credentials = demo_data.users(runtime)
        demo_data.connect(runtime, org, sandbox.base_url)
        demo_data.people(runtime, org)
        demo_data.reminders(runtime, org)
        start_demo_mailboxes(runtime)  # where Dovecot is installed: a mailbox per rep
        threading.Thread(
            target=build_worker(runtime).run_forever, args=(stop,), daemon=True
        ).start()
        web = ServerThread(create_app(runtime), host, port)
        web.start()
        _wait_until_answering(f"{web.base_url}/login")
        _print_welcome(console, runtime, sandbox.base_url, mail.port, credentials)
        _stop_on_signals(stop)
        stop.wait()
        console.print("stopping the demo …")
    finally:
        stop.set()
        if web is not None:
            web.stop()
        mail.stop()
        sandbox.stop()
        org.save()


def _print_welcome(
    console: Console,
    runtime: Runtime,
    sandbox_url: str,
    smtp_port: int,
    credentials: list[DemoCredentials],
) -> None:
    folder = runtime.settings.data_dir
    web_url = str(runtime.settings.base_url).rstrip("/")
    console.print(f"[bold green]ready[/bold green]: salesync demo at {web_url}", soft_wrap=True)
    console.print(
        f"  Salesforce sandbox org: {sandbox_url}  (its own pages: Tasks, Contacts, …)",
        soft_wrap=True,
    )
    console.print(
        f"  mail (SMTP):            {runtime.settings.smtp_host}:{smtp_port}  "
        f"(caught mail: {sandbox_url}/__sandbox__/mail)",
        soft_wrap=True,
    )
    table = Table("sign in as", "password", "role")
    for credential in credentials:
        table.add_row(credential.email, credential.password, credential.role)
    console.print(table)
    console.print(
        "Each user is connected to their sandbox Salesforce user; the reps have two-way task "
        "sync on, with a few reminders on each side."
    )
    console.print(
        "While the demo runs, other salesync commands use its data, for example:\n"
        f"  .venv/bin/salesync diagnose {credentials[0].email}\n"
        f"(from elsewhere: SALESYNC_DATA_DIR={folder} salesync …). Ctrl+C stops the demo.",
        highlight=False,
        soft_wrap=True,
    )
