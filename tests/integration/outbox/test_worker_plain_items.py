"""A handler that says ``plain_items`` is handed plain values; every other gets mapped rows."""

from __future__ import annotations

from collections.abc import Sequence

from salesync.runtime import Runtime
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus
from salesync.sync.worker import Worker
from tests.fixtures_sandbox import add_user


class _Reader:
    kinds: tuple[str, ...] = ("log_email",)
    max_batch: int = 10
    plain_items: bool = True

    def __init__(self, runtime: Runtime, *, crash: bool = False) -> None:
        self.runtime = runtime
        self.crash = crash
        self.seen: list[outbox.ClaimedItem] = []

    def process(self, items: Sequence[outbox.ClaimedItem]) -> None:
        self.seen.extend(items)
        if self.crash:
            raise RuntimeError("bug")
        with unit_of_work(self.runtime.sessions) as session:
            outbox.mark_done_many(session, [i.id for i in items], now=self.runtime.clock.now())


class _Writer:
    kinds: tuple[str, ...] = ("push_task",)
    max_batch: int = 10

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.seen: list[OutboxItem] = []

    def process(self, items: Sequence[OutboxItem]) -> None:
        self.seen.extend(items)
        with unit_of_work(self.runtime.sessions) as session:
            for item in items:
                outbox.mark_done(session.merge(item), now=self.runtime.clock.now())


def _enqueue(runtime: Runtime, kind: str, count: int) -> list[int]:
    user = add_user(runtime, f"{kind}@example.com")
    with unit_of_work(runtime.sessions) as session:
        items = [
            outbox.enqueue(
                session,
                team_id=user.team_id,
                user_id=user.id,
                kind=kind,
                subject_type="email" if kind == "log_email" else "task",
                subject_id=n,
                payload={"n": n},
                now=runtime.clock.now(),
            )
            for n in range(count)
        ]
        return [item.id for item in items]


def _statuses(runtime: Runtime, ids: list[int]) -> set[OutboxStatus]:
    with runtime.sessions() as session:
        return {session.get_one(OutboxItem, i).status for i in ids}


def test_each_handler_gets_the_items_it_asks_for_and_settles_them(runtime: Runtime) -> None:
    emails = _enqueue(runtime, "log_email", 3)
    tasks = _enqueue(runtime, "push_task", 2)
    reader, writer = _Reader(runtime), _Writer(runtime)

    assert Worker(runtime, [reader, writer]).drain() == 5

    assert [type(i) for i in reader.seen] == [outbox.ClaimedItem] * 3
    assert [(i.id, i.payload) for i in reader.seen] == [
        (item_id, {"n": n}) for n, item_id in enumerate(emails)
    ]
    assert [type(i) for i in writer.seen] == [OutboxItem] * 2
    assert _statuses(runtime, emails + tasks) == {OutboxStatus.DONE}


def test_plain_items_a_handler_crashed_on_go_back_to_the_queue(runtime: Runtime) -> None:
    emails = _enqueue(runtime, "log_email", 2)

    assert Worker(runtime, [_Reader(runtime, crash=True)]).drain(max_rounds=1) == 2

    with runtime.sessions() as session:
        rows = [session.get_one(OutboxItem, i) for i in emails]
        assert {(r.status, r.last_error_code, r.lease_owner) for r in rows} == {
            (OutboxStatus.PENDING, "INTERNAL_ERROR", None)
        }
