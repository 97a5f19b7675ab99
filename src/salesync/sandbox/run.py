"""Serve a sandbox org with uvicorn (the CLI's ``salesync sandbox`` calls ``run_sandbox``)."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.e2s_listener import SandboxSmtpServer
from salesync.sandbox.org import Org
from salesync.sandbox.pubsub_server import PubSubServer

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
    smtp_port: int | None = None,
    pubsub_port: int | None = None,
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
    smtp_port:
        Also listen for SMTP on ``host:smtp_port``: Email to Salesforce for the org's
        addresses, and the mail catcher for every message (``/__sandbox__/mail``).
    pubsub_port:
        Also serve the Pub/Sub API (gRPC, plaintext) on ``host:pubsub_port``: the org's
        change events (Change Data Capture), for clients whose instance URL is this server.
    """
    org = build_org(seed, db)
    logger.info("sandbox org %s (seed %s) on http://%s:%s", org.org_id, org.seed_name, host, port)
    smtp = SandboxSmtpServer(org, host, smtp_port) if smtp_port is not None else None
    if smtp is not None:
        smtp.start()
        logger.info("sandbox SMTP (Email to Salesforce, mail catcher) on %s", smtp.address)
    pubsub = None
    if pubsub_port is not None:
        urls = tuple(f"http://{name}:{port}" for name in {host, "localhost", "127.0.0.1"})
        pubsub = PubSubServer(org, host, pubsub_port, instance_urls=urls).start()
        logger.info("sandbox Pub/Sub API (gRPC) on %s", pubsub.address)
    try:
        uvicorn.run(create_sandbox_app(org), host=host, port=port, log_level="info")
    finally:
        if smtp is not None:
            smtp.stop()
        if pubsub is not None:
            pubsub.stop()
