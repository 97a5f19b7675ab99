"""The web process of the ingest bench: salesync's app served by uvicorn in a process of its own.

``python -m bench.ingest_server FOLDER`` migrates a SQLite database in FOLDER, adds a rep with
an API token and a Salesforce connection, then serves ``create_app(runtime)`` on an ephemeral
port of 127.0.0.1 with SMTP going to an in-memory sink. Its first line on stdout is JSON:
``{"base_url": ..., "token": ..., "pid": ...}``; it serves until its stdin closes (the bench
ended, or died) and then exits. The bench reads this process's CPU time from /proc.
"""

from __future__ import annotations

import json
import os
import sys
import threading

from bench.support import bench_runtime
from salesync.clock import SystemClock
from salesync.collector import starting_up
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import accounts
from salesync.serving import serve_in_thread
from salesync.store.db import unit_of_work
from salesync.store.tables import ConnectionPurpose, ConnectionStatus, SalesforceConnection
from salesync.web.app import create_app


def rep_with_token(runtime: Runtime) -> str:
    """A rep with a connected Salesforce account; returns their API token."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        user = accounts.add_user(
            session, accounts.NewUser("rep@example.com", "Rep", "long enough password"), now=now
        )
        token = accounts.create_api_token(session, user, "bench", now=now)
        session.add(
            SalesforceConnection(
                team_id=user.team_id,
                user_id=user.id,
                purpose=ConnectionPurpose.USER,
                environment="production",
                login_url="https://login.example",
                instance_url="https://org.example",
                org_id="00D000000000001AAA",
                sf_user_id="005000000000001AAA",
                sf_username="rep@example.com",
                sf_email="rep@example.com",
                access_token_enc=runtime.secret_box.encrypt("token"),
                status=ConnectionStatus.CONNECTED,
                connected_at=now,
                updated_at=now,
            )
        )
    return token


def serve(folder: str) -> None:
    with bench_runtime(folder, "https://login.example", SystemClock()) as runtime:
        with starting_up():  # as ``salesync serve`` starts
            token = rep_with_token(runtime)
            app = create_app(runtime)
            app.state.mailer_factory = lambda runtime, user: InMemoryMailer()
        with serve_in_thread(app) as server:
            hello = {"base_url": server.base_url, "token": token, "pid": os.getpid()}
            print(json.dumps(hello), flush=True)
            # Served from uvicorn's thread; this one waits for the bench to close our stdin.
            done = threading.Event()

            def wait_for_eof() -> None:
                sys.stdin.read()
                done.set()

            threading.Thread(target=wait_for_eof, daemon=True).start()
            done.wait()


if __name__ == "__main__":
    serve(sys.argv[1])
