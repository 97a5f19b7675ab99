"""The composition root: builds settings, database, secret box and clock once per process."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from salesync.clock import Clock, SystemClock
from salesync.errors import ConfigurationError
from salesync.passwords import Argon2Hasher, PasswordHasher
from salesync.settings import ENV_PREFIX, Settings, load_secret_key
from salesync.store.crypto import SecretBox
from salesync.store.db import create_db_engine, session_factory


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"{name}: {error['msg']}")
        raise ConfigurationError("invalid configuration:\n  " + "\n  ".join(lines)) from None


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    secret_box: SecretBox
    clock: Clock
    #: Tests pass a counting fake to see how many hashes a flow computed.
    password_hasher: PasswordHasher = field(default_factory=Argon2Hasher)

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Clock | None = None,
        password_hasher: PasswordHasher | None = None,
    ) -> Runtime:
        try:
            secret_key = load_secret_key(settings.effective_secret_key_file)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{ENV_PREFIX}SECRET_KEY_FILE: {exc}") from exc
        engine = create_db_engine(settings.effective_database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            secret_box=SecretBox(secret_key),
            clock=clock or SystemClock(),
            password_hasher=password_hasher or Argon2Hasher(),
        )

    def close(self) -> None:
        self.engine.dispose()
