"""Typed configuration from ``SALESYNC_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

import difflib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SALESYNC_"

#: Salesforce's documented login hosts (SBX-1: production and sandbox use different endpoints).
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_SANDBOX_LOGIN_URL = "https://test.salesforce.com"
DEFAULT_API_VERSION = "v59.0"

#: Values that mean "somebody copied the example file and forgot to fill it in".
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "password", "xxx", "todo"})


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("salesync", appauthor=False))


class Settings(BaseSettings):
    """Everything salesync reads from its environment; built once in the entrypoint, passed down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    #: Where the SQLite database and the secret key file live when not configured otherwise.
    data_dir: Path = Field(default_factory=default_data_dir)
    #: SQLAlchemy URL; empty means SQLite in ``data_dir``. PostgreSQL: ``postgresql+psycopg://…``.
    database_url: str = ""
    #: File holding the key that encrypts secrets at rest; created (mode 0600) when missing.
    secret_key_file: Path | None = None

    #: The Connected App used for OAuth (DESIGN §3 "Connections").
    salesforce_client_id: str = "salesync"
    salesforce_client_secret: SecretStr = SecretStr("salesync-secret")
    salesforce_login_url: AnyHttpUrl = AnyHttpUrl(DEFAULT_LOGIN_URL)
    salesforce_sandbox_login_url: AnyHttpUrl = AnyHttpUrl(DEFAULT_SANDBOX_LOGIN_URL)
    salesforce_api_version: Annotated[str, Field(pattern=r"^v\d{2}\.0$")] = DEFAULT_API_VERSION

    #: Public address of the web app; OAuth callbacks are built from it.
    base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")

    #: Team SMTP server for sending sales email (users may override with their own).
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 1025
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0

    #: Seconds between two polls of Salesforce for task changes.
    poll_interval_seconds: Annotated[float, Field(ge=1, le=3600)] = 30.0
    #: Real-time Task sync through Change Data Capture where the org allows it (else polling).
    realtime_sync: bool = True
    #: Pub/Sub API endpoint (``host:port``). Empty: Salesforce's global endpoint for orgs on
    #: Salesforce's domains, none (polling) for any other instance, such as a local sandbox.
    #: See docs/realtime.md.
    pubsub_endpoint: str = ""
    #: TLS to the Pub/Sub endpoint; only a local sandbox runs without it.
    pubsub_tls: bool = True
    #: Task reads (first import, catch-up, reconcile) of more rows than this go through a
    #: Bulk API 2.0 query job instead of REST query pages.
    bulk_above_rows: Annotated[int, Field(ge=0)] = 10_000

    #: A browser session ends after this long without a request...
    session_idle_minutes: Annotated[int, Field(ge=1, le=60 * 24 * 30)] = 8 * 60
    #: ...and this long after signing in, whatever happens.
    session_max_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 7 * 24
    #: Sign-in throttling: refused tries allowed per account and per client address per window.
    sign_in_max_failures_per_account: Annotated[int, Field(ge=1, le=1000)] = 5
    sign_in_max_failures_per_address: Annotated[int, Field(ge=1, le=10000)] = 20
    sign_in_window_seconds: Annotated[int, Field(ge=1, le=86400)] = 60
    #: Largest request body the web app accepts, in bytes (a CSV import is the biggest one).
    max_request_bytes: Annotated[int, Field(ge=1024, le=1024**3)] = 6 * 1024 * 1024
    #: Outbound hosts reps may choose for their own SMTP/IMAP servers, besides the ones an
    #: admin configured: comma-separated ``host`` or ``host:port`` entries, ``*.example.com``
    #: for subdomains. Empty: reps can only use what an admin set.
    allowed_outbound_hosts: str = ""
    #: Bearer token that /metrics requires; empty turns /metrics off (404).
    metrics_token: SecretStr = SecretStr("")
    #: ``text`` (default) or ``json``: one JSON object per log line, with the request id.
    log_format: Annotated[str, Field(pattern=r"^(text|json)$")] = "text"

    @field_validator("salesforce_client_secret", "smtp_password")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("is a placeholder; set the real value")
        return value

    @field_validator("allowed_outbound_hosts")
    @classmethod
    def _valid_allow_list(cls, value: str) -> str:
        from salesync.domain.outbound_hosts import parse_allow_list
        from salesync.errors import InvalidInput

        try:
            parse_allow_list(value)
        except InvalidInput as exc:
            raise ValueError(f"an entry is not a host name: {exc.message}") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # postgres:// is what Heroku and many hosting panels hand out; SQLAlchemy refuses it.
        for bare in ("postgresql://", "postgres://"):
            if value.startswith(bare):
                # SQLAlchemy would pick psycopg2 for a bare scheme; we ship psycopg 3.
                return "postgresql+psycopg://" + value.removeprefix(bare)
        if value and not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError(
                "must be a sqlite:///path or postgresql://user@host/db URL "
                "(postgresql+psycopg:// and postgres:// work too)"
            )
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'salesync.db'}"

    @property
    def effective_secret_key_file(self) -> Path:
        return self.secret_key_file or self.data_dir / "secret.key"


#: SALESYNC_ variables that are not settings but are read by the commands and the tests.
OTHER_VARIABLES = frozenset(
    {
        "NEW_USER_PASSWORD",
        "TEST_POSTGRES_URL",
        "BENCH_POSTGRES_URL",
        "FUZZ_EXAMPLES",
        "CHROMIUM",
        "DOVECOT",
        "SAVE_SCREENSHOTS",
    }
)


def misspelt_variables(environ: Mapping[str, str]) -> list[str]:
    """One warning per ``SALESYNC_`` variable that nothing reads, naming the closest valid one
    (a typo would otherwise be ignored silently and its default used)."""
    known = {name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    warnings = []
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX):
            continue
        name = variable.removeprefix(ENV_PREFIX)
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {ENV_PREFIX}{close[0]}?" if close else ""
        warnings.append(f"{variable} is not a salesync setting and is ignored{hint}")
    return warnings


def load_secret_key(path: Path) -> bytes:
    """Read the secret key file, creating it with a fresh key and mode 0600 when it is missing."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
    key = path.read_text().strip()
    if len(key) < 32:
        raise ValueError(f"secret key file {path} holds fewer than 32 characters")
    return key.encode()
