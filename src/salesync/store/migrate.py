"""Apply, revert and check the Alembic migrations shipped inside the package."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: The newest shipped revision; a migration test holds it equal to what the migrations say.
#: A start that finds the database there skips loading Alembic, which was about a tenth of
#: ``salesync worker``'s start-up. (Alembic is imported where it is used, for the same reason.)
SHIPPED_HEAD = "17a7c0de1a9e"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and at_shipped_head(engine):
        return
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def at_shipped_head(engine: Engine) -> bool:
    """Whether the database is at :data:`SHIPPED_HEAD`, read without Alembic."""
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            return list(versions.scalars()) == [SHIPPED_HEAD]
    except DBAPIError:  # never migrated: no version table yet
        return False


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at; empty when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions(engine: Engine) -> set[str]:
    """The newest revisions the shipped migrations lead to."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def known_revisions(engine: Engine) -> set[str]:
    """Every revision the shipped migrations define."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    return {revision.revision for revision in script.walk_revisions()}


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def check(engine: Engine) -> None:
    """Raise if the tables in code differ from what the migrations build (alembic check).

    SQLite cannot reflect expression indexes (``lower(email)``); SQLAlchemy says so with a
    warning and leaves them out of the comparison on both sides, which is what we want.
    """
    from alembic import command

    with warnings.catch_warnings(), engine.begin() as connection:
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection of expression-based index"
        )
        warnings.filterwarnings("ignore", message=".*expression-based index.*can't reflect")
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.check(config)
