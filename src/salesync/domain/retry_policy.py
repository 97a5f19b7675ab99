"""What to do after a failed Salesforce call: retry when, give up, pause, or wait for budget."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from salesync.domain.categories import ErrorCategory
from salesync.domain.dates import require_aware

#: First retry delay for intermittent errors; it doubles per attempt.
BASE_DELAY = dt.timedelta(seconds=5)
#: Longest delay between two retries.
MAX_DELAY = dt.timedelta(hours=1)
#: DESIGN §3: intermittent errors retry up to 72 hours after the first failure.
GIVE_UP_AFTER = dt.timedelta(hours=72)
#: How long to wait before checking the API allowance again after REQUEST_LIMIT_EXCEEDED.
LIMIT_RECHECK_AFTER = dt.timedelta(minutes=15)
#: Delays are spread over [1 - JITTER, 1] of the backoff so retries of a batch don't align.
JITTER = 0.2
#: 1.13: the org is over its API limits (a 24-hour rolling window or concurrency).
LIMIT_ERROR_CODE = "REQUEST_LIMIT_EXCEEDED"


@dataclasses.dataclass(frozen=True)
class RetryAt:
    """Try again at ``when``."""

    when: dt.datetime


@dataclasses.dataclass(frozen=True)
class GiveUp:
    """Stop retrying; show on Diagnostics with the reason and a Retry button."""

    reason: str


@dataclasses.dataclass(frozen=True)
class PauseUntilReconnect:
    """The connection is broken: hold the rep's queue until they reconnect (CONN-10)."""

    reason: str = "The Salesforce connection must be reconnected."


@dataclasses.dataclass(frozen=True)
class WaitForBudget:
    """The API allowance is used up: hold the work until ``until``, then check again."""

    until: dt.datetime


RetryDecision = RetryAt | GiveUp | PauseUntilReconnect | WaitForBudget


def backoff_delay(attempts: int, seed: str = "") -> dt.timedelta:
    """Delay before retry number ``attempts`` (1 = after the first failure): 5 s doubling,
    capped at 1 h, shortened by up to 20 % by a jitter derived from ``seed`` (no randomness).
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    exponent = min(attempts - 1, 32)  # 5 s * 2**32 is far past the cap already
    full = min(BASE_DELAY * (1 << exponent), MAX_DELAY)
    return full * (1 - JITTER * _unit_fraction(f"{seed}:{attempts}"))


def decide_retry(
    category: ErrorCategory,
    attempts: int,
    first_failure_at: dt.datetime,
    now: dt.datetime,
    *,
    error_code: str | None = None,
    seed: str = "",
) -> RetryDecision:
    """Decide what follows a failure (DESIGN §3 "Retries and budget", spec 1.13).

    ``attempts`` counts the failed attempts so far (at least 1). REQUEST_LIMIT_EXCEEDED
    waits for budget and never gives up (nothing dropped). Intermittent errors back off
    until 72 h after the first failure, then give up. Access/Validation and Other give up
    at once; Authentication pauses until the rep reconnects.
    """
    require_aware(first_failure_at, "first_failure_at")
    require_aware(now, "now")
    if error_code == LIMIT_ERROR_CODE:
        return WaitForBudget(now + LIMIT_RECHECK_AFTER)
    if category is ErrorCategory.AUTHENTICATION:
        return PauseUntilReconnect()
    if category is ErrorCategory.ACCESS_VALIDATION:
        return GiveUp("Salesforce refused the change; it needs a fix in Salesforce, then Retry.")
    if category is ErrorCategory.OTHER:
        return GiveUp("Salesforce reported an unexpected error; it is not retried automatically.")
    deadline = first_failure_at + GIVE_UP_AFTER
    if now >= deadline:
        return GiveUp("Salesforce kept failing for 72 hours; retried automatically until then.")
    return RetryAt(min(now + backoff_delay(attempts, seed), deadline))


def _unit_fraction(text: str) -> float:
    """A number in [0, 1) that depends only on ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
