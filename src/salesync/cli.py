"""The ``salesync`` command line (typer)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from salesync.errors import ConfigurationError, SalesyncError
from salesync.runtime import Runtime, load_settings
from salesync.services import accounts
from salesync.store import migrate
from salesync.store.db import check_connection, unit_of_work
from salesync.store.tables import Role

app = typer.Typer(
    help="salesync keeps a sales team's emails, calls and reminder tasks in step with Salesforce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

#: Exit statuses: 2 for configuration (like a usage error), 1 for anything else refused.
EXIT_CONFIG = 2
EXIT_FAILURE = 1


def _runtime() -> Runtime:
    return Runtime.build(load_settings())


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the database migrations (creates the SQLite file when needed)."""
    runtime = _runtime()
    check_connection(runtime.engine)
    migrate.upgrade(runtime.engine, revision)
    url = runtime.engine.url.render_as_string(hide_password=True)
    console.print(f"database [bold]{url}[/bold] is at revision {revision}")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="Sign-in email of the user.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    time_zone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris.")] = "UTC",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="SALESYNC_NEW_USER_PASSWORD",
            help="Password (prompted when not given).",
        ),
    ] = "",
) -> None:
    """Create a user (the first one also creates the team)."""
    runtime = _runtime()
    check_connection(runtime.engine)
    migrate.upgrade(runtime.engine)
    new = accounts.NewUser(
        email=email,
        name=name,
        password=password,
        role=Role.ADMIN if admin else Role.REP,
        time_zone=time_zone,
    )
    with unit_of_work(runtime.sessions) as session:
        user = accounts.add_user(session, new, now=runtime.clock.now())
        role = user.role.value
    console.print(f"created {role} [bold]{user.email}[/bold]")


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Port of the sandbox org.")] = 8555,
    smtp_port: Annotated[int, typer.Option(help="Port of the demo mail catcher.")] = 2525,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the previous demo's data instead of starting over.")
    ] = False,
) -> None:
    """Start a seeded sandbox Salesforce org, the web app and a worker: the full product
    on SQLite, with no configuration. Sign in with the printed passwords."""
    from salesync.demo import run_demo

    run_demo(port=port, sandbox_port=sandbox_port, smtp_port=smtp_port, keep=keep, console=console)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    with_worker: Annotated[
        bool, typer.Option("--with-worker/--no-worker", help="Also run a sync worker.")
    ] = True,
) -> None:
    """Serve the web app and JSON API (and, by default, a sync worker in the same process)."""
    import threading

    import uvicorn

    from salesync.sync.factory import build_worker
    from salesync.web.app import create_app

    runtime = _runtime()
    check_connection(runtime.engine)
    migrate.upgrade(runtime.engine)
    stop = threading.Event()
    if with_worker:
        worker = build_worker(runtime)
        threading.Thread(target=worker.run_forever, args=(stop,), daemon=True).start()
    console.print(f"salesync on http://{host}:{port}")
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")
    finally:
        stop.set()


@app.command("worker")
def worker_command() -> None:
    """Run a sync worker: pushes queued work to Salesforce and polls for changes.

    Start as many as you like, on as many machines: they share the work through leases in
    the database.
    """
    import signal
    import threading

    from salesync.sync.factory import build_worker

    runtime = _runtime()
    check_connection(runtime.engine)
    migrate.upgrade(runtime.engine)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = build_worker(runtime)
    console.print(f"worker {worker.worker_id} started; Ctrl+C stops it")
    try:
        worker.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


sync_app = typer.Typer(help="Run sync work by hand.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")


@sync_app.command("run")
def sync_run(
    once: Annotated[bool, typer.Option("--once", help="Drain what is ready, then exit.")] = False,
) -> None:
    """Process queued work now (``--once``: until nothing is ready, then exit)."""
    import threading

    from salesync.sync.factory import build_worker

    runtime = _runtime()
    check_connection(runtime.engine)
    migrate.upgrade(runtime.engine)
    worker = build_worker(runtime)
    if once:
        handled = worker.drain()
        for job in worker.periodic:
            job.run_once()
        console.print(f"processed {handled} queued items")
        return
    worker.run_forever(threading.Event())


@app.command("sandbox")
def sandbox_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8555,
    seed: Annotated[
        str, typer.Option(help="empty, demo, demo-no-reply or demo-type-default.")
    ] = "demo",
    db: Annotated[
        str | None, typer.Option(help="SQLite file that keeps the org across restarts.")
    ] = None,
    smtp_port: Annotated[
        int | None,
        typer.Option(help="Also accept mail here: Email to Salesforce and a mail catcher."),
    ] = None,
) -> None:
    """Serve a Salesforce-compatible sandbox org (REST, OAuth, SOQL, control plane)."""
    from salesync.sandbox.run import run_sandbox

    run_sandbox(host=host, port=port, seed=seed, db=db, smtp_port=smtp_port)


@app.command("diagnose")
def diagnose(
    email: Annotated[str, typer.Argument(help="Whose Diagnostics to show (an admin sees all).")],
) -> None:
    """Print the Diagnostics page in the terminal: what did not sync, why, and the fix."""
    from rich.table import Table

    from salesync.services import diagnostics
    from salesync.store import accounts as account_store

    runtime = _runtime()
    check_connection(runtime.engine)
    with runtime.sessions() as session:
        user = account_store.user_by_email(session, email)
        if user is None:
            raise SalesyncError(f"no user {email}")
        data = diagnostics.overview(session, user, now=runtime.clock.now())
    table = Table(title="Diagnostics")
    for column in ("category", "code", "items", "cause", "fix"):
        table.add_column(column, overflow="fold")
    for group in data.groups:
        table.add_row(group.category, group.code, str(group.count), group.cause, group.fix)
    console.print(table)
    console.print("backlog: " + (", ".join(f"{k} {v}" for k, v in data.backlog.items()) or "empty"))
    for usage in data.usage:
        console.print(
            f"org {usage.org_id}: {usage.org_used}/{usage.org_max} calls in 24 h, "
            f"salesync {usage.salesync_calls_24h} of its {usage.allowance} allowance"
        )


def main() -> None:
    """Console entry point: clear one-line errors instead of tracebacks."""
    try:
        app()
    except ConfigurationError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(EXIT_CONFIG)
    except SalesyncError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(EXIT_FAILURE)
