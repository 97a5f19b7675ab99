"""One demo per data folder: a lock held while it runs, and free ports checked before it starts.

The lock file (``<data dir>/demo.lock``) lives beside the demo's folder, not in it, so a
second ``salesync demo`` finds it before deleting anything. It is an OS lock (``flock``):
it ends with the process, however the process ends, so a crashed demo never blocks the next.
The file also says where the running demo keeps its data, which the other commands read to
work on the demo's database while it runs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from salesync.errors import SalesyncError

LOCK_NAME = "demo.lock"


class DemoAlreadyRunning(SalesyncError):
    """A demo already runs on this data folder."""


class PortBusy(SalesyncError):
    """A port the demo needs is taken."""


@dataclass(frozen=True)
class RunningDemo:
    """What a running demo writes into its lock file."""

    pid: int
    folder: Path
    web_url: str

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.folder / 'salesync.db'}"


class DemoLock:
    """Held for the whole life of a demo; ``acquire`` refuses when another demo holds it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._handle: IO[str] | None = None

    def acquire(self, folder: Path, web_url: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            running = running_demo(self.path.parent)
            where = f" (process {running.pid}, {running.web_url})" if running else ""
            raise DemoAlreadyRunning(
                f"a demo is already running on {folder}{where}; "
                "stop it first (Ctrl+C in its terminal), or open it in your browser"
            ) from None
        handle.seek(0)
        handle.truncate()
        record = {"pid": os.getpid(), "folder": str(folder), "web_url": web_url}
        handle.write(json.dumps(record))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.seek(0)
                self._handle.truncate()
            self._handle.close()
            self._handle = None


def running_demo(data_dir: Path) -> RunningDemo | None:
    """The demo running on ``data_dir``, or None (no lock file, or nobody holds it)."""
    path = data_dir / LOCK_NAME
    try:
        handle = path.open()
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            pass  # held: a demo runs; read what it wrote
        else:
            fcntl.flock(handle, fcntl.LOCK_UN)
            return None
        try:
            record = json.loads(handle.read() or "{}")
            return RunningDemo(int(record["pid"]), Path(record["folder"]), str(record["web_url"]))
        except (ValueError, KeyError, TypeError):
            return None


def check_ports_free(host: str, ports: dict[str, int]) -> None:
    """Raise :class:`PortBusy` naming the first port (and its option) already in use."""
    for option, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                raise PortBusy(
                    f"port {port} on {host} is already in use; "
                    f"stop what uses it or choose another with {option}"
                ) from None
