"""Serve a sandbox org with uvicorn (the CLI's ``salesync sandbox`` calls ``run_sandbox``)."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8555
logger = logging.getLogger(__name__)


def build_org(seed: str = "demo", db: str | Path | None = None) -> Org:
    """A fresh seeded org, or the one kept in ``db`` (seeded on first use)."""
    return Org.open(db, seed=seed) if db else Org(seed)


def run_sandbox(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    seed: str = "demo",
    db: str | Path | None = None,
) -> None:
    """Serve a sandbox org on ``host:port`` until interrupted.

    Parameters
    ----------
    host, port:
        Where to listen. The OAuth ``instance_url`` is whatever address clients use.
    seed:
        Seed for a new org: ``empty``, ``demo``, ``demo-no-reply`` or ``demo-type-default``.
    db:
        Optional SQLite file; the org survives restarts there (the seed applies only when
        the file is new).
    """
    org = build_org(seed, db)
    logger.info("sandbox org %s (seed %s) on http://%s:%s", org.org_id, org.seed_name, host, port)
    uvicorn.run(create_sandbox_app(org), host=host, port=port, log_level="info")
