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
