"""Read the ``Sforce-Limit-Info`` header every Salesforce answer carries, and hand it to a sink.

Examples of the header (API-FACTS §2.9): ``api-usage=18/5000``,
``api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)``,
``api-usage=10018/100000; api-bursts=1/750``. Each pair is used/max over the rolling 24 hours.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Protocol

#: Header name (API-FACTS §2.9).
LIMIT_INFO_HEADER = "Sforce-Limit-Info"

_PAIR = re.compile(r"\s*([A-Za-z-]+)\s*=\s*(\d+)\s*/\s*(\d+)\s*(?:\(\s*appName\s*=\s*([^)]*)\))?")


@dataclass(frozen=True)
class ApiUsage:
    """Calls used and allowed in the rolling 24-hour window."""

    used: int
    max: int

    @property
    def remaining(self) -> int:
        return max(self.max - self.used, 0)

    @property
    def fraction_used(self) -> float:
        """Share of the allocation used, 0.0 to 1.0 (or more when over)."""
        return self.used / self.max if self.max else 1.0


@dataclass(frozen=True)
class LimitInfo:
    """Everything one ``Sforce-Limit-Info`` header said."""

    #: The org-wide daily allocation (``api-usage``), if present.
    api_usage: ApiUsage | None
    #: ``per-app-api-usage`` by connected-app name.
    per_app: dict[str, ApiUsage] = field(default_factory=dict)
    #: Any other ``name=used/max`` pair (e.g. ``api-bursts``).
    other: dict[str, ApiUsage] = field(default_factory=dict)


def parse_limit_info(header: str) -> LimitInfo:
    """Parse a ``Sforce-Limit-Info`` value; parts that don't parse are ignored."""
    api_usage: ApiUsage | None = None
    per_app: dict[str, ApiUsage] = {}
    other: dict[str, ApiUsage] = {}
    for part in header.split(";"):
        match = _PAIR.fullmatch(part)
        if match is None:
            continue
        name, used, maximum, app = match.groups()
        usage = ApiUsage(int(used), int(maximum))
        if name == "api-usage":
            api_usage = usage
        elif name == "per-app-api-usage":
            per_app[(app or "").strip()] = usage
        else:
            other[name] = usage
    return LimitInfo(api_usage, per_app, other)


class LimitsSink(Protocol):
    """Receives the limit info of every Salesforce answer that carries one."""

    def record(self, info: LimitInfo) -> None:
        """Store or act on the latest usage (called from worker threads)."""


class MemoryLimitsSink:
    """Keeps the latest limit info in memory (tests, scripts, a single process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: LimitInfo | None = None
        self._count = 0

    def record(self, info: LimitInfo) -> None:
        with self._lock:
            self._latest = info
            self._count += 1

    @property
    def latest(self) -> LimitInfo | None:
        """The most recent info, or None before any answer."""
        return self._latest

    @property
    def records(self) -> int:
        """How many answers reported usage."""
        return self._count
