"""A rep can only point the server at SMTP hosts an admin set or allowed; an unreachable
server is reported the same way whatever the network said."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from salesync.errors import InvalidInput
from salesync.mail.errors import MailServerUnavailable
from salesync.mail.message import OutgoingEmail
from salesync.mail.smtp import SmtpMailer, SmtpSettings
from salesync.runtime import Runtime
from salesync.services import mail_accounts
from salesync.serving import ServerThread
from salesync.store.tables import SmtpAccount, User
from tests.integration.web.security_support import (
    CountingHasher,
    admin,
    app,
    counted_runtime,
    hasher,
    rep,
    server,
    signed_in_client,
)
from tests.support import FakeClock

__all__ = ["admin", "app", "hasher", "rep", "server"]


@pytest.fixture
def runtime(
    engine: Engine, tmp_path: Path, clock: FakeClock, hasher: CountingHasher
) -> Iterator[Runtime]:
    yield from counted_runtime(
        engine,
        tmp_path,
        clock,
        hasher,
        smtp_host="relay.team.example",
        smtp_port=587,
        allowed_outbound_hosts="smtp.allowed.example:587, *.mail.example",
    )


@pytest.fixture
def as_rep(server: ServerThread, rep: User) -> Iterator[httpx.Client]:
    with signed_in_client(server, rep) as client:
        yield client


def _smtp(host: str, port: int) -> dict[str, object]:
    return {"host": host, "port": port, "username": "", "starttls": False}


def _rows(runtime: Runtime) -> list[tuple[int | None, str, int]]:
    with runtime.sessions() as session:
        return [(r.user_id, r.host, r.port) for r in session.scalars(select(SmtpAccount))]


@pytest.mark.parametrize(
    ("host", "port"),
    [("10.0.0.7", 6379), ("127.0.0.1", 5432), ("smtp.allowed.example", 25), ("mail.example", 25)],
)
def test_a_reps_smtp_host_outside_the_allowed_list_is_refused(
    as_rep: httpx.Client, runtime: Runtime, host: str, port: int
) -> None:
    answer = as_rep.put("/api/v1/salesforce/smtp", json=_smtp(host, port))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == "host"
    assert _rows(runtime) == []


@pytest.mark.parametrize(
    ("host", "port"),
    [("smtp.allowed.example", 587), ("eu.mail.example", 465), ("relay.team.example", 587)],
)
def test_a_rep_may_use_an_allowed_or_admin_set_host(
    as_rep: httpx.Client, runtime: Runtime, rep: User, host: str, port: int
) -> None:
    answer = as_rep.put("/api/v1/salesforce/smtp", json=_smtp(host, port))
    assert answer.status_code == 204, answer.text
    assert _rows(runtime) == [(rep.id, host, port)]


def test_the_teams_server_set_by_an_admin_is_allowed_for_reps(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with signed_in_client(server, admin) as ada:
        team = ada.put("/api/v1/salesforce/team-smtp", json=_smtp("10.1.2.3", 2525))
        assert team.status_code == 204, team.text
    with signed_in_client(server, rep) as rex:
        assert rex.put("/api/v1/salesforce/smtp", json=_smtp("10.1.2.3", 2525)).status_code == 204
        assert rex.put("/api/v1/salesforce/smtp", json=_smtp("10.1.2.3", 22)).status_code == 422


def test_a_rep_cannot_set_the_teams_server(as_rep: httpx.Client) -> None:
    answer = as_rep.put("/api/v1/salesforce/team-smtp", json=_smtp("10.0.0.7", 25))
    assert answer.status_code == 403


def test_a_saved_host_no_longer_allowed_is_not_used(
    engine: Engine, tmp_path: Path, clock: FakeClock, runtime: Runtime, rep: User
) -> None:
    mail_accounts.save_smtp_account(
        runtime,
        rep,
        for_team=False,
        now=clock.now(),
        **_smtp("eu.mail.example", 465),
        password=None,
    )
    narrower = next(
        counted_runtime(engine, tmp_path, clock, CountingHasher(), allowed_outbound_hosts="")
    )
    with pytest.raises(InvalidInput) as caught:
        mail_accounts.smtp_settings_for(narrower, rep)
    assert caught.value.field == "host"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _send_error(host: str, port: int) -> str:
    mailer = SmtpMailer(SmtpSettings(host=host, port=port, timeout_seconds=2), "example.com")
    email = OutgoingEmail(
        from_address="a@example.com", to=["b@example.com"], subject="s", body_text="b"
    )
    with pytest.raises(MailServerUnavailable) as caught:
        mailer.send(email)
    return caught.value.message


def test_an_unreachable_server_is_reported_without_the_networks_answer() -> None:
    port = _closed_port()
    refused = _send_error("127.0.0.1", port)
    unknown = _send_error("no-such-host.invalid", 25)
    assert refused == f"The mail server 127.0.0.1:{port} cannot be reached"
    assert unknown == "The mail server no-such-host.invalid:25 cannot be reached"
