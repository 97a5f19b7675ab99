"""``salesync demo``: a seeded sandbox org, the web app and a worker, on SQLite, in one process.

Everything lives in its own folder (``<data dir>/demo``) so a demo never touches a real
installation. A newcomer signs in with the printed passwords, sends an email, sees it land in
the sandbox org, and turns task sync on.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.table import Table

from salesync.passwords import hash_password
from salesync.runtime import Runtime, load_settings
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.e2s_listener import SandboxSmtpServer
from salesync.sandbox.org import Org
from salesync.sandbox.seed import username as sandbox_username
from salesync.services import accounts
from salesync.services.mailbox_demo import start_demo_mailboxes
from salesync.serving import ServerThread
from salesync.store import migrate
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    Person,
    Role,
    SalesforceConnection,
    User,
)
from salesync.sync.factory import build_worker

#: Demo users: (salesync email, name, role, time zone, sandbox user they connect as).
DEMO_USERS = (
    ("admin@demo.salesync.test", "Avery Admin", Role.ADMIN, "America/New_York", "admin"),
    ("rep1@demo.salesync.test", "Riley Rep", Role.REP, "America/Los_Angeles", "rep1"),
    ("rep2@demo.salesync.test", "Sam Seller", Role.REP, "Europe/Paris", "rep2"),
)
#: How many Salesforce contacts become salesync people, and how many of them carry ids.
DEMO_PEOPLE, DEMO_PEOPLE_WITH_IDS = 12, 6


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    role: str


def _fresh_folder(folder: Path, keep: bool) -> None:
    if folder.exists() and not keep:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def _users(runtime: Runtime) -> list[DemoCredentials]:
    """Create (or re-password) the demo users; passwords are new on every start."""
    credentials = []
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        for email, name, role, zone, _ in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            user = session.query(User).filter(User.email == email).one_or_none()
            if user is None:
                accounts.add_user(
                    session, accounts.NewUser(email, name, password, role, zone), now=now
                )
            else:
                user.password_hash = hash_password(password)
            credentials.append(DemoCredentials(email, password, role.value))
    return credentials


def _connect(runtime: Runtime, org: Org, base_url: str) -> None:
    """Connect each demo user to their sandbox user, as if they had clicked Connect."""
    box, now = runtime.secret_box, runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        for email, _, _, _, local in DEMO_USERS:
            user = session.query(User).filter(User.email == email).one()
            if session.query(SalesforceConnection).filter_by(user_id=user.id).first():
                continue
            login = sandbox_username(local)
            tokens = org.issue_token(login)
            sf_user = org.user_by_username(login)
            assert sf_user is not None
            session.add(
                SalesforceConnection(
                    team_id=user.team_id,
                    user_id=user.id,
                    purpose=ConnectionPurpose.USER,
                    environment="production",
                    login_url=base_url,
                    instance_url=base_url,
                    org_id=org.org_id,
                    sf_user_id=str(sf_user["Id"]),
                    sf_username=login,
                    sf_email=str(sf_user["Email"]),
                    access_token_enc=box.encrypt(tokens.access_token),
                    refresh_token_enc=box.encrypt(tokens.refresh_token or ""),
                    status=ConnectionStatus.CONNECTED,
                    connected_at=now,
                    updated_at=now,
                )
            )


def _people(runtime: Runtime, org: Org) -> None:
    """A few prospects from the sandbox's contacts: half with Salesforce ids, half by email."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        if session.query(Person).count():
            return
        rep = session.query(User).filter(User.email == DEMO_USERS[1][0]).one()
        contacts = [c for c in org.records.rows("Contact") if c.get("Email")][:DEMO_PEOPLE]
        for index, contact in enumerate(contacts):
            with_id = index < DEMO_PEOPLE_WITH_IDS
            session.add(
                Person(
                    team_id=rep.team_id,
                    owner_id=rep.id,
                    first_name=str(contact.get("FirstName") or ""),
                    last_name=str(contact.get("LastName") or ""),
                    email=str(contact["Email"]),
                    company="",
                    title=str(contact.get("Title") or ""),
                    sf_contact_id=str(contact["Id"]) if with_id else None,
                    sf_account_id=str(contact.get("AccountId") or "") or None if with_id else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        session.add(
            Person(
                team_id=rep.team_id,
                owner_id=rep.id,
                first_name="Una",
                last_name="Matched",
                email="una.matched@nowhere.example",
                created_at=now,
                updated_at=now,
            )
        )


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
    _fresh_folder(folder, keep)
    org = Org.open(folder / "sandbox-org.db", seed="demo")
    sandbox = ServerThread(create_sandbox_app(org), host, sandbox_port)
    sandbox.start()
    # The sandbox's own SMTP listener: Email to Salesforce for BCC logging, and a catcher that
    # keeps every other message salesync sends (visible at /__sandbox__/mail).
    mail = SandboxSmtpServer(org, host, smtp_port)
    mail.start()
    settings = load_settings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'salesync.db'}",
        salesforce_login_url=sandbox.base_url,
        salesforce_sandbox_login_url=sandbox.base_url,
        base_url=f"http://{host}:{port}",
        smtp_host=host,
        smtp_port=mail.port,
    )
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    credentials = _users(runtime)
    _connect(runtime, org, sandbox.base_url)
    _people(runtime, org)
    start_demo_mailboxes(runtime)  # where Dovecot is installed: a mailbox per rep
    stop = threading.Event()
    threading.Thread(target=build_worker(runtime).run_forever, args=(stop,), daemon=True).start()
    _print_welcome(console, runtime, sandbox.base_url, mail.port, credentials)
    from salesync.web.app import create_app

    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")
    finally:
        stop.set()
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
    console.print(f"[bold]salesync demo[/bold] at [link]{runtime.settings.base_url}[/link]")
    console.print(f"  sandbox Salesforce org: {sandbox_url}  (control plane: /__sandbox__)")
    console.print(
        f"  mail (SMTP):            127.0.0.1:{smtp_port}  (caught mail: "
        f"{sandbox_url}/__sandbox__/mail)"
    )
    table = Table("sign in as", "password", "role")
    for credential in credentials:
        table.add_row(credential.email, credential.password, credential.role)
    console.print(table)
    console.print("Each user is connected to their sandbox Salesforce user. Ctrl+C stops the demo.")
