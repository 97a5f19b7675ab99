"""A rep's new time zone applies to the very next logged Task's ActivityDate."""

from __future__ import annotations

from datetime import timedelta

from salesync.runtime import Runtime
from salesync.services import accounts
from salesync.store.db import unit_of_work
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.integration.logging.test_logging_api import contact, drain, send, tasks_for
from tests.support import FakeClock


def test_activity_date_follows_a_time_zone_change_at_once(
    runtime: Runtime, sandbox: Sandbox, live_clock: FakeClock
) -> None:
    rep = add_user(runtime, "rep1@salesync.test", tz="Pacific/Kiritimati")  # UTC+14
    connect(runtime, sandbox, rep, "rep1")
    first, second = contact(sandbox, 0), contact(sandbox, 1)
    send(runtime, rep, [first["Email"]])
    drain(runtime)
    with unit_of_work(runtime.sessions) as session:
        accounts.update_profile(session, rep.id, {"time_zone": "Pacific/Pago_Pago"})  # UTC-11
    send(runtime, rep, [second["Email"]])
    drain(runtime)
    now = live_clock.now()
    [early] = tasks_for(sandbox, first["Id"])
    [late] = tasks_for(sandbox, second["Id"])
    assert str(early["ActivityDate"]) == (now + timedelta(hours=14)).date().isoformat()
    assert str(late["ActivityDate"]) == (now - timedelta(hours=11)).date().isoformat()
