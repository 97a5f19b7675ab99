"""API versions, the resources list and `/limits` (API-FACTS §2.1, §2.9)."""

from __future__ import annotations

from typing import Any

from salesync.sandbox.call import Call
from salesync.sandbox.http import ApiResponse, Router, json_response

#: v40.0 (Summer '17) to v67.0 (Summer '26): API-FACTS §2.1.
OLDEST_VERSION, NEWEST_VERSION = 40, 67
SUPPORTED_VERSIONS = tuple(f"{major}.0" for major in range(OLDEST_VERSION, NEWEST_VERSION + 1))
_SEASONS = ("Summer", "Winter", "Spring")


def release_label(version: str) -> str:
    """Release name of an API version: three releases a year, v40.0 was Summer '17."""
    step = int(float(version)) - OLDEST_VERSION
    return f"{_SEASONS[step % 3]} '{17 + (step + 2) // 3}"


def versions_body() -> list[dict[str, str]]:
    return [
        {"label": release_label(v), "url": f"/services/data/v{v}", "version": v}
        for v in SUPPORTED_VERSIONS
    ]


def register(router: Router[Call]) -> None:
    router.add("GET", r"", get_resources)
    router.add("GET", r"/limits", get_limits)


def get_resources(call: Call, params: dict[str, str]) -> ApiResponse:
    names = ("sobjects", "query", "queryAll", "composite", "limits")
    return json_response(200, {name: call.url(f"/{name}") for name in names})


def _limit(maximum: int, remaining: int) -> dict[str, int]:
    return {"Max": maximum, "Remaining": remaining}


def get_limits(call: Call, params: dict[str, str]) -> ApiResponse:
    usage = call.org.usage
    now = call.org.clock.now()
    body: dict[str, Any] = {
        "DailyApiRequests": _limit(usage.daily_cap, max(0, usage.daily_cap - usage.used(now))),
        "DailyBulkApiBatches": _limit(15000, 15000),
        "DailyBulkV2QueryJobs": _limit(10000, 10000),
        "DailyAsyncApexExecutions": _limit(250000, 250000),
        "ConcurrentAsyncGetReportInstances": _limit(200, 200),
        "DataStorageMB": _limit(1024, 1024 - call.org.records.count("Task") // 500),
        "FileStorageMB": _limit(1024, 1024),
        "SingleEmail": _limit(5000, 5000),
    }
    return json_response(200, body)
