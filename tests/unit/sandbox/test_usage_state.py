"""The API-call accounting as the org file keeps it: what is pickled is what comes back."""

from __future__ import annotations

import json
import pickle
from collections import deque
from datetime import UTC, datetime, timedelta

from salesync.sandbox.usage import ApiUsage

START = datetime(2024, 3, 1, 12, tzinfo=UTC)


def used(calls: int) -> ApiUsage:
    usage = ApiUsage(daily_cap=500)
    for n in range(calls):
        usage.record(START + timedelta(seconds=n), f"rep{n % 3}@x.test", "GET", "/query", "")
    return usage


def test_a_pickled_usage_comes_back_equal_and_keeps_counting() -> None:
    usage = used(2100)  # past the 2,000 recent calls kept
    copy: ApiUsage = pickle.loads(pickle.dumps(usage))
    later = START + timedelta(hours=1)
    assert copy == usage
    assert copy.report(later) == usage.report(later)
    assert len(copy.report(later)["calls"]) == 2000
    copy.record(later, "rep9@x.test", "POST", "/composite", "app")
    again: ApiUsage = pickle.loads(pickle.dumps(copy))
    assert again.report(later)["calls"][-1] == {
        "at": "2024-03-01T13:00:00.000+0000",
        "user": "rep9@x.test",
        "method": "POST",
        "path": "/composite",
        "client": "app",
    }
    assert again.report(later) == copy.report(later)
    copy.reset()
    assert pickle.loads(pickle.dumps(copy)).report(later)["calls"] == []


def test_a_usage_pickled_with_its_calls_as_dicts_still_loads() -> None:
    usage = used(5)
    state = dict(usage.__dict__)
    # The layout before the calls were kept as texts: dicts.
    calls_as_dicts = deque(json.loads(text) for text in usage.recent)
    legacy = ApiUsage.__new__(ApiUsage)
    legacy.__setstate__({**state, "recent": calls_as_dicts})
    assert legacy.report(START) == usage.report(START)
    assert pickle.loads(pickle.dumps(legacy)).report(START) == usage.report(START)
