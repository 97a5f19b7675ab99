"""The API budget: how much of the org's daily allocation salesync may use, and rationing."""

from __future__ import annotations

import dataclasses
import enum
import math

#: DESIGN §3: salesync may use half of the org's daily API allocation unless an admin says.
DEFAULT_SHARE = 0.5


class WorkKind(enum.StrEnum):
    """Kinds of Salesforce work, most important first (DESIGN §3 rationing order)."""

    ACTIVITY_LOGGING = "activity_logging"
    TASK_PUSH = "task_push"
    TASK_PULL = "task_pull"


@dataclasses.dataclass(frozen=True)
class Reserves:
    """Share of salesync's allowance each kind must leave for more important work."""

    task_push: float = 0.10
    task_pull: float = 0.20

    def __post_init__(self) -> None:
        if not 0 <= self.task_push <= self.task_pull < 1:
            raise ValueError("reserves must satisfy 0 <= task_push <= task_pull < 1")

    def for_kind(self, kind: WorkKind) -> float:
        """The share kept back from ``kind``; activity logging may use everything."""
        return {
            WorkKind.ACTIVITY_LOGGING: 0.0,
            WorkKind.TASK_PUSH: self.task_push,
            WorkKind.TASK_PULL: self.task_pull,
        }[kind]


@dataclasses.dataclass(frozen=True)
class Allow:
    """The work may spend its calls now."""


@dataclasses.dataclass(frozen=True)
class Defer:
    """The work waits (it is kept, never dropped); the reason is shown on Diagnostics."""

    reason: str


BudgetDecision = Allow | Defer


def allowance(daily_max: int, share: float = DEFAULT_SHARE) -> int:
    """Calls salesync may make in Salesforce's rolling 24 hours."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be above 0 and at most 1, not {share}")
    return math.floor(daily_max * share)


def budget_decision(
    used: int,
    daily_max: int,
    share: float,
    kind: WorkKind,
    *,
    calls: int = 1,
    org_used: int | None = None,
    reserves: Reserves = Reserves(),
) -> BudgetDecision:
    """Decide whether ``calls`` API calls of ``kind`` may run now.

    ``used`` is salesync's own calls in the rolling 24 hours, ``daily_max`` the org's
    allocation (DailyApiRequests.Max) and ``org_used`` the org's total use when known
    (Sforce-Limit-Info). Near the cap, task pull stops first, then task push; activity
    logging may use the allowance to the last call (DESIGN §3).
    """
    limit = allowance(daily_max, share)
    remaining = limit - used
    if org_used is not None:
        remaining = min(remaining, daily_max - org_used)
    keep_back = math.ceil(limit * reserves.for_kind(kind))
    if remaining - calls >= keep_back:
        return Allow()
    if remaining < calls and keep_back == 0:
        reason = f"API budget used up: {max(remaining, 0)} of {limit} calls left for salesync."
    else:
        reason = (
            f"API budget low: {max(remaining, 0)} of {limit} calls left for salesync; "
            f"{kind.value} waits so that {keep_back} stay for more important work."
        )
    return Defer(reason)
