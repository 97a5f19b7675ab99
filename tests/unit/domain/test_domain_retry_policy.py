"""Retry decisions after a failed Salesforce call (DESIGN §3, spec 1.13)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.categories import ErrorCategory
from salesync.domain.retry_policy import (
    GIVE_UP_AFTER,
    LIMIT_RECHECK_AFTER,
    MAX_DELAY,
    GiveUp,
    PauseUntilReconnect,
    RetryAt,
    WaitForBudget,
    backoff_delay,
    decide_retry,
)

FIRST = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("attempts", "full"),
    [(1, 5), (2, 10), (3, 20), (4, 40), (10, 2560), (11, 3600), (12, 3600), (500, 3600)],
)
def test_backoff_doubles_from_5_seconds_up_to_an_hour(attempts: int, full: int) -> None:
    delay = backoff_delay(attempts, seed="item-1")
    assert full * 0.8 * SECOND <= delay <= full * SECOND


def test_backoff_is_deterministic_per_seed_and_spreads_seeds() -> None:
    assert backoff_delay(3, "a") == backoff_delay(3, "a")
    delays = {backoff_delay(3, f"item-{n}") for n in range(20)}
    assert len(delays) > 10


def test_backoff_refuses_zero_attempts() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0)


def test_intermittent_error_retries_after_the_backoff() -> None:
    now = FIRST + dt.timedelta(minutes=3)
    decision = decide_retry(ErrorCategory.INTERMITTENT, 4, FIRST, now, seed="x")
    assert decision == RetryAt(now + backoff_delay(4, "x"))


def test_intermittent_error_gives_up_72_hours_after_the_first_failure() -> None:
    decision = decide_retry(ErrorCategory.INTERMITTENT, 80, FIRST, FIRST + GIVE_UP_AFTER)
    assert isinstance(decision, GiveUp) and "72 hours" in decision.reason


def test_last_retry_is_not_scheduled_past_the_deadline() -> None:
    now = FIRST + GIVE_UP_AFTER - dt.timedelta(minutes=10)
    decision = decide_retry(ErrorCategory.INTERMITTENT, 30, FIRST, now)
    assert decision == RetryAt(FIRST + GIVE_UP_AFTER)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        (ErrorCategory.ACCESS_VALIDATION, GiveUp),
        (ErrorCategory.OTHER, GiveUp),
        (ErrorCategory.AUTHENTICATION, PauseUntilReconnect),
    ],
)
def test_non_intermittent_categories_stop_at_once(category: ErrorCategory, expected: type) -> None:
    decision = decide_retry(category, 1, FIRST, FIRST)
    assert isinstance(decision, expected)


@pytest.mark.parametrize("category", list(ErrorCategory))
def test_request_limit_exceeded_waits_for_budget_and_never_gives_up(
    category: ErrorCategory,
) -> None:
    now = FIRST + 10 * GIVE_UP_AFTER
    decision = decide_retry(category, 999, FIRST, now, error_code="REQUEST_LIMIT_EXCEEDED")
    assert decision == WaitForBudget(now + LIMIT_RECHECK_AFTER)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        decide_retry(ErrorCategory.INTERMITTENT, 1, dt.datetime(2024, 3, 1), FIRST)


@given(st.integers(1, 200), st.integers(0, 80 * 3600), st.text(max_size=8))
def test_intermittent_retries_are_in_the_future_within_bounds(
    attempts: int, elapsed: int, seed: str
) -> None:
    now = FIRST + elapsed * SECOND
    decision = decide_retry(ErrorCategory.INTERMITTENT, attempts, FIRST, now, seed=seed)
    if now >= FIRST + GIVE_UP_AFTER:
        assert isinstance(decision, GiveUp)
    else:
        assert isinstance(decision, RetryAt)
        assert now < decision.when <= min(now + MAX_DELAY, FIRST + GIVE_UP_AFTER)
