"""The Dovecot fixture for the mailbox sync tests, and a runtime that allows their servers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesync.runtime import Runtime
from tests.fixtures_imap import dovecot
from tests.fixtures_sandbox import Sandbox, build_runtime
from tests.support import FakeClock

__all__ = ["dovecot"]


@pytest.fixture
def runtime(engine: Engine, sandbox: Sandbox, tmp_path: Path, live_clock: FakeClock) -> Runtime:
    """Reps here use their own servers: the test Dovecot on this machine and a fake one."""
    built = build_runtime(engine, sandbox, tmp_path, live_clock)
    allowed = "127.0.0.1, imap.example.com:993"
    settings = built.settings.model_copy(update={"allowed_outbound_hosts": allowed})
    return dataclasses.replace(built, settings=settings)
