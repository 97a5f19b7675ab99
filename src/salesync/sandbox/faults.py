"""Injected faults: error responses, latency and lost responses after commit (API-FACTS item 14)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """A fault applied to data-API requests whose method and path match."""

    id: int
    #: HTTP method to match, or "*" for any.
    method: str = "*"
    #: Regular expression searched in the request path (query string excluded).
    path: str = ".*"
    #: When set, answer with this status and error instead of running the request.
    status: int | None = None
    error_code: str = "UNKNOWN_EXCEPTION"
    message: str = "An unexpected error occurred."
    #: Delay before the request runs, in milliseconds.
    latency_ms: int = 0
    #: Run and commit the request, then close the connection without a response.
    drop_after_commit: bool = False
    #: How many more requests it applies to; None means until cleared.
    times: int | None = None
    #: How many matching requests to let through first (e.g. 1: fail the second composite
    #: call of a batch, its creates, rather than the first, its lookups).
    skip: int = 0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method.upper() == method.upper()) and bool(
            re.search(self.path, path)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "errorCode": self.error_code,
            "message": self.message,
            "latencyMs": self.latency_ms,
            "dropAfterCommit": self.drop_after_commit,
            "times": self.times,
            "skip": self.skip,
            "hits": self.hits,
        }


@dataclass
class FaultBook:
    faults: list[Fault] = field(default_factory=list)
    next_id: int = 1

    def add(self, **values: Any) -> Fault:
        re.compile(values.get("path", ".*"))  # reject a bad pattern when it is added
        fault = Fault(id=self.next_id, **values)
        self.next_id += 1
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first matching fault and use up one of its times."""
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()

    def remove(self, fault_id: int) -> bool:
        before = len(self.faults)
        self.faults = [f for f in self.faults if f.id != fault_id]
        return len(self.faults) < before
