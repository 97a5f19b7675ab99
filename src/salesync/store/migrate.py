"""Apply, revert and check the Alembic migrations shipped inside the package."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at; empty when it was never migrated."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions(engine: Engine) -> set[str]:
    """The newest revisions the shipped migrations lead to."""
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def known_revisions(engine: Engine) -> set[str]:
    """Every revision the shipped migrations define."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    return {revision.revision for revision in script.walk_revisions()}


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def check(engine: Engine) -> None:
    """Raise if the tables in code differ from what the migrations build (alembic check).

    SQLite cannot reflect expression indexes (``lower(email)``); SQLAlchemy says so with a
    warning and leaves them out of the comparison on both sides, which is what we want.
    """
    with warnings.catch_warnings(), engine.begin() as connection:
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection of expression-based index"
        )
        warnings.filterwarnings("ignore", message=".*expression-based index.*can't reflect")
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.check(config)
