"""What every benchmark sets up: a fresh salesync database and runtime beside a sandbox org."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, make_url, text

from salesync.clock import Clock, SystemClock
from salesync.runtime import Runtime
from salesync.salesforce import oauth
from salesync.settings import Settings
from salesync.store.crypto import SecretBox
from salesync.store.db import create_db_engine, session_factory, unit_of_work
from salesync.store.tables import ConnectionPurpose, ConnectionStatus, SalesforceConnection

#: A PostgreSQL database the benchmarks own: created when missing, emptied on every run.
POSTGRES_VARIABLE = "SALESYNC_BENCH_POSTGRES_URL"
#: Every bench process encrypts and decrypts tokens with this key (never a real secret).
BENCH_KEY = b"b" * 40


def runtime_at(database_url: str, folder: str | Path, salesforce_url: str, clock: Clock) -> Runtime:
    """A runtime on an already migrated database (what a bench's worker process builds)."""
    engine = create_db_engine(database_url)
    settings = Settings(
        data_dir=Path(folder),
        database_url=database_url,
        salesforce_login_url=salesforce_url,  # type: ignore[arg-type]
    )
    return Runtime(settings, engine, session_factory(engine), SecretBox(BENCH_KEY), clock)


@contextmanager
def bench_runtime(folder: str | Path, salesforce_url: str, clock: Clock) -> Iterator[Runtime]:
    """A migrated SQLite salesync in ``folder`` whose Salesforce is ``salesforce_url``."""
    # Imported here, not at the top: every bench worker process imports this module, and
    # Alembic (which a worker process never uses here) would count in its start-up time.
    from salesync.store import migrate

    url = f"sqlite:///{Path(folder) / 'salesync.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    runtime = runtime_at(url, folder, salesforce_url, clock)
    try:
        yield runtime
    finally:
        runtime.engine.dispose()


def bench_postgres_url() -> str | None:
    return os.environ.get(POSTGRES_VARIABLE) or None


def fresh_postgres(url: str) -> None:
    """Create the bench's database if missing, then empty it and migrate it."""
    target = make_url(url)
    admin = create_db_engine(
        target.set(database="postgres").render_as_string(hide_password=False)
    ).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine: Engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    from salesync.store import migrate  # see bench_runtime

    migrate.upgrade(engine)
    engine.dispose()


def connection_row(
    runtime: Runtime,
    *,
    team_id: int,
    user_id: int,
    login_url: str,
    username: str,
    tokens: oauth.TokenSet,
    identity: oauth.Identity,
    now: datetime,
) -> SalesforceConnection:
    """A connected rep's Salesforce connection, as connecting through OAuth stores it."""
    return SalesforceConnection(
        team_id=team_id,
        user_id=user_id,
        purpose=ConnectionPurpose.USER,
        environment="production",
        login_url=login_url,
        instance_url=tokens.instance_url,
        org_id=identity.org_id,
        sf_user_id=identity.user_id,
        sf_username=username,
        sf_email=identity.email,
        access_token_enc=runtime.secret_box.encrypt(tokens.access_token),
        refresh_token_enc=(
            runtime.secret_box.encrypt(tokens.refresh_token) if tokens.refresh_token else None
        ),
        status=ConnectionStatus.CONNECTED,
        connected_at=now,
        updated_at=now,
    )


def connect_sandbox_rep(
    runtime: Runtime, team_id: int, user_id: int, base_url: str, username: str, now: datetime
) -> None:
    """Sign ``username`` in to the sandbox at ``base_url`` (password "sandbox") and store the
    connection for the salesync user ``user_id``."""
    with httpx.Client(timeout=60) as http:
        config = oauth.OAuthClientConfig("salesync", "salesync-secret", login_url=base_url)
        tokens = oauth.password_login(config, username, "sandbox", http=http)
        identity = oauth.fetch_identity(tokens, http=http)
    with unit_of_work(runtime.sessions) as session:
        session.add(
            connection_row(
                runtime,
                team_id=team_id,
                user_id=user_id,
                login_url=base_url,
                username=username,
                tokens=tokens,
                identity=identity,
                now=now,
            )
        )


__all__ = [
    "SystemClock",
    "bench_postgres_url",
    "bench_runtime",
    "connect_sandbox_rep",
    "connection_row",
    "fresh_postgres",
    "runtime_at",
]
