"""Sforce-Limit-Info parsing (API-FACTS §2.9 examples) and the in-memory sink."""

from __future__ import annotations

import pytest

from salesync.salesforce.limits import ApiUsage, LimitInfo, MemoryLimitsSink, parse_limit_info


@pytest.mark.parametrize(
    ("header", "info"),
    [
        ("api-usage=18/5000", LimitInfo(ApiUsage(18, 5000))),
        (
            "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
            LimitInfo(ApiUsage(25, 5000), {"sample-connected-app": ApiUsage(17, 250)}),
        ),
        (
            "api-usage=10018/100000; api-bursts=1/750",
            LimitInfo(ApiUsage(10018, 100000), other={"api-bursts": ApiUsage(1, 750)}),
        ),
        ("  api-usage = 3 / 15000 ;", LimitInfo(ApiUsage(3, 15000))),
        ("garbage; api-usage=x/y", LimitInfo(None)),
        ("", LimitInfo(None)),
    ],
)
def test_parse_limit_info(header: str, info: LimitInfo) -> None:
    assert parse_limit_info(header) == info


def test_usage_arithmetic() -> None:
    usage = ApiUsage(4_000, 5_000)
    assert usage.remaining == 1_000
    assert usage.fraction_used == pytest.approx(0.8)
    assert ApiUsage(6_000, 5_000).remaining == 0
    assert ApiUsage(0, 0).fraction_used == 1.0


def test_memory_sink_keeps_the_latest() -> None:
    sink = MemoryLimitsSink()
    assert sink.latest is None
    sink.record(parse_limit_info("api-usage=1/10"))
    sink.record(parse_limit_info("api-usage=2/10"))
    assert sink.records == 2
    assert sink.latest == LimitInfo(ApiUsage(2, 10))
