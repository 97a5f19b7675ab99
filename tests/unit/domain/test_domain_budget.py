"""API budget share and rationing order (DESIGN §3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.budget import (
    DEFAULT_SHARE,
    Allow,
    Defer,
    Reserves,
    WorkKind,
    allowance,
    budget_decision,
)

LOGGING = WorkKind.ACTIVITY_LOGGING
PUSH = WorkKind.TASK_PUSH
PULL = WorkKind.TASK_PULL


def test_default_share_is_half_of_the_daily_allocation() -> None:
    assert DEFAULT_SHARE == 0.5
    assert allowance(15000) == 7500
    assert allowance(15001, 0.5) == 7500


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_share_must_be_a_fraction(share: float) -> None:
    with pytest.raises(ValueError):
        allowance(1000, share)


# Allowance 500 of 1000: pull keeps 100 back, push keeps 50 back, logging keeps none.
@pytest.mark.parametrize(
    ("used", "kind", "allowed"),
    [
        (0, PULL, True),
        (399, PULL, True),
        (400, PULL, False),
        (449, PUSH, True),
        (450, PUSH, False),
        (450, LOGGING, True),
        (499, LOGGING, True),
        (500, LOGGING, False),
        (700, LOGGING, False),
    ],
)
def test_rationing_order_near_the_cap(used: int, kind: WorkKind, allowed: bool) -> None:
    decision = budget_decision(used, 1000, 0.5, kind)
    assert isinstance(decision, Allow if allowed else Defer)


def test_defer_says_why() -> None:
    low = budget_decision(420, 1000, 0.5, PULL)
    assert isinstance(low, Defer) and "task_pull waits" in low.reason and "80 of 500" in low.reason
    out = budget_decision(500, 1000, 0.5, LOGGING)
    assert isinstance(out, Defer) and "used up" in out.reason


def test_several_calls_need_room_for_all_of_them() -> None:
    assert isinstance(budget_decision(495, 1000, 0.5, LOGGING, calls=5), Allow)
    assert isinstance(budget_decision(495, 1000, 0.5, LOGGING, calls=6), Defer)


def test_the_orgs_own_use_also_limits_salesync() -> None:
    decision = budget_decision(10, 1000, 0.5, LOGGING, org_used=1000)
    assert isinstance(decision, Defer)
    assert isinstance(budget_decision(10, 1000, 0.5, LOGGING, org_used=990), Allow)


def test_reserves_are_configurable_and_ordered() -> None:
    assert isinstance(budget_decision(400, 1000, 0.5, PULL, reserves=Reserves(0.0, 0.0)), Allow)
    with pytest.raises(ValueError):
        Reserves(task_push=0.3, task_pull=0.2)


@given(st.integers(0, 20000), st.integers(1, 20000), st.sampled_from([0.1, 0.5, 1.0]))
def test_a_kind_is_never_allowed_when_a_more_important_kind_is_deferred(
    used: int, daily_max: int, share: float
) -> None:
    order = [LOGGING, PUSH, PULL]
    allowed = [isinstance(budget_decision(used, daily_max, share, kind), Allow) for kind in order]
    assert allowed == sorted(allowed, reverse=True)
    if allowed[0]:
        assert used < allowance(daily_max, share)
