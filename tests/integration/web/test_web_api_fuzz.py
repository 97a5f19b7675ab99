"""Schemathesis against /api/v1, as a rep and as an admin: no input may cause a server error.

Sized for CI (a few examples per operation and role). For a longer hunt, raise the count:
``SALESYNC_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/integration/web/test_web_api_fuzz.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import Engine

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.store.tables import Role
from salesync.web import team_accounts
from salesync.web.app import create_app
from tests.integration.web.security_support import (
    CountingHasher,
    add_counted_user,
    counted_runtime,
)
from tests.support import FakeClock

FUZZ_EXAMPLES = int(os.environ.get("SALESYNC_FUZZ_EXAMPLES", "10"))


@pytest.fixture
def fuzzed(engine: Engine, tmp_path: Path, clock: FakeClock) -> Iterator[tuple[FastAPI, Runtime]]:
    runtime_iter = counted_runtime(engine, tmp_path, clock, CountingHasher())
    runtime = next(runtime_iter)
    app = create_app(runtime)
    # Email is "sent" in memory: an SMTP server that is not there is a 502 by design.
    mailer = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: mailer
    yield app, runtime
    runtime.close()


def _bearer(runtime: Runtime, role: Role) -> dict[str, str]:
    admin = add_counted_user(runtime, "ada@example.com", Role.ADMIN)
    rep = add_counted_user(runtime, "rex@example.com")
    caller = admin if role is Role.ADMIN else rep
    return {"Authorization": f"Bearer {team_accounts.create_token(runtime, caller, 'fuzz').secret}"}


@pytest.fixture
def rep_headers(fuzzed: tuple[FastAPI, Runtime]) -> dict[str, str]:
    return _bearer(fuzzed[1], Role.REP)


@pytest.fixture
def admin_headers(fuzzed: tuple[FastAPI, Runtime]) -> dict[str, str]:
    return _bearer(fuzzed[1], Role.ADMIN)


fuzz_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def _server_errors(app: FastAPI, headers: dict[str, str]) -> list[str]:
    """Fuzz every operation; returns one line per operation that answered 5xx."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    problems = []
    fuzzed = set()
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @fuzz_settings
        def fuzz(case: Any) -> None:
            fuzzed.add(case.operation.label)
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:  # a failed check: note it and fuzz the other operations
            problems.append(f"{operation.label}: {str(exc).strip().splitlines()[0]}")
    # Every operation of the API was called (a schema that failed to load would call none).
    spec = app.openapi()["paths"]
    assert fuzzed == {f"{method.upper()} {path}" for path, ops in spec.items() for method in ops}
    return problems


def test_no_input_from_a_rep_causes_a_server_error(
    fuzzed: tuple[FastAPI, Runtime], rep_headers: dict[str, str]
) -> None:
    assert _server_errors(fuzzed[0], rep_headers) == []


def test_no_input_from_an_admin_causes_a_server_error(
    fuzzed: tuple[FastAPI, Runtime], admin_headers: dict[str, str]
) -> None:
    assert _server_errors(fuzzed[0], admin_headers) == []
