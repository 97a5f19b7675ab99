"""Ingest: emails per second through ``POST /api/v1/emails`` into one web process.

The web app runs in a process of its own (``bench.ingest_server``: uvicorn serving
``create_app``), as deployed, on a SQLite database; SMTP goes to an in-memory sink, so what
is measured is salesync's own work per request: token check, validation, the email row, its
outbox row, the response. The load comes from this process over keep-alive connections:

- one connection posting the emails one after another (an integration sending in a loop);
- several connections posting at once (an integration sending in parallel);
- the web process's own CPU time per request, read from /proc before and after, which is
  what bounds one web process: 200 emails a second need at most 5 ms each.

The bulk endpoint (``POST /api/v1/emails/logged``, up to 1,000 emails sent elsewhere per
request) is measured beside it.

Usage: python -m bench.ingest_bench [N] [--connections C]   (default 400, 8 connections)
While it runs, the web process's pid is printed to stderr (to attach a profiler to it).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

#: Connections posting at once in the parallel figure.
CONNECTIONS = 8


@dataclass(frozen=True)
class IngestFigures:
    """What one run measured; unpacks as (one by one, bulk) for ``bench/__main__.py``."""

    one_by_one: float
    parallel: float
    connections: int
    cpu_ms_one_by_one: float
    cpu_ms_parallel: float
    bulk: float

    def __iter__(self) -> Iterator[float]:
        return iter((self.one_by_one, self.bulk))


class _Server:
    """The web process: started, read its address and token, stopped by closing its stdin."""

    def __init__(self, folder: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.ingest_server", folder],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=10)
            raise RuntimeError("the ingest server did not start")
        hello = json.loads(line)
        parts = urlsplit(hello["base_url"])
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token: str = hello["token"]
        self.pid: int = hello["pid"]

    def cpu_seconds(self) -> float:
        """User + system CPU of the whole web process (all its threads) so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, utime 14 and stime 15 (man 5 proc).
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class _Client:
    """One keep-alive HTTP connection to the web process (http.client: little CPU here)."""

    def __init__(self, server: _Server) -> None:
        self._connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        self._headers = {
            "Authorization": f"Bearer {server.token}",
            "Content-Type": "application/json",
        }

    def post(self, path: str, body: object) -> tuple[int, bytes]:
        self._connection.request("POST", path, json.dumps(body), self._headers)
        response = self._connection.getresponse()
        return response.status, response.read()

    def send(self, number: int) -> None:
        body = {
            "to": [{"email": f"prospect{number}@example.com"}],
            "subject": f"Checking in #{number}",
            "body_text": "Hello, following up on our call.",
        }
        status, answer = self.post("/api/v1/emails", body)
        if status != 201:
            raise RuntimeError(f"POST /api/v1/emails answered {status}: {answer[:300]!r}")

    def close(self) -> None:
        self._connection.close()


def _one_by_one(server: _Server, count: int, first: int) -> tuple[float, float]:
    """(emails a second, web process CPU ms an email) over one connection."""
    client = _Client(server)
    try:
        client.send(first - 1)  # warm-up: first-request imports and caches
        cpu = server.cpu_seconds()
        started = time.perf_counter()
        for number in range(first, first + count):
            client.send(number)
        elapsed = time.perf_counter() - started
        return count / elapsed, (server.cpu_seconds() - cpu) * 1000 / count
    finally:
        client.close()


def _parallel(server: _Server, count: int, first: int, connections: int) -> tuple[float, float]:
    """(emails a second, web process CPU ms an email) over ``connections`` at once."""
    clients = [_Client(server) for _ in range(connections)]
    errors: list[BaseException] = []
    try:
        for index, client in enumerate(clients):
            client.send(first - 1 - index)  # each connection opened and warm
        start = threading.Barrier(connections + 1)

        def run(client: _Client, numbers: range) -> None:
            start.wait()
            try:
                for number in numbers:
                    client.send(number)
            except BaseException as exc:  # reported below, after every thread ended
                errors.append(exc)

        threads = [
            threading.Thread(
                target=run, args=(client, range(first + i, first + count, connections))
            )
            for i, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        cpu = server.cpu_seconds()
        started = time.perf_counter()
        start.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise errors[0]
        return count / elapsed, (server.cpu_seconds() - cpu) * 1000 / count
    finally:
        for client in clients:
            client.close()


def _bulk_rate(server: _Server, count: int) -> float:
    now = datetime.now(UTC).isoformat()
    items = [
        {
            "to": [{"email": f"elsewhere{number}@example.com"}],
            "subject": f"Sent from the phone #{number}",
            "body_text": "Hello",
            "sent_at": now,
            "message_id": f"<bench-{number}@phone.example>",
        }
        for number in range(-10, count)
    ]
    client = _Client(server)
    try:
        # Warm-up, as for the single sends: the route's first request pays one-off imports
        # and SQL compilation, which would otherwise be most of a few hundred emails' time.
        status, answer = client.post("/api/v1/emails/logged", {"items": items[:10]})
        if status == 404:
            return float("nan")
        del items[:10]
        started = time.perf_counter()
        for start in range(0, count, 1000):
            status, answer = client.post(
                "/api/v1/emails/logged", {"items": items[start : start + 1000]}
            )
            if status == 404:
                return float("nan")
            if status != 200:
                raise RuntimeError(
                    f"POST /api/v1/emails/logged answered {status}: {answer[:300]!r}"
                )
        return count / (time.perf_counter() - started)
    finally:
        client.close()


def measure(count: int, *, connections: int = CONNECTIONS) -> IngestFigures:
    """Every ingest figure, ``count`` emails each, against a fresh web process."""
    with tempfile.TemporaryDirectory() as folder:
        server = _Server(folder)
        try:
            print(f"ingest: web process pid {server.pid}", file=sys.stderr, flush=True)
            one, cpu_one = _one_by_one(server, count, first=0)
            parallel, cpu_parallel = _parallel(server, count, 1_000_000, connections)
            bulk = _bulk_rate(server, count)
        finally:
            server.stop()
    return IngestFigures(one, parallel, connections, cpu_one, cpu_parallel, bulk)


def main() -> None:
    args = sys.argv[1:]
    connections = CONNECTIONS
    if "--connections" in args:
        at = args.index("--connections")
        connections = int(args[at + 1])
        del args[at : at + 2]
    count = int(args[0]) if args else 400
    figures = measure(count, connections=connections)
    print(
        f"POST /api/v1/emails, one connection: {figures.one_by_one:.0f} emails/s "
        f"({figures.cpu_ms_one_by_one:.1f} ms web CPU each; bar: 200/s, 5 ms)\n"
        f"POST /api/v1/emails, {figures.connections} connections: {figures.parallel:.0f} emails/s "
        f"({figures.cpu_ms_parallel:.1f} ms web CPU each)\n"
        f"POST /api/v1/emails/logged (bulk): {figures.bulk:.0f} emails/s"
    )


if __name__ == "__main__":
    main()
