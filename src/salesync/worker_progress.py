"""What a worker started from the command line prints while it runs: a line whenever the queue
moves (items done, failed, waiting), so the terminal shows that it is working."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from salesync.runtime import Runtime
from salesync.store.tables import OutboxItem, OutboxStatus

#: Seconds between two looks at the queue.
REPORT_SECONDS = 10.0


def queue_counts(runtime: Runtime) -> dict[OutboxStatus, int]:
    """How many queue items are in each state, over the whole database."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
        ).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def progress_line(before: dict[OutboxStatus, int], after: dict[OutboxStatus, int]) -> str | None:
    """One line saying how the queue moved, or None when nothing changed."""
    if before == after:
        return None
    done = after[OutboxStatus.DONE] - before[OutboxStatus.DONE]
    failed = after[OutboxStatus.FAILED] - before[OutboxStatus.FAILED]
    waiting = after[OutboxStatus.PENDING] + after[OutboxStatus.IN_FLIGHT]
    paused = after[OutboxStatus.PAUSED]
    line = f"{done} sent to Salesforce, {failed} failed (see Diagnostics), {waiting} waiting"
    return line + (f", {paused} paused until their owner reconnects" if paused else "")


def report_progress(
    runtime: Runtime,
    stop: threading.Event,
    say: Callable[[str], None],
    every: float = REPORT_SECONDS,
) -> None:
    """Print a progress line every ``every`` seconds while the queue moves, until ``stop``."""
    before = queue_counts(runtime)
    while not stop.wait(every):
        try:
            after = queue_counts(runtime)
        except Exception as exc:  # the database went away: say so once per round, keep going
            say(f"cannot read the queue: {str(exc).splitlines()[0]}")
            continue
        line = progress_line(before, after)
        if line is not None:
            say(line)
        before = after
