"""The Salesforce stand-in for benchmarks: a sandbox org served by its own process.

The org is built once by a short-lived process and kept in a SQLite file; ``salesync sandbox
--db`` then serves it, so its CPU never counts as salesync's and never competes with salesync
for the GIL. Latency per API call and the API call counter go through the sandbox's control
plane, as a test would use them.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from salesync.salesforce import oauth

PASSWORD = "bench password"
_runs = itertools.count()

_BUILD = """
import json, sys
from salesync.sandbox.org import Org
from salesync.sandbox.security import UserAccess
path, reps, per_rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
org = Org.open(path, seed="empty")
with org.batch():
    for r in range(reps):
        org.add_user(f"rep{r}@bench.sandbox", first_name="Rep", last_name=str(r),
                     email=f"rep{r}@bench.example", access=UserAccess(password=sys.argv[4]))
        for n in range(per_rep):
            org.create_record("Contact", {"LastName": f"P{r}-{n}",
                                          "Email": f"p{r}.{n}@prospects.example"})
org.save(replace_all=True)
"""


def rep_username(rep: int) -> str:
    return f"rep{rep}@bench.sandbox"


def prospect(rep: int, number: int) -> str:
    return f"p{rep}.{number}@prospects.example"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StandIn:
    base_url: str
    pid: int = 0

    def cpu_seconds(self) -> float:
        """CPU the stand-in's process has used so far (user and system, from /proc)."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx.request(
            method, f"{self.base_url}/__sandbox__/{path}", json=body, timeout=120
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def api_calls(self) -> int:
        return int(self.control("GET", "api-calls")["total"])

    def set_latency(self, latency_ms: int) -> None:
        self.control("DELETE", "faults")
        if latency_ms:
            self.control(
                "POST",
                "faults",
                {"method": "*", "path": "^/services/data/", "latencyMs": latency_ms},
            )

    def login(self, rep: int) -> tuple[oauth.TokenSet, oauth.Identity]:
        config = oauth.OAuthClientConfig("salesync", "salesync-secret", login_url=self.base_url)
        with httpx.Client(timeout=60) as http:
            tokens = oauth.password_login(config, rep_username(rep), PASSWORD, http=http)
            return tokens, oauth.fetch_identity(tokens, http=http)

    def count_tasks(self, token: str) -> int:
        answer = httpx.get(
            f"{self.base_url}/services/data/v59.0/query",
            params={"q": "SELECT COUNT() FROM Task"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        answer.raise_for_status()
        return int(answer.json()["totalSize"])


@contextmanager
def stand_in(folder: Path, *, reps: int, per_rep: int) -> Iterator[StandIn]:
    """An org with ``reps`` users and ``per_rep`` contacts each, served by its own process."""
    pristine = folder / f"org-{reps}x{per_rep}.db"
    if not pristine.exists():
        subprocess.run(
            [sys.executable, "-c", _BUILD, str(pristine), str(reps), str(per_rep), PASSWORD],
            check=True,
        )
    # Every run starts from the same org: no Task of an earlier run is left in it.
    org_file = folder / f"run-{next(_runs)}.db"
    shutil.copy(pristine, org_file)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "salesync", "sandbox", "--port", str(port), "--db", str(org_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = StandIn(f"http://127.0.0.1:{port}", process.pid)
    try:
        for _ in range(600):
            try:
                served.control("GET", "")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        served.control("PUT", "limits", {"dailyApiRequests": 10_000_000})
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)


def parse_report(output: str) -> dict[str, Any]:
    """The JSON line a bench child process printed last."""
    lines = [line for line in output.splitlines() if line.startswith("{")]
    return dict(json.loads(lines[-1]))
