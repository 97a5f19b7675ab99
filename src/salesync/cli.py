"""The ``salesync`` command line (typer)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from salesync.errors import ConfigurationError, SalesyncError
from salesync.runtime import Runtime, load_settings
from salesync.services import accounts
from salesync.settings import Settings
from salesync.store import migrate
from salesync.store.db import check_connection, unit_of_work
from salesync.store.tables import Role

if TYPE_CHECKING:
    import threading

    from rich.progress import Progress

    from salesync.services import diagnostics
    from salesync.services.people import ImportReport
    from salesync.store.tables import User

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


def _settings() -> Settings:
    """The configured settings; while a demo runs on the default data, the demo's database."""
    from salesync.demo_lock import running_demo

    _warn_about_misspelt_variables()
    settings = load_settings()
    if settings.database_url:
        return settings
    demo = running_demo(settings.data_dir)
    if demo is None:
        return settings
    err_console.print(f"using the running demo's data in {demo.folder}", highlight=False)
    return load_settings(data_dir=demo.folder, database_url=demo.database_url)


def _warn_about_misspelt_variables() -> None:
    import os

    from salesync.settings import misspelt_variables

    for warning in misspelt_variables(os.environ):
        err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


def _runtime() -> Runtime:
    return Runtime.build(_settings())


def _migrated_runtime() -> Runtime:
    """For commands that read and write data: refuse, in one line, a database that is missing
    or not migrated (``salesync db upgrade`` creates and migrates it)."""
    from pathlib import Path

    runtime = _runtime()
    url = runtime.engine.url
    shown = url.render_as_string(hide_password=True)
    sqlite_file = url.database if url.get_backend_name() == "sqlite" else None
    if sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).exists():
        raise SalesyncError(
            f"no database at {sqlite_file}: create it with `salesync db upgrade` "
            "(or start `salesync demo`)"
        )
    check_connection(runtime.engine)
    current = migrate.current_revisions(runtime.engine)
    if not current:
        raise SalesyncError(f"the database {shown} is empty: set it up with `salesync db upgrade`")
    unknown = current - migrate.known_revisions(runtime.engine)
    if unknown:
        raise SalesyncError(
            f"the database {shown} is at revision {', '.join(sorted(unknown))}, which this "
            "version of salesync does not know: a newer salesync migrated it"
        )
    if current != migrate.head_revisions(runtime.engine):
        raise SalesyncError(
            f"the database {shown} needs migrating: run `salesync db upgrade` first"
        )
    return runtime


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create the database or bring it to the latest schema (SQLite: creates the file)."""
    runtime = _runtime()
    check_connection(runtime.engine)
    before = migrate.current_revisions(runtime.engine)
    migrate.upgrade(runtime.engine, revision)
    after = migrate.current_revisions(runtime.engine)
    url = runtime.engine.url.render_as_string(hide_password=True)
    at = ", ".join(sorted(after)) or "base"
    if before == after:
        console.print(
            f"database {url} was already up to date (revision {at})",
            highlight=False,
            soft_wrap=True,
        )
    elif not before:
        console.print(f"database {url} created (revision {at})", highlight=False, soft_wrap=True)
    else:
        was = ", ".join(sorted(before))
        console.print(
            f"database {url} migrated from revision {was} to {at}", highlight=False, soft_wrap=True
        )


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
            show_default=False,
            envvar="SALESYNC_NEW_USER_PASSWORD",
            help="Password (prompted for when not given).",
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


@user_app.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Argument(help="Sign-in email of the user.")],
    password: Annotated[
        str,
        typer.Option(
            prompt="New password",
            hide_input=True,
            confirmation_prompt=True,
            envvar="SALESYNC_NEW_USER_PASSWORD",
            help="New password (prompted when not given).",
        ),
    ] = "",
) -> None:
    """Set a user's password (e.g. a locked-out admin); every session of theirs ends."""
    from salesync.services import sign_in

    runtime = _runtime()
    check_connection(runtime.engine)
    migrate.upgrade(runtime.engine)
    user = sign_in.reset_password(runtime, None, email, password)
    console.print(f"new password set for [bold]{user.email}[/bold]; their sessions are ended")


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Port of the sandbox org.")] = 8555,
    smtp_port: Annotated[int, typer.Option(help="Port of the demo mail catcher.")] = 2525,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the previous demo's data instead of starting over.")
    ] = False,
) -> None:
    """Run the whole product on SQLite with no configuration.

    A seeded sandbox Salesforce org, the web app and a sync worker, in one process. Sign in
    with the passwords it prints once the web app answers.
    """
    from salesync.demo import run_demo

    _warn_about_misspelt_variables()
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

    from salesync.collector import starting_up

    with starting_up():
        import uvicorn

        from salesync.sync.factory import build_worker
        from salesync.web.app import create_app

        runtime = _serving_runtime()
        web_app = create_app(runtime)
        worker = build_worker(runtime) if with_worker else None
    stop = threading.Event()
    worker_thread = None
    if worker is not None:
        worker_thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
        worker_thread.start()
        _report_progress(runtime, stop)
    console.print(f"salesync on http://{host}:{port}")
    try:
        # uvicorn stops on SIGTERM/SIGINT; the worker then finishes its batch and its leases.
        uvicorn.run(web_app, host=host, port=port, log_level="warning")
    finally:
        stop.set()
        if worker_thread is not None:
            worker_thread.join(timeout=60)


@app.command("worker")
def worker_command() -> None:
    """Run a sync worker: it pushes queued work to Salesforce and polls for changes.

    Start as many as you like, on as many machines: they share the work through leases in
    the database. A line is printed whenever the queue moves.
    """
    import threading

    from salesync.collector import starting_up

    with starting_up():
        from salesync.sync.factory import build_worker
        from salesync.sync.worker import install_stop_signals

        runtime = _serving_runtime()
        worker = build_worker(runtime)
    stop = threading.Event()
    install_stop_signals(stop)
    console.print(f"worker {worker.worker_id} started; Ctrl+C stops it")
    _report_progress(runtime, stop)
    try:
        worker.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


def _serving_runtime() -> Runtime:
    """The runtime of a long-running command: its logging set up, its database reachable
    and at the latest migration."""
    from salesync.logs import configure_logging

    runtime = _runtime()
    configure_logging(runtime.settings.log_format)
    check_connection(runtime.engine)
    migrate.upgrade(runtime.engine)
    return runtime


def _report_progress(runtime: Runtime, stop: threading.Event) -> None:
    """Print a line whenever the queue moves, from a background thread, until ``stop``."""
    import threading
    import time

    from salesync.worker_progress import report_progress

    def say(line: str) -> None:
        console.print(f"{time.strftime('%H:%M:%S')} {line}", highlight=False)

    threading.Thread(target=report_progress, args=(runtime, stop, say), daemon=True).start()


sync_app = typer.Typer(help="Run sync work by hand.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")


@sync_app.command("run")
def sync_run(
    once: Annotated[bool, typer.Option("--once", help="Drain what is ready, then exit.")] = False,
) -> None:
    """Process queued work now; with --once, until nothing is ready, then exit."""
    import threading

    from salesync.collector import starting_up

    with starting_up():
        from salesync.sync.factory import build_worker

        runtime = _runtime()
        check_connection(runtime.engine)
        migrate.upgrade(runtime.engine)
        worker = build_worker(runtime)
    if once:
        handled = worker.drain()
        for job in worker.periodic:
            job.run_once()
        worker.close()
        console.print(f"processed {handled} queued items")
        return
    stop = threading.Event()
    console.print(f"worker {worker.worker_id} started; Ctrl+C stops it")
    _report_progress(runtime, stop)
    try:
        worker.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


@app.command("sandbox")
def sandbox_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8555,
    seed: Annotated[
        str,
        typer.Option(help="Data to start with: empty, demo, demo-no-reply or demo-type-default."),
    ] = "demo",
    db: Annotated[
        str | None, typer.Option(help="SQLite file that keeps the org across restarts.")
    ] = None,
    smtp_port: Annotated[
        int | None,
        typer.Option(help="Also accept mail here: Email to Salesforce and a mail catcher."),
    ] = None,
    pubsub_port: Annotated[
        int | None,
        typer.Option(help="Also serve the Pub/Sub API (gRPC, Change Data Capture) here."),
    ] = None,
) -> None:
    """Serve a Salesforce-compatible sandbox org (REST, OAuth, SOQL, control plane)."""
    from salesync.sandbox.run import run_sandbox

    run_sandbox(
        host=host, port=port, seed=seed, db=db, smtp_port=smtp_port, pubsub_port=pubsub_port
    )


@app.command("diagnose")
def diagnose(
    email: Annotated[str, typer.Argument(help="Whose Diagnostics to show (an admin sees all).")],
) -> None:
    """Print the Diagnostics page in the terminal: what did not sync, why, and the fix."""
    from rich.table import Table

    from salesync.services import diagnostics
    from salesync.store import accounts as account_store

    runtime = _migrated_runtime()
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


# -- people import and diagnostics retry, with progress bars -----------------------------------

people_app = typer.Typer(help="Manage the team's people.", no_args_is_help=True)
diagnostics_app = typer.Typer(
    help="What did not reach Salesforce, and retries.", no_args_is_help=True
)
app.add_typer(people_app, name="people")
app.add_typer(diagnostics_app, name="diagnostics")

#: Data rows per batch of the CLI import: the progress bar moves once per batch.
IMPORT_BATCH_ROWS = 200
#: Rejected rows printed after an import (all of them are counted).
REJECTED_SHOWN = 20


def _active_user(runtime: Runtime, email: str) -> User:
    from salesync.store import accounts as account_store

    with runtime.sessions() as session:
        user = account_store.user_by_email(session, email)
        if user is None or not user.is_active:
            raise SalesyncError(f"no active user {email}")
        return user


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=console)


def parse_mapping_option(values: list[str]) -> dict[str, str] | None:
    """``--mapping`` values: ``Column name=field`` pairs, or one JSON object; none: by name."""
    import json

    if not values:
        return None
    if len(values) == 1 and values[0].lstrip().startswith("{"):
        try:
            parsed = json.loads(values[0])
        except json.JSONDecodeError as exc:
            raise SalesyncError(f"--mapping is not a JSON object: {exc}") from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise SalesyncError('--mapping JSON maps column names to fields: {"Email": "email"}')
        return {str(column): field for column, field in parsed.items()}
    mapping = {}
    for value in values:
        column, equals, field = value.rpartition("=")
        if not equals or not column.strip():
            raise SalesyncError(f"--mapping {value!r} is not of the form 'Column name=field'")
        mapping[column.strip()] = field.strip()
    return mapping


def csv_batches(content: bytes, size: int) -> list[tuple[int, bytes, int]]:
    """Split a CSV file into files of at most ``size`` data rows, each with the header line.

    Returns (row offset, file, rows that hold something) per batch: row n of a batch is row
    n + offset of the whole file. A file that does not parse is one batch, so the import
    refuses it with the service's own message.
    """
    import csv
    import io

    try:
        text = content.decode("utf-8-sig")
        # The separator rule of services.people: the most frequent of , ; tab in the header.
        delimiter = max([",", ";", "\t"], key=text.split("\n", 1)[0].count)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error):
        return [(0, content, 0)]
    if len(rows) < 2:
        return [(0, content, 0)]
    batches = []
    for start in range(0, len(rows) - 1, size):
        part = rows[1 + start : 1 + start + size]
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter).writerows([rows[0], *part])
        filled = sum(1 for cells in part if any(cell.strip() for cell in cells))
        batches.append((start, buffer.getvalue().encode(), filled))
    return batches


def _print_import_report(report: ImportReport) -> None:
    totals = report.totals
    console.print(
        f"{totals['rows']} rows: [green]{totals['created']} created[/green], "
        f"{totals['updated']} updated, [red]{totals['rejected']} rejected[/red]"
    )
    rejected = [row for row in report.rows if row.status.value == "rejected"]
    for row in rejected[:REJECTED_SHOWN]:
        reasons = "; ".join(f"{p.column or p.field}: {p.message}" for p in row.errors)
        console.print(f"  row {row.row}: {reasons}", highlight=False)
    if len(rejected) > REJECTED_SHOWN:
        console.print(f"  … and {len(rejected) - REJECTED_SHOWN} more rejected rows")


@people_app.command("import")
def people_import(
    file: Annotated[
        str, typer.Argument(help="CSV file (UTF-8); the first line names the columns.")
    ],
    user: Annotated[str, typer.Option("--user", help="Who imports: owner of new people.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--mapping",
            help="'Column name=field' (repeat it), or one JSON object. "
            "Default: the columns named like a field (Email, First Name, SF Lead ID...).",
        ),
    ] = None,
) -> None:
    """Create or update people from a CSV file, matched on email, with a progress bar.

    Rows are saved one by one, as the web import does; a rejected row never stops the others.
    """
    import dataclasses
    from pathlib import Path

    from salesync.errors import InvalidInput
    from salesync.services import people

    path = Path(file)
    if not path.is_file():
        raise SalesyncError(f"no file {file}")
    runtime = _migrated_runtime()
    actor = _active_user(runtime, user)
    columns = parse_mapping_option(mapping or [])
    batches = csv_batches(path.read_bytes(), IMPORT_BATCH_ROWS)
    rows: list[people.ImportRow] = []
    with _progress() as progress:
        bar = progress.add_task("Importing people", total=sum(n for _, _, n in batches))
        for offset, part, filled in batches:
            try:
                report = people.import_people_csv(runtime, actor, part, columns)
            except InvalidInput as exc:
                raise SalesyncError(f"{exc.field or 'file'}: {exc.message}") from None
            rows += [dataclasses.replace(row, row=row.row + offset) for row in report.rows]
            progress.advance(bar, filled)
    _print_import_report(people.ImportReport(rows))


def _groups_to_retry(
    data: diagnostics.Overview, retry_all: bool, codes: list[str]
) -> list[diagnostics.GroupView]:
    wanted = {code.upper() for code in codes}
    return [group for group in data.groups if retry_all or group.code.upper() in wanted]


def _follow_retried(
    runtime: Runtime, actor: User, refs: list[tuple[str, int | None]], wait: float
) -> None:
    """Show the retried items being logged by a worker, until all settle or ``wait`` ends."""
    import time

    from salesync.web.pages.diagnostics import progress_of

    deadline = time.monotonic() + wait
    with _progress() as progress:
        bar = progress.add_task("Logging to Salesforce", total=len(refs))
        while True:
            state = progress_of(runtime, actor, refs)
            progress.update(bar, total=state.total, completed=state.settled)
            if state.finished or time.monotonic() > deadline:
                break
            time.sleep(1)
    console.print(
        f"[green]{state.logged} logged[/green], [red]{state.failed} failed again[/red], "
        f"{state.waiting} still waiting"
    )
    if state.waiting:
        console.print("Items still waiting are logged by a running worker (salesync worker).")


@diagnostics_app.command("retry")
def diagnostics_retry(
    user: Annotated[
        str, typer.Option("--user", help="Who retries: a rep their own items, an admin the team's.")
    ],
    retry_all: Annotated[bool, typer.Option("--all", help="Retry every group.")] = False,
    code: Annotated[
        list[str] | None, typer.Option("--code", help="Retry the group with this code (repeat it).")
    ] = None,
    only: Annotated[
        str | None, typer.Option("--only", help="Admins: only this member's items (email).")
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            help="Seconds to follow the retried items while a worker logs them (0: do not follow)."
        ),
    ] = 60,
) -> None:
    """Retry what Diagnostics lists (after fixing the cause), with progress bars."""
    from salesync.services import diagnostics

    runtime = _migrated_runtime()
    if not retry_all and not code:
        raise SalesyncError("say what to retry: --all, or --code CODE")
    actor = _active_user(runtime, user)
    only_user = _active_user(runtime, only).id if only else None
    with runtime.sessions() as session:
        data = diagnostics.overview(session, actor, only_user=only_user, now=runtime.clock.now())
    groups = _groups_to_retry(data, retry_all, code or [])
    if not groups:
        console.print("Nothing to retry: no open Diagnostics items match.")
        return
    requeued = 0
    with _progress() as progress:
        bar = progress.add_task("Retrying", total=sum(group.count for group in groups))
        for group in groups:
            requeued += diagnostics.retry(runtime, actor, [entry.id for entry in group.entries])
            progress.advance(bar, group.count)
    entries = [entry for group in groups for entry in group.entries]
    console.print(f"retried {len(entries)} items in {len(groups)} groups; {requeued} queued again")
    refs = [(e.item_type, e.item_id) for e in entries if e.item_type in _FOLLOWED_TYPES]
    if wait > 0 and refs:
        _follow_retried(runtime, actor, refs, wait)


#: Diagnostics item types whose Salesforce state can be followed after a retry.
_FOLLOWED_TYPES = ("email", "call", "reminder_task")


def _alembic_command_error(exc: BaseException) -> bool:
    """Whether ``exc`` is Alembic's CommandError, without importing Alembic to ask: importing
    it is a tenth of a worker's start-up, and one that never loaded Alembic raised none."""
    exc_module = sys.modules.get("alembic.util.exc")
    command_error = getattr(exc_module, "CommandError", None)
    return isinstance(command_error, type) and isinstance(exc, command_error)


def main() -> None:
    """Console entry point: clear one-line errors instead of tracebacks."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        app()
    except (OperationalError, ProgrammingError) as exc:
        # A table missing under a command that does not check first: say what fixes it.
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        err_console.print(
            f"[red]error:[/red] the database refused a query ({first_line}); "
            "if it is not set up yet, run `salesync db upgrade`",
            highlight=False,
        )
        sys.exit(EXIT_FAILURE)
    except ConfigurationError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(EXIT_CONFIG)
    except SalesyncError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(EXIT_FAILURE)
    except Exception as exc:
        if not _alembic_command_error(exc):
            raise
        # e.g. "Can't locate revision": a newer salesync migrated this database.
        err_console.print(f"[red]error:[/red] database migrations: {exc}", highlight=False)
        sys.exit(EXIT_FAILURE)
